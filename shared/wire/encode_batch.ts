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
 * Encoded strings by value. Agent ids, metric names and label keys and values are the same
 * every round, and copying their bytes costs a fraction of encoding them character by
 * character, as the agent does interpreted: a host's 62-point round took 128 µs, now 49 µs
 * (`codec_bench.ts` with the agent's V8 flags, fastest runs). Bounded: strings over
 * `MAX_CACHED_LENGTH` are not kept, and a full cache starts over, so ever-new label values cost
 * memory only up to the bound.
 */
const MAX_CACHED_STRINGS = 2048;
const MAX_CACHED_LENGTH = 128;
const encodedStrings = new Map<string, Uint8Array>();

/** Writes a string field through the cache; empty strings too (map entries keep them). */
function writeCachedString(writer: Writer, field: number, value: string): void {
  let content = encodedStrings.get(value);
  if (content === undefined) {
    if (value.length > MAX_CACHED_LENGTH) return writer.string(field, value, { keepEmpty: true });
    if (encodedStrings.size >= MAX_CACHED_STRINGS) encodedStrings.clear();
    content = Writer.lengthDelimited(value);
    encodedStrings.set(value, content);
  }
  writer.encoded(field, content);
}

function writeDataPoint(writer: Writer, point: MetricDataPoint, timestamp: Uint8Array): void {
  // Field 1, the timestamp, encoded once per batch: the points of a round share it.
  writer.raw(timestamp);
  if (point.agentId !== "") writeCachedString(writer, 2, point.agentId);
  if (point.metricName !== "") writeCachedString(writer, 3, point.metricName);
  writer.double(4, point.value);
  const labels = point.labels;
  const keys = Object.keys(labels);
  // Indexed: the agent runs this interpreted, where for-of allocates an iterator result per key.
  for (let i = 0; i < keys.length; i++) {
    const key = keys[i];
    // A map<string, string> is a repeated entry message { key = 1; value = 2; }.
    const entry = writer.beginMessage(5);
    writeCachedString(writer, 1, key);
    writeCachedString(writer, 2, labels[key]);
    writer.endMessage(entry);
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
