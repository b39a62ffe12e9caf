/**
 * `decodeMetricBatch`, the ingest hot path's reader of `oxmon.MetricBatchProto`: plain objects,
 * no reader or message class per point, strings looked up in a small cache by their bytes
 * (`_string_cache.ts`).
 *
 * It yields what the generated protobufjs code (the oracle, `shared/proto/`) yields for every
 * message both accept — fields in any order, the last value wins, unknown fields and groups
 * skipped, map entries with a missing key or value get `""`, repeated `system_info` messages
 * merge — and refuses what protobufjs refuses. It is stricter in one place: a known field sent
 * with another wire type (the point's `value` as a length-delimited field) is refused, where
 * protobufjs skips it and the point would be stored with value 0. `decode_batch_test.ts` holds
 * it to all of that on thousands of random and mutated messages.
 */
import type { DecodedDataPoint, DecodedMetricBatch, DecodedSystemInfo } from "./messages.ts";
import {
  type Cursor,
  enter,
  type Fields,
  leave,
  located,
  otherField,
  readDouble,
  readInt32,
  readInt64,
  readTag,
  segmentOf,
  skipDelimited,
  WIRE_BYTES,
  WIRE_FIXED64,
  WIRE_VARINT,
  within,
} from "./_reader.ts";
import { readCachedString } from "./_string_cache.ts";

const BATCH_FIELDS: Fields = [
  ["", -1, ""],
  [".agent_id", WIRE_BYTES, "string"],
  [".timestamp_ms", WIRE_VARINT, "int64"],
  [".data_points", WIRE_BYTES, "message"],
  [".system_info", WIRE_BYTES, "message"],
];
const POINT_FIELDS: Fields = [
  ["", -1, ""],
  [".timestamp_ms", WIRE_VARINT, "int64"],
  [".agent_id", WIRE_BYTES, "string"],
  [".metric_name", WIRE_BYTES, "string"],
  [".value", WIRE_FIXED64, "double"],
  [".labels", WIRE_BYTES, "map entry"],
];
const ENTRY_FIELDS: Fields = [
  ["", -1, ""],
  [".key", WIRE_BYTES, "string"],
  [".value", WIRE_BYTES, "string"],
];
const SYSTEM_INFO_FIELDS: Fields = [
  ["", -1, ""],
  [".hostname", WIRE_BYTES, "string"],
  [".os", WIRE_BYTES, "string"],
  [".os_version", WIRE_BYTES, "string"],
  [".arch", WIRE_BYTES, "string"],
  [".kernel_version", WIRE_BYTES, "string"],
  [".cpu_cores", WIRE_VARINT, "int32"],
  [".memory_gb", WIRE_FIXED64, "double"],
  [".disk_gb", WIRE_FIXED64, "double"],
];

/** Unknown fields inside points, entries and system info are one message deep. */
const NESTED = 1;

// The decoders switch on whole tags (field number × 8 + wire type), a known field with its own
// wire type being one case; any other tag goes to `otherField`. `tag` is reset before each tag
// is read so that an error names the field it happened in. Kept small: readPoint must stay
// under V8's inlining limit (460 bytes of bytecode), it is 10% of the decode time otherwise.

function readPoint(at: Cursor, index: number): DecodedDataPoint {
  const outer = at.len;
  const point: DecodedDataPoint = {
    timestampMs: 0,
    agentId: "",
    metricName: "",
    value: 0,
    labels: null,
  };
  let tag = 0;
  let entries = 0;
  try {
    const end = enter(at);
    while (at.pos < end) {
      tag = 0;
      tag = readTag(at);
      switch (tag) {
        case 0x08: // 1 timestamp_ms, varint
          point.timestampMs = readInt64(at);
          continue;
        case 0x12: // 2 agent_id, length-delimited
          point.agentId = readCachedString(at);
          continue;
        case 0x1a: // 3 metric_name
          point.metricName = readCachedString(at);
          continue;
        case 0x21: // 4 value, fixed64
          point.value = readDouble(at);
          continue;
        case 0x2a: // 5 labels, map entries
          readLabel(at, point.labels ??= {}, entries++, end);
          continue;
      }
      otherField(at, tag, POINT_FIELDS, NESTED);
    }
    leave(at, end, outer);
  } catch (error) {
    within(error, `[${index}]${segmentOf(POINT_FIELDS, tag)}`);
  }
  return point;
}

