/**
 * Test support for the wire protocol (`shared/wire/`): a writer able to write what a conforming
 * encoder would not, random `MetricBatchProto` messages (fields out of order, repeated, unknown,
 * mistyped, groups, odd values), random mutations of them, and the generated protobufjs code as
 * the oracle: its decode in a comparable form, and where our stricter decoder must differ.
 */
import protobuf from "protobufjs/minimal.js";
import { type IMetricBatchProto, MetricBatchProto } from "../../shared/proto/mod.ts";
import type { MetricBatch } from "../../shared/types.ts";
import { Random } from "./chunk_random.ts";

export { Random };

/** Wall clock the random timestamps are drawn around. */
export const NOW = Date.UTC(2026, 10, 27, 12, 0, 0);

export class Wire {
  readonly bytes: number[] = [];

  /** A varint of a BigInt or number (negatives as 64-bit); `padding` adds redundant groups. */
  varint(value: bigint | number, padding = 0): this {
    let rest = BigInt.asUintN(64, BigInt(value));
    while (rest >= 0x80n) {
      this.bytes.push(Number(rest & 0x7fn) | 0x80);
      rest >>= 7n;
    }
    for (let i = 0; i < padding; i++) {
      this.bytes.push(Number(rest) | 0x80);
      rest = 0n;
    }
    this.bytes.push(Number(rest));
    return this;
  }

  tag(field: number, wireType: number): this {
    return this.varint(field * 8 + wireType);
  }

  raw(bytes: ArrayLike<number>): this {
    for (let i = 0; i < bytes.length; i++) this.bytes.push(bytes[i]);
    return this;
  }

  delimited(field: number, body: ArrayLike<number>): this {
    return this.tag(field, 2).varint(body.length).raw(body);
  }

  string(field: number, text: string): this {
    return this.delimited(field, new TextEncoder().encode(text));
  }

  double(field: number, value: number): this {
    const bytes = new Uint8Array(8);
    new DataView(bytes.buffer).setFloat64(0, value, true);
    return this.tag(field, 1).raw(bytes);
  }

  finish(): Uint8Array {
    return Uint8Array.from(this.bytes);
  }
}

const NAMES = ["cpu.usage", "disk.used", "memory.used_percent", "x", "bad name", "", "9lives"];
const TEXTS = [
  "",
  "a",
  "/",
  "sda",
  "core",
  "__proto__",
  "constructor",
  "__x",
  "1",
  "ünïcødé",
  "日本語",
  "emoji 🙂",
  "\uFEFFbom",
  "tab\there",
  "x".repeat(47),
  "y".repeat(48),
  "z".repeat(49),
  "long ".repeat(40),
];
const AGENTS = ["web-01", "web-02", "db:1", "", "bad agent", "ü"];

export function randomText(rng: Random): string {
  if (rng.chance(0.8)) return rng.pick(TEXTS);
  let text = "";
  const length = rng.int(0, 70);
  for (let i = 0; i < length; i++) {
    text += String.fromCodePoint(
      rng.chance(0.9) ? rng.int(0x20, 0x7e) : rng.pick([0xe9, 0x3b1, 0x4e2d, 0x1f600, 0, 0x85]),
    );
  }
  return text;
}

function randomTimestamp(rng: Random): bigint {
  return rng.pick([
    () => BigInt(NOW - rng.int(0, 86_400_000)),
    () => 0n,
    () => BigInt(-rng.int(1, 1e9)),
    () => BigInt(rng.int(0, 0xffffffff)),
    () => (1n << 53n) + BigInt(rng.int(0, 10)),
    () => -(1n << 63n),
    () => (1n << 63n) - 1n,
    () => BigInt(NOW + rng.int(0, 3_600_000)),
  ])();
}

export function randomDouble(rng: Random): number {
  return rng.pick([
    () => rng.next() * 100,
    () => 0,
    () => -0,
    () => NaN,
    () => Infinity,
    () => -Infinity,
    () => Number.MAX_VALUE,
    () => 5e-324,
    () => -rng.next() * 1e300,
  ])();
}

/** An unknown field of any wire type, groups nested up to `depth`. */
function unknownField(rng: Random, wire: Wire, depth = 0): void {
  const field = rng.int(9, 40);
  switch (rng.int(0, depth > 2 ? 3 : 4)) {
    case 0:
      wire.tag(field, 0).varint(rng.int(0, 1e9), rng.chance(0.2) ? 2 : 0);
      break;
    case 1:
      wire.tag(field, 1).raw([1, 2, 3, 4, 5, 6, 7, 8]);
      break;
    case 2:
      wire.tag(field, 2).varint(3).raw([9, 9, 9]);
      break;
    case 3:
      wire.tag(field, 5).raw([1, 2, 3, 4]);
      break;
    default:
      wire.tag(field, 3);
      for (let i = rng.int(0, 2); i > 0; i--) unknownField(rng, wire, depth + 1);
      wire.tag(field, 4);
  }
}

