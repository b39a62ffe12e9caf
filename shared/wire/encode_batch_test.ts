/**
 * `encodeMetricBatch` against the generated protobufjs code (the oracle): the same bytes for
 * hand-picked and thousands of random batches, and what it writes decodes back to the batch.
 */
import assert from "node:assert/strict";
import { MetricBatchProto } from "../proto/mod.ts";
import type { Labels, MetricBatch } from "../types.ts";
import { normalize, Random, randomBatch } from "../../tests/helpers/wire_messages.ts";
import { decodeMetricBatch } from "./decode_batch.ts";
import { encodeMetricBatch, encodeSystemInfoField } from "./encode_batch.ts";

const systemInfo = {
  hostname: "web-01",
  os: "Ubuntu",
  osVersion: "24.04",
  arch: "x86_64",
  kernelVersion: "6.8.0-41-generic",
  cpuCores: 16,
  memoryGb: 62.75,
  diskGb: 1843.2,
};

function batchOf(points: number, withInfo: boolean): MetricBatch {
  const timestampMs = 1_764_201_600_123;
  return {
    agentId: "web-01",
    timestampMs,
    dataPoints: Array.from({ length: points }, (_, i) => ({
      timestampMs,
      agentId: "web-01",
      metricName: i % 2 ? "disk.used_percent" : "cpu.core_usage",
      value: i % 3 ? i * 1.5 : -i / 7,
      labels: i % 2 ? { mount: `/media/usb stick ${i}`, device: "ü-ß-日本" } : {} as Labels,
    })),
    ...(withInfo ? { systemInfo } : {}),
  };
}

/** What the generated protobufjs code (the reference) makes of the same batch. */
function reference(batch: MetricBatch): Uint8Array {
  return new Uint8Array(MetricBatchProto.encode(batch).finish());
}

Deno.test("encodeMetricBatch writes the same bytes as the generated protobufjs code", async (t) => {
  await t.step("one point, no system info", () => {
    const batch = batchOf(1, false);
    assert.deepEqual(encodeMetricBatch(batch), reference(batch));
  });
  await t.step("many points with labels and the system info", () => {
    // Over 127 bytes per point and over 16 KB in all: multi-byte length prefixes and growth.
    const batch = batchOf(400, true);
    assert.deepEqual(encodeMetricBatch(batch), reference(batch));
  });
  await t.step("a long label value and odd doubles", () => {
    const batch = batchOf(1, false);
    batch.dataPoints[0].labels = { path: "x".repeat(70_000) };
    for (const value of [0, -0, NaN, Infinity, Number.MAX_VALUE, 5e-324]) {
      batch.dataPoints[0].value = value;
      assert.deepEqual(encodeMetricBatch(batch), reference(batch));
    }
  });
  await t.step("every UTF-8 length and surrogate pairs", () => {
    const batch = batchOf(1, false);
    batch.dataPoints[0].labels = { ascii: "abc", two: "é ß ü", three: "日本語 €", four: "🙂 𝄞" };
    assert.deepEqual(encodeMetricBatch(batch), reference(batch));
  });
  await t.step("default values, empty labels, negative integers", () => {
    const batch = batchOf(1, false);
    batch.dataPoints[0] = { timestampMs: 0, agentId: "", metricName: "", value: 0, labels: {} };
    batch.dataPoints[0].labels[""] = "";
    assert.deepEqual(encodeMetricBatch(batch), reference(batch));
  });
  await t.step("no data points, negative and zero integers", () => {
    const batch: MetricBatch = {
      agentId: "",
      timestampMs: -5,
      dataPoints: [],
      systemInfo: { ...systemInfo, cpuCores: -1, memoryGb: 0 },
    };
    assert.deepEqual(encodeMetricBatch(batch), reference(batch));
  });
});

Deno.test("encodeMetricBatch writes the same bytes through its cache of encoded fields", async (t) => {
  await t.step("the same batch again, as every round sends the same names", () => {
    const batch = batchOf(50, true);
    const first = encodeMetricBatch(batch);
    assert.deepEqual(encodeMetricBatch(batch), first);
    assert.deepEqual(first, reference(batch));
  });
  await t.step("more distinct strings than the cache holds, and long ones", () => {
    const batch = batchOf(1, false);
    batch.dataPoints = Array.from({ length: 5_000 }, (_, i) => ({
      timestampMs: batch.timestampMs + (i % 3),
      agentId: "web-01",
      metricName: `m.${i}`,
      value: i,
      labels: { [`k${i % 7}`]: i % 2 ? `v${i}` : "é".repeat(100 + (i % 200)) },
    }));
    assert.deepEqual(encodeMetricBatch(batch), reference(batch));
    assert.deepEqual(encodeMetricBatch(batch), reference(batch));
  });
});

Deno.test("encodeMetricBatch output decodes to the batch it came from", () => {
  const batch = batchOf(3, true);
  const decoded = MetricBatchProto.decode(encodeMetricBatch(batch));
  assert.equal(decoded.agentId, "web-01");
  assert.equal(decoded.timestampMs, batch.timestampMs);
  assert.deepEqual(decoded.dataPoints[1].labels, batch.dataPoints[1].labels);
  assert.equal(decoded.dataPoints[2].value, batch.dataPoints[2].value);
  assert.equal(decoded.systemInfo?.kernelVersion, "6.8.0-41-generic");
  assert.equal(decoded.systemInfo?.diskGb, 1843.2);
});

Deno.test("encodeMetricBatch writes lone surrogates as U+FFFD, like TextEncoder", () => {
  // protobufjs writes them as invalid UTF-8 (ED A0 80), which strict decoders refuse.
  const batch = batchOf(1, false);
  const lone = "a\ud800b\udc00c\ud83d";
  batch.dataPoints[0].labels = { lone };
  const bytes = encodeMetricBatch(batch);
  const expected = new TextEncoder().encode(lone);
  const at = bytes.length - expected.length;
  assert.deepEqual(bytes.subarray(at), expected);
  assert.equal(MetricBatchProto.decode(bytes).dataPoints[0].labels?.lone, "a\ufffdb\ufffdc\ufffd");
});

Deno.test("encodeMetricBatch writes protobufjs's bytes for random batches", () => {
  // Random texts hold no lone surrogate: the two encoders write those differently (above).
  for (let seed = 1; seed <= 3_000; seed++) {
    const batch = randomBatch(new Random(seed));
    assert.deepEqual(encodeMetricBatch(batch), reference(batch), `seed ${seed}`);
  }
});

Deno.test("decodeMetricBatch reads back what encodeMetricBatch writes", () => {
  for (let seed = 1; seed <= 1_000; seed++) {
    const batch = randomBatch(new Random(seed));
    const decoded = decodeMetricBatch(encodeMetricBatch(batch));
    if (batch.systemInfo) batch.systemInfo.cpuCores |= 0; // an int32 on the wire
    assert.deepEqual(normalize(decoded), normalize(batch), `seed ${seed}`);
  }
});

Deno.test("encodeSystemInfoField appended to an encoded batch decodes as the batch with its system info", () => {
  for (let seed = 1; seed <= 200; seed++) {
    const rng = new Random(seed);
    const { systemInfo, ...batch } = randomBatch(rng);
    if (!systemInfo) continue;
    const withInfo = encodeMetricBatch({ ...batch, systemInfo });
    const appended = new Uint8Array([
      ...encodeMetricBatch(batch),
      ...encodeSystemInfoField(systemInfo),
    ]);
    assert.deepEqual(
      normalize(MetricBatchProto.decode(appended)),
      normalize(MetricBatchProto.decode(withInfo)),
      `seed ${seed}`,
    );
  }
});
