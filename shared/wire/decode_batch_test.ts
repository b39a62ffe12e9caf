/**
 * `decodeMetricBatch` against the generated protobufjs code (the oracle): on random messages, on
 * hand-built wire bytes (fields out of order, repeated, unknown fields and groups, map entries
 * missing key or value, non-canonical varints) and on randomly mutated bytes, both must decode
 * the same batch or both refuse — except where a known field has the wrong wire type, which
 * protobufjs skips and ours refuses, naming the field. Then ours' own error messages.
 */
import assert from "node:assert/strict";
import { MetricBatchProto } from "../proto/mod.ts";
import {
  firstMistypedField,
  mutate,
  normalize,
  NOW,
  oracleDecode,
  Random,
  randomBatchBytes,
  Wire,
} from "../../tests/helpers/wire_messages.ts";
import { decodeMetricBatch, TooManyPointsError } from "./decode_batch.ts";

type Agreement = "same value" | "both refused" | "stricter";

/**
 * Decodes `bytes` with both and checks the outcome is one of: the same batch; both refuse; or
 * protobufjs accepts and ours refuses exactly at the first mistyped known field (found by a
 * walk with protobufjs's own reader). Returns which.
 */
function compareWithOracle(bytes: Uint8Array, context: string): Agreement {
  let theirs;
  try {
    theirs = oracleDecode(bytes);
  } catch {
    theirs = undefined;
  }
  let ours;
  let error: Error | undefined;
  try {
    ours = decodeMetricBatch(bytes);
  } catch (caught) {
    error = caught as Error;
  }
  if (error) {
    assert.ok(error instanceof RangeError, `${context}: ${error.stack}`);
    assert.match(error.message, /^batch(\.[a-z_]+|\[\d+\])*: \S/, context);
  }
  if (theirs === undefined) {
    assert.ok(error, `${context}: protobufjs refuses, ours accepts`);
    return "both refused";
  }
  const mistyped = firstMistypedField(bytes);
  if (error) {
    assert.equal(error.message, mistyped, `${context}: refused where protobufjs accepts`);
    return "stricter";
  }
  assert.equal(mistyped, undefined, `${context}: a mistyped field was accepted`);
  assert.deepEqual(normalize(ours!), normalize(theirs), context);
  return "same value";
}

Deno.test("decodeMetricBatch decodes what protobufjs encodes, as protobufjs decodes it", () => {
  const dataPoints = [];
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
  assert.equal(compareWithOracle(bytes, "a typical batch"), "same value");
  const decoded = decodeMetricBatch(bytes);
  assert.equal(decoded.dataPoints.length, 200);
  assert.deepEqual(decoded.dataPoints[1], {
    timestampMs: NOW - 1_000,
    agentId: "web-01",
    metricName: "cpu.core_usage",
    value: 1 / 7,
    labels: { core: "1", mount: "/" },
  });
  assert.deepEqual(decoded.dataPoints[0].labels, null, "a point without labels");
  assert.deepEqual(decoded.systemInfo, {
    hostname: "web-01",
    os: "Linux",
    osVersion: "",
    arch: "",
    kernelVersion: "",
    cpuCores: 8,
    memoryGb: 15.5,
    diskGb: 0,
  });
});