/** A known field number sent with another wire type than `expected` (a well-formed one). */
function mistypedField(rng: Random, wire: Wire, field: number, expected: number): void {
  const wireType = rng.pick([0, 1, 2, 3, 5].filter((type) => type !== expected));
  if (wireType === 0) wire.tag(field, 0).varint(7);
  else if (wireType === 1) wire.tag(field, 1).raw([0, 0, 0, 0, 0, 0, 0, 0]);
  else if (wireType === 2) wire.tag(field, 2).varint(1).raw([65]);
  else if (wireType === 3) wire.tag(field, 3).tag(field, 4);
  else wire.tag(field, 5).raw([0, 0, 0, 0]);
}

/** Wire type of each known field: batch 1–4, point 1–5, entry 1–2, system info 1–8. */
const POINT_WIRE = [-1, 0, 2, 2, 1, 2];
const BATCH_WIRE = [-1, 2, 0, 2, 2];

function labelEntry(rng: Random, mistyped: number): Uint8Array {
  const entry = new Wire();
  const parts: (() => void)[] = [];
  if (rng.chance(0.9)) parts.push(() => entry.string(1, randomText(rng)));
  if (rng.chance(0.9)) parts.push(() => entry.string(2, randomText(rng)));
  if (rng.chance(0.1)) parts.push(() => unknownField(rng, entry));
  if (rng.chance(mistyped)) parts.push(() => mistypedField(rng, entry, rng.int(1, 2), 2));
  if (rng.chance(0.2)) parts.reverse();
  for (const part of parts) part();
  return entry.finish();
}

function pointBytes(rng: Random, mistyped: number): Uint8Array {
  const point = new Wire();
  const parts: (() => void)[] = [
    () => point.tag(1, 0).varint(randomTimestamp(rng), rng.chance(0.1) ? 1 : 0),
    () => point.string(2, rng.chance(0.9) ? "web-01" : rng.pick(AGENTS)),
    () => point.string(3, rng.chance(0.8) ? "cpu.usage" : rng.pick(NAMES)),
    () => point.double(4, randomDouble(rng)),
  ];
  for (let i = rng.int(0, 4); i > 0; i--) {
    parts.push(() => point.delimited(5, labelEntry(rng, mistyped)));
  }
  if (rng.chance(0.2)) parts.push(() => unknownField(rng, point));
  if (rng.chance(mistyped)) {
    parts.push(() => {
      const field = rng.int(1, 5);
      mistypedField(rng, point, field, POINT_WIRE[field]);
    });
  }
  if (rng.chance(0.1)) parts.push(parts[rng.int(0, 3)]);
  for (let i = parts.length - 1; i > 0 && rng.chance(0.5); i--) {
    const j = rng.int(0, i);
    [parts[i], parts[j]] = [parts[j], parts[i]];
  }
  for (const part of parts) if (rng.chance(0.95)) part();
  return point.finish();
}

function systemInfoBytes(rng: Random, mistyped: number): Uint8Array {
  const info = new Wire();
  for (let field = 1; field <= 5; field++) {
    if (rng.chance(0.7)) info.string(field, randomText(rng));
  }
  if (rng.chance(0.7)) info.tag(6, 0).varint(rng.pick([0, 4, -3, 2 ** 40, 0xffffffff]));
  if (rng.chance(0.7)) info.double(7, randomDouble(rng));
  if (rng.chance(0.7)) info.double(8, randomDouble(rng));
  if (rng.chance(0.2)) unknownField(rng, info);
  if (rng.chance(mistyped)) {
    const field = rng.int(1, 8);
    mistypedField(rng, info, field, field <= 5 ? 2 : field === 6 ? 0 : 1);
  }
  return info.finish();
}

/**
 * A random `MetricBatchProto` as bytes. `mistyped` is the chance, per message, of a known field
 * with the wrong wire type (which protobufjs skips and `decodeMetricBatch` refuses).
 */
