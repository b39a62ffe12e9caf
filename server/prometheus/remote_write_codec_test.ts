import assert from "node:assert/strict";
import protobuf from "protobufjs";
import {
  decodeWriteRequest,
  encodeLabels,
  encodeTimeSeries,
  ProtoWriter,
  RemoteWriteDecodeError,
  snappyCompress,
  snappyUncompress,
} from "./remote_write_codec.ts";

/** prometheus/prompb remote.proto + types.proto (the messages Remote-Write 1.0 uses). */
const oracle = protobuf.Root.fromJSON({
  nested: {
    prometheus: {
      nested: {
        WriteRequest: {
          fields: {
            timeseries: { rule: "repeated", type: "TimeSeries", id: 1 },
            metadata: { rule: "repeated", type: "MetricMetadata", id: 3 },
          },
        },
        MetricMetadata: {
          fields: {
            type: { type: "int32", id: 1 },
            metricFamilyName: { type: "string", id: 2 },
            help: { type: "string", id: 4 },
            unit: { type: "string", id: 5 },
          },
        },
        TimeSeries: {
          fields: {
            labels: { rule: "repeated", type: "Label", id: 1 },
            samples: { rule: "repeated", type: "Sample", id: 2 },
            exemplars: { rule: "repeated", type: "Exemplar", id: 3 },
          },
        },
        Exemplar: {
          fields: {
            labels: { rule: "repeated", type: "Label", id: 1 },
            value: { type: "double", id: 2 },
            timestamp: { type: "int64", id: 3 },
          },
        },
        Label: { fields: { name: { type: "string", id: 1 }, value: { type: "string", id: 2 } } },
        Sample: {
          fields: { value: { type: "double", id: 1 }, timestamp: { type: "int64", id: 2 } },
        },
      },
    },
  },
});
const WriteRequest = oracle.lookupType("prometheus.WriteRequest");

function randomSeries(count: number) {
  const series = [];
  for (let i = 0; i < count; i++) {
    const labels: [string, string][] = [
      ["__name__", `metric_${i % 7}`],
      ["agent", `web-${i}`],
      ["mount", i % 3 === 0 ? "/données/ü" : "/"],
    ];
    const timestamps: number[] = [];
    const values: number[] = [];
    let ts = 1_764_000_000_000 + i;
    for (let j = 0; j < 1 + (i % 4); j++) {
      ts += 10_000 + j;
      timestamps.push(ts);
      values.push(j === 2 ? -0 : Math.random() * 10 ** (i % 12) - 5);
    }
    series.push({ labels, timestamps, values });
  }
  return series;
}

Deno.test("encoded WriteRequests decode with protobufjs to the same series", () => {
  const series = randomSeries(50);
  const out = new ProtoWriter(16);
  for (const s of series) encodeTimeSeries(out, { ...s, labels: encodeLabels(s.labels) });
  const decoded = WriteRequest.toObject(WriteRequest.decode(out.finish()), { longs: Number });
  assert.equal(decoded.timeseries.length, series.length);
  decoded.timeseries.forEach((ts: Record<string, unknown>, i: number) => {
    assert.deepEqual(
      ts.labels,
      series[i].labels.map(([name, value]) => ({ name, value })),
    );
    const samples = ts.samples as { value: number; timestamp: number }[];
    assert.deepEqual(samples.map((s) => s.timestamp), series[i].timestamps);
    samples.forEach((s, j) => assert.ok(Object.is(s.value, series[i].values[j])));
  });
});

Deno.test("WriteRequests encoded by protobufjs decode to the same series, metadata skipped", () => {
  const series = randomSeries(40);
  const message = WriteRequest.fromObject({
    timeseries: series.map((s) => ({
      labels: s.labels.map(([name, value]) => ({ name, value })),
      samples: s.timestamps.map((timestamp, j) => ({ value: s.values[j], timestamp })),
      exemplars: [{ labels: [{ name: "trace_id", value: "abc" }], value: 1, timestamp: 5 }],
    })),
    metadata: [{ type: 1, metricFamilyName: "metric_0", help: "a counter" }],
  });
  const decoded = decodeWriteRequest(WriteRequest.encode(message).finish());
  assert.equal(decoded.length, series.length);
  decoded.forEach((s, i) => {
    assert.deepEqual(s.labels, series[i].labels.map(([name, value]) => ({ name, value })));
    assert.deepEqual(s.timestamps, series[i].timestamps);
    s.values.forEach((value, j) => assert.ok(Object.is(value, series[i].values[j])));
  });
});

Deno.test("a malformed WriteRequest is refused naming the field", async (t) => {
  await t.step("truncated series", () => {
    const out = new ProtoWriter();
    encodeTimeSeries(out, {
      labels: encodeLabels([["__name__", "up"]]),
      timestamps: [1000],
      values: [1],
    });
    const bytes = out.finish().subarray(0, 12);
    assert.throws(() => decodeWriteRequest(bytes), (error: unknown) => {
      assert.ok(error instanceof RemoteWriteDecodeError);
      assert.match(error.message, /^timeseries\[0\]/);
      return true;
    });
  });
  await t.step("negative timestamp", () => {
    const message = WriteRequest.fromObject({
      timeseries: [{
        labels: [{ name: "__name__", value: "up" }],
        samples: [{ value: 1, timestamp: -5 }],
      }],
    });
    assert.throws(
      () => decodeWriteRequest(WriteRequest.encode(message).finish()),
      /timeseries\[0\]\.samples\[0\]\.timestamp: expected a non-negative timestamp/,
    );
  });
  await t.step("invalid UTF-8 in a label", () => {
    const bytes = new Uint8Array([0x0a, 0x08, 0x0a, 0x06, 0x0a, 0x01, 0xff, 0x12, 0x01, 0x41]);
    assert.throws(
      () => decodeWriteRequest(bytes),
      /timeseries\[0\]\.labels\[0\]\.name: not valid UTF-8/,
    );
  });
});

Deno.test("snappy blocks round-trip and an oversized one is refused before decompressing", () => {
  const data = new TextEncoder().encode("oxmon_cpu_usage_percent ".repeat(1000));
  const block = snappyCompress(data);
  assert.ok(block.length < data.length / 5);
  assert.deepEqual(snappyUncompress(block, data.length), data);
  assert.throws(() => snappyUncompress(block, data.length - 1), /above the limit/);
  assert.throws(() => snappyUncompress(new Uint8Array([0x05, 0xff, 0xff]), 100), /snappy/);
});