Deno.test("decodeMetricBatch agrees with protobufjs on edge cases", async (t) => {
  const cases: Record<string, [Uint8Array, Agreement]> = {
    "empty message": [new Uint8Array(0), "same value"],
    "fields in reverse order": [
      new Wire()
        .delimited(
          3,
          new Wire().double(4, 1.5).string(3, "cpu.usage").tag(1, 0).varint(NOW).finish(),
        )
        .tag(2, 0).varint(NOW).string(1, "web-01").finish(),
      "same value",
    ],
    "last value wins": [
      new Wire().string(1, "a").string(1, "web-01")
        .delimited(
          3,
          new Wire().string(3, "x").string(3, "cpu.usage").tag(1, 0).varint(NOW).finish(),
        )
        .finish(),
      "same value",
    ],
    "map entry without key": [
      new Wire().string(1, "web-01").delimited(
        3,
        new Wire().string(3, "m").delimited(5, new Wire().string(2, "v").finish()).finish(),
      ).finish(),
      "same value",
    ],
    "map entry without value": [
      new Wire().string(1, "web-01").delimited(
        3,
        new Wire().string(3, "m").delimited(5, new Wire().string(1, "k").finish()).finish(),
      ).finish(),
      "same value",
    ],
    "empty map entry": [
      new Wire().string(1, "web-01")
        .delimited(3, new Wire().string(3, "m").delimited(5, []).finish()).finish(),
      "same value",
    ],
    "duplicate label keys": [
      new Wire().string(1, "web-01").delimited(
        3,
        new Wire().string(3, "m").tag(1, 0).varint(NOW)
          .delimited(5, new Wire().string(1, "b").string(2, "1").finish())
          .delimited(5, new Wire().string(1, "a").string(2, "2").finish())
          .delimited(5, new Wire().string(1, "b").string(2, "3").finish()).finish(),
      ).finish(),
      "same value",
    ],
    "__proto__ label": [
      new Wire().string(1, "web-01").delimited(
        3,
        new Wire().string(3, "m").tag(1, 0).varint(NOW)
          .delimited(5, new Wire().string(1, "__proto__").string(2, "x").finish()).finish(),
      ).finish(),
      "same value",
    ],
    "negative timestamp": [
      new Wire().string(1, "web-01")
        .delimited(3, new Wire().string(3, "m").tag(1, 0).varint(-5n).finish()).finish(),
      "same value",
    ],
    "timestamp beyond 2^53": [
      new Wire().string(1, "web-01").delimited(
        3,
        new Wire().string(3, "m").tag(1, 0).varint((1n << 60n) + 1n).finish(),
      ).finish(),
      "same value",
    ],
    "ten-byte varint with high garbage": [
      new Wire().string(1, "web-01").delimited(
        3,
        new Wire().string(3, "m").tag(1, 0)
          .raw([0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x7f]).finish(),
      ).finish(),
      "same value",
    ],
    "eleven-byte varint": [
      new Wire().string(1, "web-01").delimited(
        3,
        new Wire().string(3, "m").tag(1, 0)
          .raw([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 1]).finish(),
      ).finish(),
      "both refused",
    ],
    "padded length prefix": [
      new Wire().tag(1, 2).varint(6, 2).raw(new TextEncoder().encode("web-01")).finish(),
      "same value",
    ],
    "-0 value and NaN value": [
      new Wire().string(1, "web-01")
        .delimited(3, new Wire().string(3, "m").double(4, -0).finish())
        .delimited(3, new Wire().string(3, "m").double(4, NaN).finish()).finish(),
      "same value",
    ],
    "system info twice merges": [
      new Wire().string(1, "web-01")
        .delimited(4, new Wire().string(1, "host").tag(6, 0).varint(4).double(7, 2).finish())
        .delimited(3, new Wire().string(3, "m").tag(1, 0).varint(NOW).finish())
        .delimited(4, new Wire().string(2, "Linux").string(1, "").finish()).finish(),
      "same value",
    ],
    "empty system info": [new Wire().string(1, "web-01").delimited(4, []).finish(), "same value"],
    "negative cpu_cores": [
      new Wire().string(1, "web-01").delimited(4, new Wire().tag(6, 0).varint(-3n).finish())
        .finish(),
      "same value",
    ],
    "cpu_cores beyond int32": [
      new Wire().string(1, "web-01")
        .delimited(4, new Wire().tag(6, 0).varint(2n ** 40n + 5n).finish()).finish(),
      "same value",
    ],
    "data_points with the wrong wire type": [
      new Wire().string(1, "web-01").tag(3, 0).varint(1).finish(),
      "stricter",
    ],
    "value sent as a length-delimited field": [
      new Wire().string(1, "web-01")
        .delimited(3, new Wire().string(3, "m").tag(4, 2).varint(1).raw([7]).finish()).finish(),
      "stricter",
    ],
    "agent_id sent as an empty group": [
      new Wire().tag(1, 3).tag(1, 4).finish(),
      "stricter",
    ],
    "unknown group": [
      new Wire().string(1, "web-01").tag(9, 3).tag(10, 0).varint(1).tag(9, 4).finish(),
      "same value",
    ],
    "known field numbers inside an unknown group": [
      new Wire().string(1, "web-01").tag(9, 3).tag(4, 0).varint(1).tag(9, 4).finish(),
      "same value",
    ],
    "group with the wrong end": [new Wire().tag(9, 3).tag(8, 4).finish(), "both refused"],
    "end group without start": [new Wire().tag(9, 4).finish(), "both refused"],
    "field number 0": [new Wire().tag(0, 0).varint(1).finish(), "both refused"],
    "wire type 6": [new Wire().tag(5, 6).finish(), "both refused"],
    "wire type 7 inside a point": [
      new Wire().delimited(3, new Wire().tag(7, 7).finish()).finish(),
      "both refused",
    ],
    "truncated string": [new Wire().tag(1, 2).varint(10).raw([65, 66]).finish(), "both refused"],
    "truncated double": [
      new Wire().delimited(3, new Wire().tag(4, 1).raw([1, 2, 3]).finish()).finish(),
      "both refused",
    ],
    "point longer than the batch": [
      new Wire().tag(3, 2).varint(50).raw([8, 1]).finish(),
      "both refused",
    ],
    "string running past its point": [
      new Wire().delimited(3, new Wire().tag(3, 2).varint(5).raw([65, 65]).finish())
        .raw([65, 65, 65]).finish(),
      "both refused",
    ],
    "invalid UTF-8": [new Wire().tag(1, 2).varint(2).raw([0xc3, 0x28]).finish(), "both refused"],
    "invalid UTF-8 after ASCII": [
      new Wire().tag(1, 2).varint(10).raw([65, 65, 65, 65, 65, 65, 65, 65, 65, 0xff]).finish(),
      "both refused",
    ],
    "long invalid UTF-8": [
      new Wire().tag(1, 2).varint(70).raw(new Array(70).fill(0xff)).finish(),
      "both refused",
    ],
    "UTF-8 of a surrogate": [
      new Wire().tag(1, 2).varint(3).raw([0xed, 0xa0, 0x80]).finish(),
      "both refused",
    ],
    "invalid tag encoding": [new Uint8Array([0xff, 0xff, 0xff, 0xff, 0xff, 0x01]), "both refused"],
    "invalid length encoding": [
      new Uint8Array([0x0a, 0xff, 0xff, 0xff, 0xff, 0x7f]),
      "both refused",
    ],
    "length encoding at its bound": [
      new Uint8Array([0x0a, 0xff, 0xff, 0xff, 0xff, 0x08]),
      "both refused",
    ],
    "truncated tag": [new Uint8Array([0x80]), "both refused"],
    "truncated varint": [new Uint8Array([0x10, 0x80, 0x80]), "both refused"],
    "groups nested past the limit": [
      (() => {
        const wire = new Wire();
        for (let i = 0; i < 120; i++) wire.tag(9, 3);
        for (let i = 0; i < 120; i++) wire.tag(9, 4);
        return wire.finish();
      })(),
      "both refused",
    ],
  };
  for (const [name, [bytes, expected]] of Object.entries(cases)) {
    await t.step(name, () => assert.equal(compareWithOracle(bytes, name), expected));
  }
});

