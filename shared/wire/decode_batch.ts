/**
 * `decodeMetricBatch`, the ingest hot path's reader of `oxmon.MetricBatchProto`: plain objects,
 * no reader or message class per point, strings looked up in a small cache by their bytes
 * (`_reader.ts`).
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
  leave,
  located,
  readCachedString,
  readDouble,
  readInt32,
  readInt64,
  readTag,
  skipDelimited,
  skipUnknown,
  WIRE_BYTES,
  WIRE_FIXED64,
  WIRE_VARINT,
  within,
  wrongWireType,
} from "./_reader.ts";

/** Path segments of each message's fields by field number, for error messages. */
const BATCH_FIELDS = ["", ".agent_id", ".timestamp_ms", ".data_points", ".system_info"];
const POINT_FIELDS = ["", ".timestamp_ms", ".agent_id", ".metric_name", ".value", ".labels"];
const ENTRY_FIELDS = ["", ".key", ".value"];
const SYSTEM_INFO_FIELDS = [
  "",
  ".hostname",
  ".os",
  ".os_version",
  ".arch",
  ".kernel_version",
  ".cpu_cores",
  ".memory_gb",
  ".disk_gb",
];

/** The segment of `field` in `names`; "" for a field the message does not know. */
function segment(names: readonly string[], field: number): string {
  return field < names.length ? names[field] : "";
}

/** Unknown fields inside points, entries and system info are one message deep. */
const NESTED = 1;

function readPoint(at: Cursor, index: number): DecodedDataPoint {
  const outer = at.len;
  const point: DecodedDataPoint = {
    timestampMs: 0,
    agentId: "",
    metricName: "",
    value: 0,
    labels: null,
  };
  let field = 0;
  let entries = 0;
  try {
    const end = enter(at);
    while (at.pos < end) {
      const tagAt = at.pos;
      field = 0;
      const tag = readTag(at);
      const wireType = tag & 7;
      field = tag >>> 3;
      switch (field) {
        case 1:
          if (wireType !== WIRE_VARINT) throw wrongWireType(wireType, WIRE_VARINT, "int64");
          point.timestampMs = readInt64(at);
          continue;
        case 2:
          if (wireType !== WIRE_BYTES) throw wrongWireType(wireType, WIRE_BYTES, "string");
          point.agentId = readCachedString(at);
          continue;
        case 3:
          if (wireType !== WIRE_BYTES) throw wrongWireType(wireType, WIRE_BYTES, "string");
          point.metricName = readCachedString(at);
          continue;
        case 4:
          if (wireType !== WIRE_FIXED64) throw wrongWireType(wireType, WIRE_FIXED64, "double");
          point.value = readDouble(at);
          continue;
        case 5:
          if (wireType !== WIRE_BYTES) throw wrongWireType(wireType, WIRE_BYTES, "map entry");
          readLabel(at, point.labels ??= {}, entries++, end);
          continue;
      }
      skipUnknown(at, wireType, field, NESTED, tagAt);
    }
    leave(at, end, outer);
  } catch (error) {
    within(error, `[${index}]${segment(POINT_FIELDS, field)}`);
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
  let field = 0;
  try {
    const end = enter(at);
    while (at.pos < end) {
      const tagAt = at.pos;
      field = 0;
      const tag = readTag(at);
      const wireType = tag & 7;
      field = tag >>> 3;
      if (field === 1) {
        if (wireType !== WIRE_BYTES) throw wrongWireType(wireType, WIRE_BYTES, "string");
        key = readCachedString(at);
      } else if (field === 2) {
        if (wireType !== WIRE_BYTES) throw wrongWireType(wireType, WIRE_BYTES, "string");
        value = readCachedString(at);
      } else skipUnknown(at, wireType, field, NESTED, tagAt);
    }
    leave(at, end, pointEnd);
  } catch (error) {
    within(error, `[${index}]${segment(ENTRY_FIELDS, field)}`);
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
  let field = 0;
  try {
    const end = enter(at);
    while (at.pos < end) {
      const tagAt = at.pos;
      field = 0;
      const tag = readTag(at);
      const wireType = tag & 7;
      field = tag >>> 3;
      if (field >= 1 && field <= 5) {
        if (wireType !== WIRE_BYTES) throw wrongWireType(wireType, WIRE_BYTES, "string");
        const text = readCachedString(at);
        if (field === 1) info.hostname = text;
        else if (field === 2) info.os = text;
        else if (field === 3) info.osVersion = text;
        else if (field === 4) info.arch = text;
        else info.kernelVersion = text;
      } else if (field === 6) {
        if (wireType !== WIRE_VARINT) throw wrongWireType(wireType, WIRE_VARINT, "int32");
        info.cpuCores = readInt32(at);
      } else if (field === 7 || field === 8) {
        if (wireType !== WIRE_FIXED64) throw wrongWireType(wireType, WIRE_FIXED64, "double");
        if (field === 7) info.memoryGb = readDouble(at);
        else info.diskGb = readDouble(at);
      } else skipUnknown(at, wireType, field, NESTED, tagAt);
    }
    leave(at, end, outer);
  } catch (error) {
    within(error, segment(SYSTEM_INFO_FIELDS, field));
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
  let field = 0;
  try {
    while (at.pos < at.len) {
      const tagAt = at.pos;
      field = 0;
      const tag = readTag(at);
      const wireType = tag & 7;
      field = tag >>> 3;
      switch (field) {
        case 1:
          if (wireType !== WIRE_BYTES) throw wrongWireType(wireType, WIRE_BYTES, "string");
          batch.agentId = readCachedString(at);
          continue;
        case 2:
          if (wireType !== WIRE_VARINT) throw wrongWireType(wireType, WIRE_VARINT, "int64");
          batch.timestampMs = readInt64(at);
          continue;
        case 3:
          if (wireType !== WIRE_BYTES) throw wrongWireType(wireType, WIRE_BYTES, "message");
          if (points.length < maxPoints) points.push(readPoint(at, points.length));
          else {
            skipDelimited(at);
            skippedPoints++;
          }
          continue;
        case 4:
          if (wireType !== WIRE_BYTES) throw wrongWireType(wireType, WIRE_BYTES, "message");
          batch.systemInfo = readSystemInfo(at, batch.systemInfo);
          continue;
      }
      skipUnknown(at, wireType, field, 0, tagAt);
    }
  } catch (error) {
    located(error, "batch" + segment(BATCH_FIELDS, field));
  }
  if (skippedPoints > 0) throw new TooManyPointsError(points.length + skippedPoints, maxPoints);
  return batch;
}
