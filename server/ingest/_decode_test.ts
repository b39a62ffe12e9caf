/**
 * `decodeMetricBatch` against the protobufjs generated code it replaces: on random messages, on
 * hand-built wire bytes (fields out of order, repeated, with unexpected wire types, unknown
 * fields and groups, map entries missing key or value, non-canonical varints) and on corrupted
 * bytes, both must decode the same batch — and `validateBatch` must then say the same — or
 * both must fail with the same message.
 */
import assert from "node:assert/strict";
import type { IMetricBatchProto, IMetricDataPointProto } from "../../shared/proto/mod.ts";
import { MetricBatchProto } from "../../shared/proto/mod.ts";
import { DEFAULT_INGEST_LIMITS } from "../config.ts";
import { decodeMetricBatch, TooManyPointsError } from "./_decode.ts";
import { BatchValidationError, validateBatch } from "./validate.ts";

const NOW = Date.UTC(2026, 10, 27, 12, 0, 0);

/** mulberry32: reproducible runs; a failure names its seed. */
function random(seed: number) {
  let state = seed >>> 0;
  const next = () => {
    let t = (state = (state + 0x6d2b79f5) >>> 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const int = (min: number, max: number) => min + Math.floor(next() * (max - min + 1));
  return {
    next,
    int,
    chance: (p: number) => next() < p,
    pick: <T>(items: readonly T[]): T => items[int(0, items.length - 1)],
  };
}
type Random = ReturnType<typeof random>;

/** Both decoders' results in one comparable form: proto3 defaults filled in, key order kept. */
function normalize(batch: IMetricBatchProto) {
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

type Outcome =
  | { ok: true; value: unknown }
  | { ok: false; error: string };

function outcome(run: () => unknown): Outcome {
  try {
    return { ok: true, value: run() };
  } catch (error) {
    return { ok: false, error: `${(error as Error).name}: ${(error as Error).message}` };
  }
}

/**
 * protobufjs's decode, with one artefact removed: the generated prototypes default int64 fields
 * to a `Long` zero, built before `shared/proto/mod.ts` turns `Long` off, so an absent timestamp
 * reads as an object (which `validateBatch` would refuse with an odd message). Absent is 0.
 */
function protobufjsDecode(bytes: Uint8Array): IMetricBatchProto {
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

/** Decodes with both and checks they agree, then that validation agrees. */
function assertSameAsProtobufjs(bytes: Uint8Array, context: string): void {
  const expected = outcome(() => protobufjsDecode(bytes));
  const actual = outcome(() => decodeMetricBatch(bytes));
  if (!expected.ok || !actual.ok) {
    assert.deepEqual(actual, expected, context);
    return;
  }
  const theirs = expected.value as IMetricBatchProto;
  const ours = actual.value as IMetricBatchProto;
  assert.deepEqual(normalize(ours), normalize(theirs), context);
  assert.deepEqual(
    outcome(() => validateBatch(ours, DEFAULT_INGEST_LIMITS, NOW, 7)),
    outcome(() => validateBatch(theirs, DEFAULT_INGEST_LIMITS, NOW, 7)),
    context,
  );
}

// --- A small wire writer, able to write what a conforming encoder would not. ---

class Wire {
  readonly bytes: number[] = [];

  /** A varint of a non-negative BigInt or number; `padding` adds redundant 0x80 groups. */
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
  "x".repeat(47),
  "y".repeat(48),
  "z".repeat(49),
  "long ".repeat(40),
];
const AGENTS = ["web-01", "web-02", "db:1", "", "bad agent", "ü"];

function randomText(rng: Random): string {
  if (rng.chance(0.8)) return rng.pick(TEXTS);
  let text = "";
  const length = rng.int(0, 70);
  for (let i = 0; i < length; i++) {
    text += String.fromCodePoint(
      rng.chance(0.9) ? rng.int(0x20, 0x7e) : rng.pick([0xe9, 0x3b1, 0x4e2d, 0x1f600, 0]),
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

function randomDouble(rng: Random): number {
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
  const field = rng.int(6, 40);
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

/** A field of a known number but the wrong wire type: protobufjs skips it as unknown. */
function mistypedField(rng: Random, wire: Wire, field: number, expected: number): void {
  const wireType = rng.pick([0, 1, 2, 5].filter((type) => type !== expected));
  if (wireType === 0) wire.tag(field, 0).varint(7);
  else if (wireType === 1) wire.tag(field, 1).raw([0, 0, 0, 0, 0, 0, 0, 0]);
  else if (wireType === 2) wire.tag(field, 2).varint(1).raw([65]);
  else wire.tag(field, 5).raw([0, 0, 0, 0]);
}

function labelEntry(rng: Random): Uint8Array {
  const entry = new Wire();
  const parts: (() => void)[] = [];
  if (rng.chance(0.9)) parts.push(() => entry.string(1, randomText(rng)));
  if (rng.chance(0.9)) parts.push(() => entry.string(2, randomText(rng)));
  if (rng.chance(0.1)) parts.push(() => unknownField(rng, entry));
  if (rng.chance(0.05)) parts.push(() => mistypedField(rng, entry, 1, 2));
  if (rng.chance(0.2)) parts.reverse();
  for (const part of parts) part();
  return entry.finish();
}

function pointBytes(rng: Random): Uint8Array {
  const point = new Wire();
  const parts: (() => void)[] = [
    () => point.tag(1, 0).varint(randomTimestamp(rng), rng.chance(0.1) ? 1 : 0),
    () => point.string(2, rng.chance(0.9) ? "web-01" : rng.pick(AGENTS)),
    () => point.string(3, rng.chance(0.8) ? "cpu.usage" : rng.pick(NAMES)),
    () => point.double(4, randomDouble(rng)),
  ];
  for (let i = rng.int(0, 4); i > 0; i--) {
    parts.push(() => point.delimited(5, labelEntry(rng)));
  }
  if (rng.chance(0.2)) parts.push(() => unknownField(rng, point));
  if (rng.chance(0.1)) parts.push(() => mistypedField(rng, point, rng.int(1, 5), 9));
  if (rng.chance(0.1)) parts.push(parts[rng.int(0, 3)]);
  for (let i = parts.length - 1; i > 0 && rng.chance(0.5); i--) {
    const j = rng.int(0, i);
    [parts[i], parts[j]] = [parts[j], parts[i]];
  }
  for (const part of parts) if (rng.chance(0.95)) part();
  return point.finish();
}

function systemInfoBytes(rng: Random): Uint8Array {
  const info = new Wire();
  for (let field = 1; field <= 5; field++) {
    if (rng.chance(0.7)) info.string(field, randomText(rng));
  }
  if (rng.chance(0.7)) info.tag(6, 0).varint(rng.pick([0, 4, -3, 2 ** 40, 0xffffffff]));
  if (rng.chance(0.7)) info.double(7, randomDouble(rng));
  if (rng.chance(0.7)) info.double(8, randomDouble(rng));
  if (rng.chance(0.2)) unknownField(rng, info);
  return info.finish();
}

function batchBytes(rng: Random): Uint8Array {
  const batch = new Wire();
  const parts: (() => void)[] = [];
  if (rng.chance(0.95)) {
    parts.push(() => batch.string(1, rng.chance(0.9) ? "web-01" : rng.pick(AGENTS)));
  }
  if (rng.chance(0.8)) parts.push(() => batch.tag(2, 0).varint(randomTimestamp(rng)));
  for (let i = rng.int(0, 6); i > 0; i--) parts.push(() => batch.delimited(3, pointBytes(rng)));
  for (let i = rng.int(0, 2); i > 0; i--) {
    parts.push(() => batch.delimited(4, systemInfoBytes(rng)));
  }
  if (rng.chance(0.3)) parts.push(() => unknownField(rng, batch));
  if (rng.chance(0.1)) parts.push(() => mistypedField(rng, batch, rng.int(1, 4), 9));
  for (let i = parts.length - 1; i > 0 && rng.chance(0.3); i--) {
    const j = rng.int(0, i);
    [parts[i], parts[j]] = [parts[j], parts[i]];
  }
  for (const part of parts) part();
  return batch.finish();
}

Deno.test("decodeMetricBatch decodes what protobufjs encodes, as protobufjs decodes it", () => {
  const dataPoints: IMetricDataPointProto[] = [];
  for (let i = 0; i < 200; i++) {
    dataPoints.push({
      timestampMs: NOW - i * 1_000,
      agentId: i % 7 === 0 ? "" : "web-01",
      metricName: i % 3 === 0 ? "disk.used" : "cpu.core_usage",
      value: i % 5 === 0 ? 0 : i / 7,
      labels: i % 4 === 0
        ? {} as Record<string, string>
        : { core: String(i % 9), mount: i % 2 ? "/" : "/home" },
    });
  }
  const batch = {
    agentId: "web-01",
    timestampMs: NOW,
    dataPoints,
    systemInfo: { hostname: "web-01", os: "Linux", cpuCores: 8, memoryGb: 15.5 },
  };
  const bytes = MetricBatchProto.encode(batch).finish();
  assertSameAsProtobufjs(bytes, "a typical batch");
  const decoded = decodeMetricBatch(bytes);
  assert.equal(decoded.dataPoints!.length, 200);
  assert.deepEqual(decoded.dataPoints![1], {
    timestampMs: NOW - 1_000,
    agentId: "web-01",
    metricName: "cpu.core_usage",
    value: 1 / 7,
    labels: { core: "1", mount: "/" },
  });
});

Deno.test("decodeMetricBatch agrees with protobufjs on edge cases", async (t) => {
  const cases: Record<string, Uint8Array> = {
    "empty message": new Uint8Array(0),
    "fields in reverse order": new Wire()
      .delimited(3, new Wire().double(4, 1.5).string(3, "cpu.usage").tag(1, 0).varint(NOW).finish())
      .tag(2, 0).varint(NOW).string(1, "web-01").finish(),
    "last value wins": new Wire().string(1, "a").string(1, "web-01")
      .delimited(3, new Wire().string(3, "x").string(3, "cpu.usage").tag(1, 0).varint(NOW).finish())
      .finish(),
    "map entry without key": new Wire().string(1, "web-01")
      .delimited(
        3,
        new Wire().string(3, "m").delimited(5, new Wire().string(2, "v").finish()).finish(),
      )
      .finish(),
    "map entry without value": new Wire().string(1, "web-01")
      .delimited(
        3,
        new Wire().string(3, "m").delimited(5, new Wire().string(1, "k").finish()).finish(),
      )
      .finish(),
    "empty map entry": new Wire().string(1, "web-01")
      .delimited(3, new Wire().string(3, "m").delimited(5, []).finish()).finish(),
    "duplicate label keys": new Wire().string(1, "web-01").delimited(
      3,
      new Wire().string(3, "m").tag(1, 0).varint(NOW)
        .delimited(5, new Wire().string(1, "b").string(2, "1").finish())
        .delimited(5, new Wire().string(1, "a").string(2, "2").finish())
        .delimited(5, new Wire().string(1, "b").string(2, "3").finish()).finish(),
    ).finish(),
    "__proto__ label": new Wire().string(1, "web-01").delimited(
      3,
      new Wire().string(3, "m").tag(1, 0).varint(NOW)
        .delimited(5, new Wire().string(1, "__proto__").string(2, "x").finish()).finish(),
    ).finish(),
    "negative timestamp": new Wire().string(1, "web-01")
      .delimited(3, new Wire().string(3, "m").tag(1, 0).varint(-5n).finish()).finish(),
    "timestamp beyond 2^53": new Wire().string(1, "web-01")
      .delimited(3, new Wire().string(3, "m").tag(1, 0).varint((1n << 60n) + 1n).finish()).finish(),
    "ten-byte varint with high garbage": new Wire().string(1, "web-01").delimited(
      3,
      new Wire().string(3, "m").tag(1, 0).raw([
        0x80,
        0x80,
        0x80,
        0x80,
        0x80,
        0x80,
        0x80,
        0x80,
        0x80,
        0x7f,
      ])
        .finish(),
    ).finish(),
    "eleven-byte varint": new Wire().string(1, "web-01").delimited(
      3,
      new Wire().string(3, "m").tag(1, 0).raw([
        0xff,
        0xff,
        0xff,
        0xff,
        0xff,
        0xff,
        0xff,
        0xff,
        0xff,
        0xff,
        1,
      ])
        .finish(),
    ).finish(),
    "padded length prefix": new Wire().tag(1, 2).varint(6, 2).raw(
      new TextEncoder().encode("web-01"),
    )
      .finish(),
    "-0 value and NaN value": new Wire().string(1, "web-01")
      .delimited(3, new Wire().string(3, "m").double(4, -0).finish())
      .delimited(3, new Wire().string(3, "m").double(4, NaN).finish()).finish(),
    "system info twice merges": new Wire().string(1, "web-01")
      .delimited(4, new Wire().string(1, "host").tag(6, 0).varint(4).double(7, 2).finish())
      .delimited(3, new Wire().string(3, "m").tag(1, 0).varint(NOW).finish())
      .delimited(4, new Wire().string(2, "Linux").string(1, "").finish()).finish(),
    "empty system info": new Wire().string(1, "web-01").delimited(4, []).finish(),
    "negative cpu_cores": new Wire().string(1, "web-01")
      .delimited(4, new Wire().tag(6, 0).varint(-3n).finish()).finish(),
    "cpu_cores beyond int32": new Wire().string(1, "web-01")
      .delimited(4, new Wire().tag(6, 0).varint(2n ** 40n + 5n).finish()).finish(),
    "data_points with the wrong wire type": new Wire().string(1, "web-01").tag(3, 0).varint(1)
      .finish(),
    "unknown group": new Wire().string(1, "web-01").tag(9, 3).tag(10, 0).varint(1).tag(9, 4)
      .finish(),
    "group with the wrong end": new Wire().tag(9, 3).tag(8, 4).finish(),
    "end group without start": new Wire().tag(9, 4).finish(),
    "field number 0": new Wire().tag(0, 0).varint(1).finish(),
    "wire type 6": new Wire().tag(5, 6).finish(),
    "wire type 7 inside a point": new Wire().delimited(3, new Wire().tag(7, 7).finish()).finish(),
    "truncated string": new Wire().tag(1, 2).varint(10).raw([65, 66]).finish(),
    "truncated double": new Wire().delimited(3, new Wire().tag(4, 1).raw([1, 2, 3]).finish())
      .finish(),
    "point longer than the batch": new Wire().tag(3, 2).varint(50).raw([8, 1]).finish(),
    "string running past its point": new Wire()
      .delimited(3, new Wire().tag(3, 2).varint(5).raw([65, 65]).finish()).raw([65, 65, 65])
      .finish(),
    "invalid UTF-8": new Wire().tag(1, 2).varint(2).raw([0xc3, 0x28]).finish(),
    "invalid UTF-8 after ASCII": new Wire().tag(1, 2).varint(10)
      .raw([65, 65, 65, 65, 65, 65, 65, 65, 65, 0xff]).finish(),
    "long invalid UTF-8": new Wire().tag(1, 2).varint(70).raw(new Array(70).fill(0xff)).finish(),
    "invalid tag encoding": new Uint8Array([0xff, 0xff, 0xff, 0xff, 0xff, 0x01]),
    "invalid length encoding": new Uint8Array([0x0a, 0xff, 0xff, 0xff, 0xff, 0x7f]),
    "length encoding at its bound": new Uint8Array([0x0a, 0xff, 0xff, 0xff, 0xff, 0x08]),
    "truncated tag": new Uint8Array([0x80]),
    "truncated varint": new Uint8Array([0x10, 0x80, 0x80]),
    "groups nested past the limit": (() => {
      const wire = new Wire();
      for (let i = 0; i < 120; i++) wire.tag(9, 3);
      for (let i = 0; i < 120; i++) wire.tag(9, 4);
      return wire.finish();
    })(),
  };
  for (const [name, bytes] of Object.entries(cases)) {
    await t.step(name, () => assertSameAsProtobufjs(bytes, name));
  }
});

Deno.test("decodeMetricBatch agrees with protobufjs on random wire messages", () => {
  for (let seed = 1; seed <= 3_000; seed++) {
    const rng = random(seed);
    assertSameAsProtobufjs(batchBytes(rng), `seed ${seed}`);
  }
});

Deno.test("decodeMetricBatch agrees with protobufjs on corrupted bytes and never hangs", () => {
  for (let seed = 1; seed <= 3_000; seed++) {
    const rng = random(seed);
    const bytes = batchBytes(rng);
    if (bytes.length === 0) continue;
    const corrupt = bytes.slice(0, rng.chance(0.3) ? rng.int(0, bytes.length - 1) : bytes.length);
    for (let flips = rng.int(1, 3); flips > 0 && corrupt.length > 0; flips--) {
      corrupt[rng.int(0, corrupt.length - 1)] = rng.chance(0.5) ? rng.int(0, 255) : 0x80;
    }
    assertSameAsProtobufjs(corrupt, `seed ${seed}`);
  }
  // Pure noise too.
  for (let seed = 1; seed <= 1_000; seed++) {
    const rng = random(seed);
    const noise = Uint8Array.from({ length: rng.int(1, 64) }, () => rng.int(0, 255));
    assertSameAsProtobufjs(noise, `noise seed ${seed}`);
  }
});

Deno.test("decodeMetricBatch string cache returns exact strings under collisions", () => {
  // Far more distinct strings than cache slots, each seen twice: every hit must be exact.
  const names = Array.from({ length: 20_000 }, (_, i) => `metric_${i.toString(36)}`);
  for (const round of [0, 1]) {
    for (let start = 0; start < names.length; start += 1_000) {
      const wire = new Wire().string(1, "web-01");
      for (const name of names.slice(start, start + 1_000)) {
        wire.delimited(3, new Wire().string(3, name).finish());
      }
      const decoded = decodeMetricBatch(wire.finish());
      assert.deepEqual(
        decoded.dataPoints!.map((point) => point.metricName),
        names.slice(start, start + 1_000),
        `round ${round}`,
      );
    }
  }
});

Deno.test("decodeMetricBatch counts points past maxPoints without decoding them", async (t) => {
  // 200,000 empty points: two bytes each, an object each if they were decoded.
  const emptyPoints = (count: number) => {
    const bytes = new Uint8Array(2 * count);
    for (let i = 0; i < count; i++) bytes[2 * i] = 0x1a;
    return bytes;
  };
  await t.step("a batch over the limit is refused with the count, as validateBatch says it", () => {
    assert.throws(
      () => decodeMetricBatch(emptyPoints(200_000), { maxPoints: 10 }),
      (error: unknown) => {
        assert.ok(error instanceof TooManyPointsError);
        assert.ok(error instanceof BatchValidationError);
        assert.equal(error.message, "data_points: 200000 points, at most 10 allowed");
        assert.equal(error.points, 200_000);
        return true;
      },
    );
  });
  await t.step("points past the limit are not decoded: a damaged one is not reported", () => {
    const wire = new Wire().string(1, "web-01");
    for (let i = 0; i < 3; i++) wire.delimited(3, new Wire().string(3, "cpu.usage").finish());
    // Invalid UTF-8 in the metric name of the 4th point: a decode error if it were read.
    wire.delimited(3, Uint8Array.from([0x1a, 0x02, 0xc3, 0x28]));
    assert.throws(() => decodeMetricBatch(wire.finish(), { maxPoints: 3 }), TooManyPointsError);
    assert.throws(
      () => decodeMetricBatch(wire.finish(), { maxPoints: 4 }),
      (error: unknown) => !(error instanceof TooManyPointsError),
    );
  });
  await t.step("a batch at the limit decodes as before", () => {
    const decoded = decodeMetricBatch(emptyPoints(10), { maxPoints: 10 });
    assert.equal(decoded.dataPoints!.length, 10);
  });
});