Deno.test("decodeMetricBatch agrees with protobufjs on random and mutated messages", () => {
  const counts: Record<Agreement, number> = { "same value": 0, "both refused": 0, stricter: 0 };
  for (let seed = 1; seed <= 4_500; seed++) {
    const rng = new Random(seed);
    const bytes = randomBatchBytes(rng);
    counts[compareWithOracle(bytes, `seed ${seed}`)]++;
    counts[compareWithOracle(mutate(rng, bytes), `mutated seed ${seed}`)]++;
  }
  for (let seed = 1; seed <= 1_000; seed++) {
    const rng = new Random(seed);
    const noise = Uint8Array.from({ length: rng.int(1, 64) }, () => rng.int(0, 255));
    counts[compareWithOracle(noise, `noise seed ${seed}`)]++;
  }
  const total = counts["same value"] + counts["both refused"] + counts.stricter;
  console.log(
    `decoder vs protobufjs: ${total} random, mutated and noise messages: ${JSON.stringify(counts)}`,
  );
  assert.ok(total >= 10_000, `${total} messages`);
  // Each kind of outcome must occur often, or this test proves less than it says.
  assert.ok(counts["same value"] > 3_000, JSON.stringify(counts));
  assert.ok(counts["both refused"] > 4_000, JSON.stringify(counts));
  assert.ok(counts.stricter > 500, JSON.stringify(counts));
});

/** The message `decodeMetricBatch` refuses `bytes` with. */
function refusal(bytes: Uint8Array): string {
  try {
    decodeMetricBatch(bytes);
  } catch (error) {
    assert.ok(error instanceof RangeError);
    return error.message;
  }
  assert.fail("decoded");
}

const point = (body: Wire) => new Wire().string(1, "web-01").delimited(3, body.finish());