/** One `map<string, string>` entry into `labels`; the last entry for a key wins. */
function readLabel(
  at: Cursor,
  labels: Record<string, string>,
  index: number,
  pointEnd: number,
): void {
  let key = "";
  let value = "";
  let tag = 0;
  try {
    const end = enter(at);
    while (at.pos < end) {
      tag = 0;
      tag = readTag(at);
      if (tag === 0x0a) key = readCachedString(at);
      else if (tag === 0x12) value = readCachedString(at);
      else otherField(at, tag, ENTRY_FIELDS, NESTED);
    }
    leave(at, end, pointEnd);
  } catch (error) {
    within(error, `[${index}]${segmentOf(ENTRY_FIELDS, tag)}`);
  }
  // An own property even for "__proto__", as protobufjs makes it (validation then refuses it).
  if (key === "__proto__") {
    Object.defineProperty(labels, key, {
      value,
      enumerable: true,
      configurable: true,
      writable: true,
    });
  } else labels[key] = value;
}

/** A `system_info` message; a repeated one merges into the one before, field by field. */
function readSystemInfo(at: Cursor, into: DecodedSystemInfo | null): DecodedSystemInfo {
  const outer = at.len;
  const info: DecodedSystemInfo = into ?? {
    hostname: "",
    os: "",
    osVersion: "",
    arch: "",
    kernelVersion: "",
    cpuCores: 0,
    memoryGb: 0,
    diskGb: 0,
  };
  let tag = 0;
  try {
    const end = enter(at);
    while (at.pos < end) {
      tag = 0;
      tag = readTag(at);
      switch (tag) {
        case 0x0a:
          info.hostname = readCachedString(at);
          continue;
        case 0x12:
          info.os = readCachedString(at);
          continue;
        case 0x1a:
          info.osVersion = readCachedString(at);
          continue;
        case 0x22:
          info.arch = readCachedString(at);
          continue;
        case 0x2a:
          info.kernelVersion = readCachedString(at);
          continue;
        case 0x30: // 6 cpu_cores, varint
          info.cpuCores = readInt32(at);
          continue;
        case 0x39: // 7 memory_gb, fixed64
          info.memoryGb = readDouble(at);
          continue;
        case 0x41: // 8 disk_gb, fixed64
          info.diskGb = readDouble(at);
          continue;
      }
      otherField(at, tag, SYSTEM_INFO_FIELDS, NESTED);
    }
    leave(at, end, outer);
  } catch (error) {
    within(error, segmentOf(SYSTEM_INFO_FIELDS, tag));
  }
  return info;
}

/**
 * Thrown by `decodeMetricBatch` for a batch with more points than `maxPoints`; `points` is how
 * many the batch holds.
 */
export class TooManyPointsError extends RangeError {
  readonly points: number;
  readonly maxPoints: number;
  constructor(points: number, maxPoints: number) {
    super(`batch.data_points: ${points} points, at most ${maxPoints} allowed`);
    this.name = "TooManyPointsError";
    this.points = points;
    this.maxPoints = maxPoints;
  }
}

export interface DecodeBatchOptions {
  /**
   * Points beyond this many are counted, not decoded, and the batch is refused with a
   * `TooManyPointsError`: a 16 MiB request of empty points is 8M of them, which took 1.6 s and
   * 600 MB of heap to decode before validation refused it. Default: no limit.
   */
  maxPoints?: number;
}

/**
 * Decodes an `oxmon.MetricBatchProto`; absent fields hold their proto3 defaults. Malformed bytes
 * throw a `RangeError` naming the field path, e.g.
 * `batch.data_points[3].value: wire type 2, expected 1 (double)`.
 */
export function decodeMetricBatch(
  bytes: Uint8Array,
  options: DecodeBatchOptions = {},
): DecodedMetricBatch {
  const maxPoints = options.maxPoints ?? Infinity;
  const at: Cursor = { buf: bytes, pos: 0, len: bytes.length };
  const batch: DecodedMetricBatch = {
    agentId: "",
    timestampMs: 0,
    dataPoints: [],
    systemInfo: null,
  };
  const points = batch.dataPoints;
  let skippedPoints = 0;
  let tag = 0;
  try {
    while (at.pos < at.len) {
      tag = 0;
      tag = readTag(at);
      switch (tag) {
        case 0x0a: // 1 agent_id
          batch.agentId = readCachedString(at);
          continue;
        case 0x10: // 2 timestamp_ms
          batch.timestampMs = readInt64(at);
          continue;
        case 0x1a: // 3 data_points
          if (points.length < maxPoints) points.push(readPoint(at, points.length));
          else {
            skipDelimited(at);
            skippedPoints++;
          }
          continue;
        case 0x22: // 4 system_info
          batch.systemInfo = readSystemInfo(at, batch.systemInfo);
          continue;
      }
      otherField(at, tag, BATCH_FIELDS, 0);
    }
  } catch (error) {
    located(error, "batch" + segmentOf(BATCH_FIELDS, tag));
  }
  if (skippedPoints > 0) throw new TooManyPointsError(points.length + skippedPoints, maxPoints);
  return batch;
}
