/**
 * `encodeMetricBatch`: a batch as `oxmon.MetricBatchProto` bytes, written by hand. The agent
 * sends these; protobufjs (the oracle, `shared/proto/`) writes the same bytes, which
 * `encode_batch_test.ts` checks. Why not protobufjs itself: it is a CommonJS npm package, and
 * loading it pulls Deno's Node compatibility layer into the agent, about 12 MB of resident
 * memory, a quarter of the agent's budget.
 */
import type { MetricBatch, MetricDataPoint, SystemInfo } from "../types.ts";
import { Writer } from "./_writer.ts";

/**
 * Encoded fields of points, by their strings. A round sends the same agent id, metric names and
 * labels as the last, and copying a field's bytes costs a fraction of encoding it character by
 * character, as the agent does interpreted: a host's 62-point round took 128 µs, now 33 µs
 * (`codec_bench.ts` with the agent's V8 flags, fastest runs). Kept: fields 2 and 3 (agent id and
 * metric name) by agent id and name, and each label's field-5 entry by key and value. Bounded:
 * strings over `MAX_CACHED_LENGTH` are encoded as they come, and a full cache starts over, so
 * ever-new label values cost memory only up to `MAX_CACHED_FIELDS`.
 */
const MAX_CACHED_FIELDS = 2048;
const MAX_CACHED_LENGTH = 128;
const seriesFields = new Map<string, Map<string, Uint8Array>>();
const labelFields = new Map<string, Map<string, Uint8Array>>();
let cachedFields = 0;

/** `encode`'s bytes for `first`, `second`, cached unless either string is long. */
function cached(
  cache: Map<string, Map<string, Uint8Array>>,
  first: string,
  second: string,
  encode: (writer: Writer) => void,
): Uint8Array {
  let bySecond = cache.get(first);
  let bytes = bySecond?.get(second);
  if (bytes) return bytes;
  const writer = new Writer(32 + 3 * (first.length + second.length));
  encode(writer);
  bytes = writer.finish();
  if (first.length > MAX_CACHED_LENGTH || second.length > MAX_CACHED_LENGTH) return bytes;
  if (cachedFields >= MAX_CACHED_FIELDS) {
    seriesFields.clear();
    labelFields.clear();
    cachedFields = 0;
    bySecond = undefined;
  }
  if (!bySecond) cache.set(first, bySecond = new Map());
  bySecond.set(second, bytes);
  cachedFields++;
  return bytes;
}

function writeDataPoint(writer: Writer, point: MetricDataPoint, timestamp: Uint8Array): void {
  // Field 1, the timestamp, encoded once per batch: the points of a round share it.
  writer.raw(timestamp);
  const { agentId, metricName } = point;
  writer.raw(cached(seriesFields, agentId, metricName, (fields) => {
    fields.string(2, agentId);
    fields.string(3, metricName);
  }));
  writer.double(4, point.value);
  const labels = point.labels;
  const keys = Object.keys(labels);
  // Indexed: the agent runs this interpreted, where for-of allocates an iterator result per key.
  for (let i = 0; i < keys.length; i++) {
    const key = keys[i];
    const value = labels[key];
    writer.raw(cached(labelFields, key, value, (fields) => {
      // A map<string, string> is a repeated entry message { key = 1; value = 2; }.
      const entry = fields.beginMessage(5);
      fields.string(1, key, { keepEmpty: true });
      fields.string(2, value, { keepEmpty: true });
      fields.endMessage(entry);
    }));
  }
}

function writeSystemInfo(writer: Writer, info: SystemInfo): void {
  writer.string(1, info.hostname);
  writer.string(2, info.os);
  writer.string(3, info.osVersion);
  writer.string(4, info.arch);
  writer.string(5, info.kernelVersion);
  writer.int32(6, info.cpuCores);
  writer.double(7, info.memoryGb);
  writer.double(8, info.diskGb);
}

/** Encodes `batch` as an `oxmon.MetricBatchProto`. */
export function encodeMetricBatch(batch: MetricBatch): Uint8Array {
  const writer = new Writer();
  writer.string(1, batch.agentId);
  writer.int64(2, batch.timestampMs);
  const points = batch.dataPoints;
  let timestampMs = NaN;
  let timestamp: Uint8Array = new Uint8Array(0);
  for (let i = 0; i < points.length; i++) {
    const point = points[i];
    if (point.timestampMs !== timestampMs) {
      timestampMs = point.timestampMs;
      timestamp = Writer.int64Field(1, timestampMs);
    }
    const start = writer.beginMessage(3);
    writeDataPoint(writer, point, timestamp);
    writer.endMessage(start);
  }
  if (batch.systemInfo) {
    const start = writer.beginMessage(4);
    writeSystemInfo(writer, batch.systemInfo);
    writer.endMessage(start);
  }
  return writer.finish();
}

/**
 * The `system_info` field (4) alone, as bytes to append to an encoded batch: protobuf merges
 * concatenated messages, so `batch + encodeSystemInfoField(info)` decodes as the batch with its
 * system info, without encoding the batch again.
 */
export function encodeSystemInfoField(info: SystemInfo): Uint8Array {
  const writer = new Writer();
  const start = writer.beginMessage(4);
  writeSystemInfo(writer, info);
  writer.endMessage(start);
  return writer.finish();
}
