import assert from "node:assert/strict";
import type { MetricBatch } from "../../shared/types.ts";
import { SeriesGuard } from "./series_guard.ts";

function batch(agentId: string, from: number, count: number, known = 0): MetricBatch {
  const dataPoints = [];
  for (let i = 0; i < known; i++) {
    dataPoints.push({
      agentId,
      metricName: "cpu.usage",
      labels: {},
      value: i,
      timestampMs: 1000 + i,
    });
  }
  for (let i = from; i < from + count; i++) {
    dataPoints.push({
      agentId,
      metricName: "m",
      labels: { id: String(i) },
      value: 1,
      timestampMs: 1,
    });
  }
  return { agentId, timestampMs: 1, dataPoints };
}

Deno.test("SeriesGuard lets known series through and stops new ones at each limit", async (t) => {
  await t.step("max_series_per_agent", () => {
    const guard = new SeriesGuard({
      maxSeriesPerAgent: 10,
      maxSeriesTotal: 100,
      maxNewSeriesPerAgentPerMinute: 100,
    });
    const first = guard.admit(batch("a", 0, 15, 1), 0);
    assert.equal(first.batch.dataPoints.length, 10);
    assert.equal(first.refusedPoints, 6);
    assert.equal(first.refusedSeries, 6);
    assert.equal(first.limit, "max_series_per_agent");
    // Known series keep flowing; another agent has its own budget.
    assert.equal(guard.admit(batch("a", 0, 9, 1), 1).refusedPoints, 0);
    assert.equal(guard.admit(batch("b", 0, 10), 1).refusedPoints, 0);
    assert.deepEqual(guard.refusedByAgent(), { a: 6 });
  });
  await t.step("max_series_total", () => {
    const guard = new SeriesGuard({
      maxSeriesPerAgent: 100,
      maxSeriesTotal: 12,
      maxNewSeriesPerAgentPerMinute: 100,
    });
    guard.admit(batch("a", 0, 10), 0);
    const second = guard.admit(batch("b", 0, 10), 0);
    assert.equal(second.batch.dataPoints.length, 2);
    assert.equal(second.limit, "max_series_total");
    assert.equal(guard.total, 12);
  });
  await t.step("max_new_series_per_agent_per_minute, which frees up a minute later", () => {
    const guard = new SeriesGuard({
      maxSeriesPerAgent: 100,
      maxSeriesTotal: 100,
      maxNewSeriesPerAgentPerMinute: 5,
    });
    assert.equal(guard.admit(batch("a", 0, 8), 0).refusedPoints, 3);
    assert.equal(guard.admit(batch("a", 5, 3), 59_999).refusedPoints, 3);
    const later = guard.admit(batch("a", 5, 3), 60_000);
    assert.equal(later.refusedPoints, 0);
    assert.equal(later.limit, undefined);
  });
});

Deno.test("SeriesGuard forgets series of a failed commit and re-syncs from storage", () => {
  const guard = new SeriesGuard(
    { maxSeriesPerAgent: 3, maxSeriesTotal: 100, maxNewSeriesPerAgentPerMinute: 100 },
    [{ agentId: "a", metricName: "m", labels: { id: "0" } }],
  );
  assert.equal(guard.total, 1);
  const admitted = guard.admit(batch("a", 1, 2), 0);
  assert.equal(guard.total, 3);
  guard.forget(admitted.added);
  assert.equal(guard.total, 1);
  assert.equal(guard.admit(batch("a", 1, 2), 0).refusedPoints, 0);
  guard.resync([]);
  assert.equal(guard.total, 0);
  assert.equal(guard.admit(batch("a", 10, 3), 0).refusedPoints, 0);
});

Deno.test("SeriesGuard knows a series whatever its labels' order, and only that series", () => {
  const guard = new SeriesGuard({
    maxSeriesPerAgent: 100,
    maxSeriesTotal: 100,
    maxNewSeriesPerAgentPerMinute: 100,
  });
  const point = (metricName: string, labels: Record<string, string>, agentId = "a") => ({
    agentId,
    metricName,
    labels,
    value: 1,
    timestampMs: 1,
  });
  const admit = (...dataPoints: ReturnType<typeof point>[]) =>
    guard.admit({ agentId: dataPoints[0].agentId, timestampMs: 1, dataPoints }, 0);
  assert.equal(admit(point("m", { b: "2", a: "1", c: "3" })).added.length, 1);
  // The same labels inserted in other orders, and known series seeded from storage.
  assert.equal(admit(point("m", { a: "1", b: "2", c: "3" })).added.length, 0);
  assert.equal(admit(point("m", { c: "3", b: "2", a: "1" })).added.length, 0);
  // Parts that would spell the same text run together are different series.
  const different = admit(
    point("m", { a: "12" }),
    point("m", { a1: "2" }),
    point("ma", {}),
    point("m", { a: "1", b: "" }),
    point("m", { a: "1" }),
    point("m", {}),
  );
  assert.equal(different.added.length, 6);
  assert.equal(admit(point("m", {}, "am")).added.length, 1);
  assert.equal(guard.total, 8);
  const seeded = new SeriesGuard(
    { maxSeriesPerAgent: 1, maxSeriesTotal: 1, maxNewSeriesPerAgentPerMinute: 1 },
    [{ agentId: "a", metricName: "m", labels: { y: "2", x: "1" } }],
  );
  const again = seeded.admit({
    agentId: "a",
    timestampMs: 1,
    dataPoints: [point("m", { x: "1", y: "2" })],
  }, 0);
  assert.equal(again.refusedPoints, 0);
  assert.equal(again.added.length, 0);
});
