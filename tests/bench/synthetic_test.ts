import assert from "node:assert/strict";
import { AGENT_METRICS, CHECK_METRICS, HOST_METRICS } from "../../shared/catalog.ts";
import type { MetricDataPoint } from "../../shared/types.ts";
import { rebatch, syntheticBatches, syntheticSeries } from "./synthetic.ts";

const START = Date.UTC(2026, 10, 27);
const options = {
  agents: 3,
  seriesPerAgent: 50,
  intervalMs: 10_000,
  startMs: START,
  durationMs: 3_600_000,
};

const decimals = (value: number) => (String(value).split(".")[1] ?? "").length;

Deno.test("syntheticBatches sends one batch per agent per interval, in time order", () => {
  const batches = [...syntheticBatches(options)];
  assert.equal(batches.length, 3 * 360);
  let previous = START;
  const perAgent = new Map<string, number[]>();
  for (const batch of batches) {
    assert.equal(batch.length, 50);
    const [{ timestampMs, agentId }] = batch;
    assert.ok(
      batch.every((point) => point.timestampMs === timestampMs && point.agentId === agentId),
    );
    assert.ok(timestampMs >= previous && timestampMs < START + options.durationMs);
    previous = timestampMs;
    perAgent.set(agentId, [...perAgent.get(agentId) ?? [], timestampMs]);
  }
  assert.equal(perAgent.size, 3);
  for (const stamps of perAgent.values()) {
    assert.equal(stamps.length, 360);
    assert.ok(stamps.every((ts, i) => i === 0 || ts - stamps[i - 1] === 10_000));
  }
});

Deno.test("syntheticBatches is deterministic for a seed and differs across seeds", () => {
  const first = [...syntheticBatches({ ...options, durationMs: 60_000 })];
  const again = [...syntheticBatches({ ...options, durationMs: 60_000 })];
  const other = [...syntheticBatches({ ...options, durationMs: 60_000, seed: 2 })];
  assert.deepEqual(again, first);
  assert.notDeepEqual(other, first);
});

Deno.test("syntheticSeries covers every host metric of the catalogue with its labels, and no check metric", async (t) => {
  for (const count of [25, 50, 120]) {
    await t.step(`${count} series`, () => {
      const series = syntheticSeries(count);
      assert.equal(series.length, count);
      const keys = new Set(series.map((s) => s.metricName + JSON.stringify(s.labels)));
      assert.equal(keys.size, count, "series are distinct");
      for (const s of series) {
        assert.ok(HOST_METRICS[s.metricName], s.metricName);
        assert.deepEqual(Object.keys(s.labels), [...HOST_METRICS[s.metricName].labels]);
        assert.equal(CHECK_METRICS[s.metricName], undefined, s.metricName);
        assert.equal(AGENT_METRICS[s.metricName], undefined, s.metricName);
      }
      assert.deepEqual(
        new Set(series.map((s) => s.metricName)),
        new Set(Object.keys(HOST_METRICS)),
      );
    });
  }
});

Deno.test("synthetic values look like a real host's", () => {
  const points: MetricDataPoint[] = [...syntheticBatches({ ...options, agents: 5 })].flat();
  for (const point of points) {
    const { unit } = HOST_METRICS[point.metricName];
    const where = `${point.metricName} ${point.value}`;
    assert.ok(Number.isFinite(point.value) && point.value >= 0, where);
    if (unit === "percent") {
      assert.ok(point.value <= 100 && decimals(point.value) <= 2, where);
    }
    if (unit === "bytes") assert.equal(point.value % 1024, 0, where);
    if (point.metricName.startsWith("system.load")) assert.ok(decimals(point.value) <= 2, where);
  }
  const total = points.find((point) => point.metricName === "memory.total")!;
  const used = points.find((point) =>
    point.metricName === "memory.used" && point.agentId === total.agentId
  )!;
  const available = points.find((point) =>
    point.metricName === "memory.available" && point.agentId === total.agentId
  )!;
  assert.equal(used.value + available.value, total.value);
  const cpu = points.filter((point) => point.metricName === "cpu.usage").map((p) => p.value);
  assert.ok(new Set(cpu).size > cpu.length / 2, "cpu usage varies");
});

Deno.test("rebatch regroups points into writes of a fixed size", () => {
  const sizes = [...rebatch(syntheticBatches({ ...options, durationMs: 60_000 }), 1_000)]
    .map((batch) => batch.length);
  assert.deepEqual(sizes, [900]);
  const bigger = [...rebatch(syntheticBatches(options), 1_000)].map((batch) => batch.length);
  assert.equal(bigger.reduce((sum, size) => sum + size, 0), 3 * 360 * 50);
  assert.ok(bigger.slice(0, -1).every((size) => size === 1_000));
});

Deno.test("syntheticBatches refuses bad options naming them", () => {
  assert.throws(() => syntheticBatches({ ...options, agents: 0 }).next(), /agents/);
  assert.throws(() => syntheticBatches({ ...options, intervalMs: 1.5 }).next(), /intervalMs/);
  assert.throws(() => syntheticBatches({ ...options, durationMs: -1 }).next(), /durationMs/);
});