Deno.test("decodeMetricBatch refuses a known field with the wrong wire type, naming it", async (t) => {
  await t.step("the example of the issue: a point's value as a length-delimited field", () => {
    const wire = new Wire().string(1, "web-01");
    for (let i = 0; i < 3; i++) {
      wire.delimited(3, new Wire().string(3, "cpu.usage").double(4, i).finish());
    }
    wire.delimited(3, new Wire().string(3, "cpu.usage").string(4, "12345678").finish());
    assert.equal(
      refusal(wire.finish()),
      "batch.data_points[3].value: wire type 2, expected 1 (double)",
    );
  });
  const cases: [string, Uint8Array, string][] = [
    [
      "batch agent_id",
      new Wire().tag(1, 0).varint(1).finish(),
      "batch.agent_id: wire type 0, expected 2 (string)",
    ],
    [
      "batch timestamp_ms",
      new Wire().double(2, 1).finish(),
      "batch.timestamp_ms: wire type 1, expected 0 (int64)",
    ],
    [
      "data_points",
      new Wire().tag(3, 5).raw([0, 0, 0, 0]).finish(),
      "batch.data_points: wire type 5, expected 2 (message)",
    ],
    [
      "system_info",
      new Wire().tag(4, 0).varint(0).finish(),
      "batch.system_info: wire type 0, expected 2 (message)",
    ],
    [
      "point timestamp_ms",
      point(new Wire().string(1, "x")).finish(),
      "batch.data_points[0].timestamp_ms: wire type 2, expected 0 (int64)",
    ],
    [
      "point agent_id",
      point(new Wire().double(2, 0)).finish(),
      "batch.data_points[0].agent_id: wire type 1, expected 2 (string)",
    ],
    [
      "point metric_name",
      point(new Wire().tag(3, 0).varint(0)).finish(),
      "batch.data_points[0].metric_name: wire type 0, expected 2 (string)",
    ],
    [
      "labels",
      point(new Wire().tag(5, 0).varint(3)).finish(),
      "batch.data_points[0].labels: wire type 0, expected 2 (map entry)",
    ],
    [
      "label key",
      point(
        new Wire().delimited(5, new Wire().string(1, "a").finish()).delimited(
          5,
          new Wire().tag(1, 0).varint(1).finish(),
        ),
      ).finish(),
      "batch.data_points[0].labels[1].key: wire type 0, expected 2 (string)",
    ],
    [
      "label value",
      point(new Wire().delimited(5, new Wire().string(1, "a").double(2, 1).finish())).finish(),
      "batch.data_points[0].labels[0].value: wire type 1, expected 2 (string)",
    ],
    [
      "system_info hostname",
      new Wire().delimited(4, new Wire().tag(1, 0).varint(1).finish()).finish(),
      "batch.system_info.hostname: wire type 0, expected 2 (string)",
    ],
    [
      "system_info cpu_cores",
      new Wire().delimited(4, new Wire().double(6, 1).finish()).finish(),
      "batch.system_info.cpu_cores: wire type 1, expected 0 (int32)",
    ],
    [
      "system_info disk_gb",
      new Wire().delimited(4, new Wire().tag(8, 5).raw([0, 0, 0, 0]).finish()).finish(),
      "batch.system_info.disk_gb: wire type 5, expected 1 (double)",
    ],
  ];
  for (const [name, bytes, message] of cases) {
    await t.step(name, () => {
      assert.equal(refusal(bytes), message);
      // protobufjs skips it, which is why ours must say no.
      assert.doesNotThrow(() => MetricBatchProto.decode(bytes));
    });
  }
});