export function randomBatchBytes(rng: Random, options: { mistyped?: number } = {}): Uint8Array {
  const mistyped = options.mistyped ?? 0.02;
  const batch = new Wire();
  const parts: (() => void)[] = [];
  if (rng.chance(0.95)) {
    parts.push(() => batch.string(1, rng.chance(0.9) ? "web-01" : rng.pick(AGENTS)));
  }
  if (rng.chance(0.8)) parts.push(() => batch.tag(2, 0).varint(randomTimestamp(rng)));
  for (let i = rng.int(0, 6); i > 0; i--) {
    parts.push(() => batch.delimited(3, pointBytes(rng, mistyped)));
  }
  for (let i = rng.int(0, 2); i > 0; i--) {
    parts.push(() => batch.delimited(4, systemInfoBytes(rng, mistyped)));
  }
  if (rng.chance(0.3)) parts.push(() => unknownField(rng, batch));
  if (rng.chance(mistyped)) {
    parts.push(() => {
      const field = rng.int(1, 4);
      mistypedField(rng, batch, field, BATCH_WIRE[field]);
    });
  }
  for (let i = parts.length - 1; i > 0 && rng.chance(0.3); i--) {
    const j = rng.int(0, i);
    [parts[i], parts[j]] = [parts[j], parts[i]];
  }
  for (const part of parts) part();
  return batch.finish();
}

/**
 * `bytes` damaged at random: cut short, bytes overwritten (often with 0x80, a varint that goes
 * on), inserted, deleted, or a run repeated.
 */
export function mutate(rng: Random, bytes: Uint8Array): Uint8Array {
  let out = Array.from(bytes);
  if (rng.chance(0.3) && out.length > 0) out = out.slice(0, rng.int(0, out.length - 1));
  for (let edits = rng.int(1, 3); edits > 0; edits--) {
    const at = rng.int(0, out.length);
    switch (rng.int(0, 4)) {
      case 0:
      case 1:
        if (at < out.length) out[at] = rng.chance(0.5) ? rng.int(0, 255) : 0x80;
        break;
      case 2:
        out.splice(at, 0, rng.int(0, 255));
        break;
      case 3:
        out.splice(at, 1);
        break;
      default:
        out.splice(at, 0, ...out.slice(at, at + rng.int(1, 8)));
    }
  }
  return Uint8Array.from(out);
}

/** A random batch as the agent builds it, for the encoder. */
export function randomBatch(rng: Random): MetricBatch {
  const agentId = rng.chance(0.9) ? "web-01" : randomText(rng);
  const timestampMs = rng.pick([
    () => NOW - rng.int(0, 1e9),
    () => 0,
    () => -rng.int(1, 1e12),
    () => rng.int(0, 2 ** 53 - 1),
    () => -(2 ** 53 - 1),
  ])();
  const dataPoints = Array.from({ length: rng.int(0, 40) }, () => {
    const labels: Record<string, string> = {};
    for (let i = rng.int(0, 4); i > 0; i--) labels[randomText(rng)] = randomText(rng);
    return {
      timestampMs: rng.chance(0.9) ? timestampMs : rng.int(-1e12, 1e13),
      agentId: rng.chance(0.9) ? agentId : randomText(rng),
      metricName: rng.chance(0.7) ? rng.pick(NAMES) : randomText(rng),
      value: randomDouble(rng),
      labels,
    };
  });
  const batch: MetricBatch = { agentId, timestampMs, dataPoints };
  if (rng.chance(0.3)) {
    batch.systemInfo = {
      hostname: randomText(rng),
      os: randomText(rng),
      osVersion: randomText(rng),
      arch: randomText(rng),
      kernelVersion: randomText(rng),
      cpuCores: rng.pick([
        0,
        1,
        64,
        -1,
        2 ** 31 - 1,
        -(2 ** 31),
        2 ** 31,
        2 ** 32 + 5,
        rng.int(0, 4096),
      ]),
      memoryGb: randomDouble(rng),
      diskGb: randomDouble(rng),
    };
  }
  return batch;
}

/**
 * protobufjs's decode, with one artefact removed: the generated prototypes default int64 fields
 * to a `Long` zero, built before `shared/proto/mod.ts` turns `Long` off, so an absent timestamp
 * reads as an object. Absent is 0.
 */
export function oracleDecode(bytes: Uint8Array): IMetricBatchProto {
  const batch = MetricBatchProto.decode(bytes);
  const plain = (value: unknown) => typeof value === "number" ? value : 0;
  return {
    ...batch,
    timestampMs: plain(batch.timestampMs),
    systemInfo: batch.systemInfo,
    dataPoints: batch.dataPoints?.map((point) => ({
      agentId: point.agentId,
      metricName: point.metricName,
      value: point.value,
      labels: point.labels,
      timestampMs: plain(point.timestampMs),
    })),
  };
}

