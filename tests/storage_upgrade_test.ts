/**
 * A data directory written before rollups existed keeps working: its hourly chunks (format
 * version 1) and its head log are read, queries aggregate them, new samples go in beside them,
 * its finished days are compacted with rollups built from their samples, and once raw
 * retention takes a day its rollups answer for it.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { openChunkStore } from "../server/storage/chunk/engine.ts";
import { BucketAccumulator } from "../server/storage/bucket_stats.ts";
import type { MetricStore } from "../server/storage/types.ts";
import { ManualClock } from "../shared/clock.ts";
import type { MetricDataPoint } from "../shared/types.ts";
import { copy } from "./helpers/copy_dir.ts";

const FIXTURE = new URL("./fixtures/chunk_v1", import.meta.url).pathname;
const DAY = Date.UTC(2026, 2, 1);
const HOUR = 3_600_000;

/** What the fixture holds (see its README). */
function legacyPoints(): MetricDataPoint[] {
  const points: MetricDataPoint[] = [];
  for (let i = 0; i < 30 * 360; i++) {
    const ts = DAY + i * 10_000;
    points.push({
      agentId: "old-1",
      metricName: "cpu.usage",
      labels: {},
      timestampMs: ts,
      value: Math.round(Math.abs(Math.sin(i / 50)) * 10_000) / 100,
    });
    points.push({
      agentId: "old-1",
      metricName: "memory.used",
      labels: {},
      timestampMs: ts,
      value: 8 * 2 ** 30 + (i % 97) * 4096,
    });
    if (i % 6 === 0) {
      points.push({
        agentId: "old-2",
        metricName: "disk.used_percent",
        labels: { mount: "/" },
        timestampMs: ts,
        value: 40 + (i % 300) / 10,
      });
    }
  }
  return points;
}

function keyOf(series: { agentId: string; metricName: string }): string {
  return `${series.agentId} ${series.metricName}`;
}

function assertAnswers(
  store: MetricStore,
  points: MetricDataPoint[],
  fromMs: number,
  context: string,
) {
  const expected = new Map<string, Array<[number, number]>>();
  for (const point of points) {
    if (point.timestampMs < fromMs) continue;
    const key = keyOf(point);
    if (!expected.has(key)) expected.set(key, []);
    expected.get(key)!.push([point.timestampMs, point.value]);
  }
  const range = { fromMs, toMs: DAY + 3 * 86_400_000 };
  const raw = store.queryRaw(range);
  assert.deepEqual(raw.map(keyOf).sort(), [...expected.keys()].sort(), context);
  for (const series of raw) {
    const want = expected.get(keyOf(series))!.sort((a, b) => a[0] - b[0]);
    assert.deepEqual(
      series.samples.map((sample) => [sample.timestampMs, sample.value]),
      want,
      `${context}: ${keyOf(series)}`,
    );
  }
  for (const stepMs of [300_000, HOUR, 86_400_000]) {
    for (const series of store.queryBuckets(range, stepMs)) {
      const buckets = new BucketAccumulator(range.fromMs, stepMs);
      for (const [ts, value] of expected.get(keyOf(series)) ?? []) buckets.add(ts, value);
      assert.deepEqual(
        series.buckets,
        buckets.finish(),
        `${context}: ${keyOf(series)} step ${stepMs}`,
      );
    }
  }
}

Deno.test("a data directory written before rollups is read, extended, compacted and rolled up", async () => {
  const dataDir = await Deno.makeTempDir({ prefix: "oxmon-upgrade-" });
  try {
    await copy(FIXTURE, dataDir);
    await Deno.remove(join(dataDir, "README.md"));
    const clock = new ManualClock(DAY + 31 * HOUR);
    let store = openChunkStore({ dataDir, clock });
    const points = legacyPoints();
    try {
      assertAnswers(store, points, DAY, "as found, head log replayed");
      const more: MetricDataPoint[] = Array.from({ length: 120 }, (_, i) => ({
        agentId: "old-1",
        metricName: "cpu.usage",
        labels: {},
        timestampMs: DAY + 30 * HOUR + i * 10_000,
        value: i / 4,
      }));
      assert.deepEqual(store.write(more), { written: 120, duplicates: 0, conflicts: 0 });
      points.push(...more);
      assert.deepEqual(store.write(points.slice(0, 500)).duplicates, 500, "old samples are known");
      assertAnswers(store, points, DAY, "extended");
      store.close();
      clock.set(DAY + 3 * 86_400_000);
      store = openChunkStore({ dataDir, clock });
      // After a restart a finished day waits a quiet minute before it is compacted.
      assert.equal(store.maintain!(clock.now(), 50), false);
      clock.set(clock.now() + 2 * 60_000);
      while (store.maintain!(clock.now(), 50)) { /* compact both days */ }
      assert.deepEqual(store.stats().uncompactedDays, []);
      assertAnswers(store, points, DAY, "compacted");
      assert.deepEqual(store.deleteBefore(DAY + 86_400_000, clock.now()), ["2026-03-01"]);
      // The first day is gone; its rollups still answer the steps they divide.
      const range = { fromMs: DAY, toMs: DAY + 86_400_000 - 1 };
      const cpu = store.queryBuckets({ ...range, metricName: "cpu.usage" }, HOUR)[0].buckets;
      assert.equal(cpu.length, 24);
      assert.ok(cpu.every((bucket) => bucket.count === 360));
      assertAnswers(store, points, DAY + 86_400_000, "after raw retention, from the second day");
    } finally {
      store.close();
    }
  } finally {
    await Deno.remove(dataDir, { recursive: true });
  }
});