Deno.test("decodeMetricBatch names the field path of truncated and malformed bytes", async (t) => {
  const cases: [string, Uint8Array, string][] = [
    [
      "truncated tag",
      new Uint8Array([0x80]),
      "batch: truncated tag at byte 0: its message ends at byte 1",
    ],
    [
      "truncated timestamp varint",
      point(new Wire().tag(1, 0).raw([0x80, 0x80])).finish(),
      "batch.data_points[0].timestamp_ms: truncated varint at byte 11: its message ends at byte 13",
    ],
    [
      "truncated double",
      point(new Wire().tag(4, 1).raw([1, 2, 3])).finish(),
      "batch.data_points[0].value: truncated double at byte 11: its message ends at byte 14",
    ],
    [
      "truncated string",
      new Wire().tag(1, 2).varint(10).raw([65, 66]).finish(),
      "batch.agent_id: 10 bytes from byte 2 run past the end of their message at byte 4",
    ],
    [
      "a point longer than the batch",
      new Wire().string(1, "web-01").tag(3, 2).varint(50).raw([8, 1]).finish(),
      "batch.data_points[0]: 50 bytes from byte 10 run past the end of their message at byte 12",
    ],
    [
      "a string longer than its point",
      new Wire().delimited(3, new Wire().tag(3, 2).varint(5).raw([65, 65]).finish()).raw([
        65,
        65,
        65,
      ]).finish(),
      "batch.data_points[0].metric_name: 5 bytes from byte 4 run past the end of their message at byte 6",
    ],
    [
      "a label entry longer than its point",
      point(new Wire().string(3, "m").tag(5, 2).varint(9).raw([0x0a, 1, 65])).finish(),
      "batch.data_points[0].labels[0]: 9 bytes from byte 15 run past the end of their message at byte 18",
    ],
    [
      "a varint longer than 10 bytes",
      point(new Wire().tag(1, 0).raw(new Array(10).fill(0xff)).raw([1])).finish(),
      "batch.data_points[0].timestamp_ms: varint at byte 11 is longer than 10 bytes",
    ],
    [
      "cpu_cores longer than 10 bytes",
      new Wire().delimited(4, new Wire().tag(6, 0).raw(new Array(10).fill(0x80)).raw([0]).finish())
        .finish(),
      "batch.system_info.cpu_cores: varint at byte 3 is longer than 10 bytes",
    ],
    [
      "a tag beyond 32 bits",
      new Uint8Array([0xff, 0xff, 0xff, 0xff, 0xff, 0x01]),
      "batch: tag at byte 0 does not fit in 32 bits",
    ],
    [
      "a length beyond 31 bits",
      new Uint8Array([0x0a, 0xff, 0xff, 0xff, 0xff, 0x08]),
      "batch.agent_id: length at byte 1 does not fit in 31 bits",
    ],
    [
      "invalid UTF-8",
      new Wire().tag(1, 2).varint(2).raw([0xc3, 0x28]).finish(),
      "batch.agent_id: invalid UTF-8 in the string at bytes 2 to 4",
    ],
    [
      "invalid UTF-8 in a label value",
      point(
        new Wire().delimited(5, new Wire().string(1, "k").tag(2, 2).varint(1).raw([0xff]).finish()),
      ).finish(),
      "batch.data_points[0].labels[0].value: invalid UTF-8 in the string at bytes 17 to 18",
    ],
    [
      "a truncated unknown field",
      new Wire().string(1, "web-01").tag(12, 2).varint(5).raw([1]).finish(),
      "batch: unknown field 12: 5 bytes from byte 10 run past the end of their message at byte 11",
    ],
    [
      "field number 0",
      point(new Wire().tag(0, 0).varint(1)).finish(),
      "batch.data_points[0]: field number 0",
    ],
    [
      "wire type 6",
      new Wire().tag(9, 6).finish(),
      "batch: unknown field 9: invalid wire type 6",
    ],
    [
      "a group closed by another field",
      new Wire().tag(9, 3).tag(8, 4).finish(),
      "batch: unknown field 9: group 9 closed by the end-group tag of field 8 at byte 1",
    ],
    [
      "an end-group tag without a start",
      new Wire().tag(9, 4).finish(),
      "batch: unknown field 9: end-group tag without a start-group tag",
    ],
    [
      "groups nested too deep",
      (() => {
        const wire = new Wire();
        for (let i = 0; i < 120; i++) wire.tag(9, 3);
        return wire.finish();
      })(),
      "batch: unknown field 9: groups nested more than 100 deep",
    ],
  ];
  for (const [name, bytes, message] of cases) {
    await t.step(name, () => assert.equal(refusal(bytes), message));
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
        decoded.dataPoints.map((point) => point.metricName),
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
  await t.step("a batch over the limit is refused with the count", () => {
    assert.throws(
      () => decodeMetricBatch(emptyPoints(200_000), { maxPoints: 10 }),
      (error: unknown) => {
        assert.ok(error instanceof TooManyPointsError);
        assert.ok(error instanceof RangeError);
        assert.equal(error.message, "batch.data_points: 200000 points, at most 10 allowed");
        assert.equal(error.points, 200_000);
        assert.equal(error.maxPoints, 10);
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
    assert.equal(decoded.dataPoints.length, 10);
  });
});