/** A decoded batch in one comparable form: proto3 defaults filled in, label order kept. */
export function normalize(batch: IMetricBatchProto) {
  const info = batch.systemInfo;
  return {
    agentId: batch.agentId ?? "",
    timestampMs: batch.timestampMs ?? 0,
    dataPoints: (batch.dataPoints ?? []).map((point) => ({
      timestampMs: point.timestampMs ?? 0,
      agentId: point.agentId ?? "",
      metricName: point.metricName ?? "",
      value: point.value ?? 0,
      labels: Object.entries(point.labels ?? {}),
    })),
    systemInfo: info == null ? null : {
      hostname: info.hostname || "",
      os: info.os || "",
      osVersion: info.osVersion || "",
      arch: info.arch || "",
      kernelVersion: info.kernelVersion || "",
      cpuCores: info.cpuCores ?? 0,
      memoryGb: info.memoryGb ?? 0,
      diskGb: info.diskGb ?? 0,
    },
  };
}

interface FieldSpec {
  name: string;
  wireType: number;
  type: string;
  message?: Record<number, FieldSpec>;
  /** A repeated message field: its path carries the occurrence's index. */
  indexed?: boolean;
}

const ENTRY: Record<number, FieldSpec> = {
  1: { name: "key", wireType: 2, type: "string" },
  2: { name: "value", wireType: 2, type: "string" },
};
const POINT: Record<number, FieldSpec> = {
  1: { name: "timestamp_ms", wireType: 0, type: "int64" },
  2: { name: "agent_id", wireType: 2, type: "string" },
  3: { name: "metric_name", wireType: 2, type: "string" },
  4: { name: "value", wireType: 1, type: "double" },
  5: { name: "labels", wireType: 2, type: "map entry", message: ENTRY, indexed: true },
};
const SYSTEM_INFO: Record<number, FieldSpec> = {
  1: { name: "hostname", wireType: 2, type: "string" },
  2: { name: "os", wireType: 2, type: "string" },
  3: { name: "os_version", wireType: 2, type: "string" },
  4: { name: "arch", wireType: 2, type: "string" },
  5: { name: "kernel_version", wireType: 2, type: "string" },
  6: { name: "cpu_cores", wireType: 0, type: "int32" },
  7: { name: "memory_gb", wireType: 1, type: "double" },
  8: { name: "disk_gb", wireType: 1, type: "double" },
};
const BATCH: Record<number, FieldSpec> = {
  1: { name: "agent_id", wireType: 2, type: "string" },
  2: { name: "timestamp_ms", wireType: 0, type: "int64" },
  3: { name: "data_points", wireType: 2, type: "message", message: POINT, indexed: true },
  4: { name: "system_info", wireType: 2, type: "message", message: SYSTEM_INFO },
};

/**
 * Where a strict decoder must refuse bytes that protobufjs accepts: the first known field, in
 * reading order, sent with another wire type than its declared one, as the message
 * `decodeMetricBatch` gives (`batch.data_points[3].value: wire type 2, expected 1 (double)`);
 * undefined when there is none. Read with protobufjs's own `Reader`, not ours, and only
 * meaningful for bytes protobufjs decodes.
 */
export function firstMistypedField(bytes: Uint8Array): string | undefined {
  const reader = protobuf.Reader.create(bytes);
  const walk = (
    end: number,
    fields: Record<number, FieldSpec>,
    path: string,
    depth: number,
  ): string | undefined => {
    const seen = new Map<number, number>();
    while (reader.pos < end) {
      const tag = reader.uint32();
      const field = tag >>> 3;
      const wireType = tag & 7;
      const spec = fields[field];
      if (!spec) {
        reader.skipType(wireType, depth, field);
        continue;
      }
      const fieldPath = `${path}.${spec.name}`;
      if (wireType !== spec.wireType) {
        return `${fieldPath}: wire type ${wireType}, expected ${spec.wireType} (${spec.type})`;
      }
      if (!spec.message) {
        reader.skipType(wireType, depth, field);
        continue;
      }
      const index = seen.get(field) ?? 0;
      seen.set(field, index + 1);
      const length = reader.uint32();
      const messageEnd = reader.pos + length;
      const inner = walk(
        messageEnd,
        spec.message,
        spec.indexed ? `${fieldPath}[${index}]` : fieldPath,
        1,
      );
      if (inner) return inner;
      reader.pos = messageEnd;
    }
    return undefined;
  };
  return walk(bytes.length, BATCH, "batch", 0);
}
