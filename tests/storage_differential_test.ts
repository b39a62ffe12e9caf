/**
 * The row engine is the reference: both engines are fed the same randomized streams
 * (interleaved series, gaps, late samples, re-sends, conflicts, counter resets, huge and tiny
 * magnitudes, -0, midnight crossings, reopening) and must answer every query the same way.
 *
 * Raw samples and buckets must match to the bit: both engines aggregate with `BucketStats`,
 * whose sums are exact whatever the grouping (rollups, chunk statistics, raw samples).
 */
import assert from "node:assert/strict";
import { ManualClock } from "../shared/clock.ts";
import { MS_PER_DAY } from "../shared/time.ts";
import type { Labels, MetricDataPoint } from "../shared/types.ts";
import type { BucketedSeries, MetricStore, RawSeries } from "../server/storage/types.ts";
import { openRowStore } from "../server/storage/row_engine.ts";
import { openChunkStore } from "../server/storage/chunk/engine.ts";
import { Random } from "./helpers/chunk_random.ts";

const START_MS = Date.UTC(2026, 2, 9, 21, 30);
const SERIES: { agentId: string; metricName: string; labels: Labels }[] = [
  { agentId: "a", metricName: "cpu.usage", labels: {} },
  { agentId: "a", metricName: "memory.used", labels: {} },
  { agentId: "a", metricName: "network.bytes_recv", labels: { interface: "eth0" } },
  { agentId: "a", metricName: "disk.used", labels: { mount: "/" } },
  { agentId: "a", metricName: "disk.used", labels: { mount: "/var" } },
  { agentId: "b", metricName: "cpu.usage", labels: {} },
  { agentId: "b", metricName: "system.uptime", labels: {} },
  { agentId: "b", metricName: "odd", labels: { x: "1", a: "2" } },
];

interface StreamState {
  /** Newest timestamp written per series. */
  newest: number[];
  /** Last value per series (for counters). */
  last: number[];
  /** Points written so far, for re-sends and conflicts. */
  history: MetricDataPoint[];
}

function nextValue(random: Random, series: number, previous: number): number {
  switch (random.int(0, 11)) {
    case 0:
      return random.chance(0.5) ? -0 : 0;
    case 1:
      return random.pick([1e300, -1e300, 5e-324, -1e-300, 2 ** 60, 1.5e-10]);
    case 2:
      return random.float64Bits() % 1e12;
    case 3:
      return 0; // counter reset
    default:
      if (series % 3 === 0) return Math.round(random.next() * 10_000) / 100;
      if (series % 3 === 1) return previous + random.int(0, 5_000) * 4096;
      return random.next() * 1e6;
  }
}

function makeWrite(random: Random, state: StreamState): MetricDataPoint[] {
  const points: MetricDataPoint[] = [];
  const size = random.int(1, 120);
  for (let n = 0; n < size; n++) {
    const roll = random.next();
    if (roll < 0.06 && state.history.length > 0) {
      points.push({ ...random.pick(state.history) }); // re-send
      continue;
    }
    if (roll < 0.1 && state.history.length > 0) {
      const earlier = random.pick(state.history);
      points.push({ ...earlier, value: earlier.value + 1 }); // conflict
      continue;
    }
    const series = random.int(0, SERIES.length - 1);
    let timestampMs: number;
    if (roll < 0.2) {
      timestampMs = state.newest[series] - random.int(1, 10 * 3_600_000); // late
    } else if (roll < 0.206) {
      timestampMs = state.newest[series] + random.int(3_600_000, 8 * 3_600_000); // gap
    } else {
      timestampMs = state.newest[series] + random.int(1_000, 20_000);
    }
    if (timestampMs < START_MS - 12 * 3_600_000) continue;
    const value = nextValue(random, series, state.last[series]);
    state.last[series] = value;
    if (timestampMs > state.newest[series]) state.newest[series] = timestampMs;
    const point: MetricDataPoint = {
      ...SERIES[series],
      labels: { ...SERIES[series].labels },
      timestampMs,
      value,
    };
    points.push(point);
    state.history.push(point);
  }
  return points;
}

function assertSameRaw(actual: RawSeries[], expected: RawSeries[], context: string): void {
  assert.equal(actual.length, expected.length, `${context}: series count`);
  for (let s = 0; s < expected.length; s++) {
    const [a, e] = [actual[s], expected[s]];
    assert.deepEqual(
      { agentId: a.agentId, metricName: a.metricName, labels: a.labels },
      { agentId: e.agentId, metricName: e.metricName, labels: e.labels },
      `${context}: series ${s}`,
    );
    assert.equal(a.samples.length, e.samples.length, `${context}: ${e.metricName} sample count`);
    for (let i = 0; i < e.samples.length; i++) {
      const [x, y] = [a.samples[i], e.samples[i]];
      if (x.timestampMs !== y.timestampMs || !Object.is(x.value, y.value)) {
        assert.fail(`${context}: ${e.metricName} sample ${i}: ${JSON.stringify([x, y])}`);
      }
    }
  }
}

function assertSameBuckets(actual: BucketedSeries[], expected: BucketedSeries[], context: string) {
  assert.equal(actual.length, expected.length, `${context}: series count`);
  for (let s = 0; s < expected.length; s++) {
    const [a, e] = [actual[s], expected[s]];
    assert.equal(a.metricName, e.metricName, context);
    assert.equal(a.buckets.length, e.buckets.length, `${context}: ${e.metricName} bucket count`);
    for (let i = 0; i < e.buckets.length; i++) {
      const [x, y] = [a.buckets[i], e.buckets[i]];
      const where = `${context}: ${e.metricName} bucket ${i} ${JSON.stringify([x, y])}`;
      assert.equal(x.timestampMs, y.timestampMs, where);
      assert.equal(x.count, y.count, where);
      assert.ok(Object.is(x.min, y.min) && Object.is(x.max, y.max), where);
      assert.ok(Object.is(x.avg, y.avg), where);
    }
  }
}

function compareQueries(random: Random, chunk: MetricStore, row: MetricStore, context: string) {
  const everything = { fromMs: 0, toMs: START_MS + 30 * MS_PER_DAY };
  assertSameRaw(chunk.queryRaw(everything), row.queryRaw(everything), `${context} all`);
  assert.deepEqual(chunk.listSeries(), row.listSeries(), `${context} listSeries`);
  for (const agentId of ["a", "b"]) {
    assert.deepEqual(chunk.latest(agentId), row.latest(agentId), `${context} latest ${agentId}`);
  }
  for (let q = 0; q < 12; q++) {
    const fromMs = START_MS + random.int(-12, 60) * 3_600_000 + random.int(0, 3_599_999);
    const toMs = fromMs + random.int(0, 40 * 3_600_000);
    const filter = random.pick([{}, { agentId: "a" }, { metricName: "cpu.usage" }, {
      labels: { mount: "/" },
    }]);
    const query = { ...filter, fromMs, toMs };
    const where = `${context} query ${JSON.stringify(query)}`;
    assertSameRaw(chunk.queryRaw(query), row.queryRaw(query), where);
    const stepMs = random.pick([1_000, 60_000, 7 * 60_000 + 13, 3_600_000, 5 * 3_600_000, 1e9]);
    assertSameBuckets(
      chunk.queryBuckets(query, stepMs),
      row.queryBuckets(query, stepMs),
      `${where} step ${stepMs}`,
    );
  }
}

Deno.test("chunk and row engines store and answer randomized streams identically", async (t) => {
  for (let seed = 1; seed <= 12; seed++) {
    await t.step(`seed ${seed}`, async () => {
      const random = new Random(seed);
      const rowDir = await Deno.makeTempDir({ prefix: "oxmon-diff-row-" });
      const chunkDir = await Deno.makeTempDir({ prefix: "oxmon-diff-chunk-" });
      const clock = new ManualClock(START_MS);
      const openChunk = () => openChunkStore({ dataDir: chunkDir, clock, maxOpenPartitions: 8 });
      let row = openRowStore({ dataDir: rowDir, maxOpenPartitions: 8 });
      let chunk = openChunk();
      try {
        const state: StreamState = {
          newest: SERIES.map(() => START_MS),
          last: SERIES.map(() => 0),
          history: [],
        };
        for (let w = 0; w < 250; w++) {
          const points = makeWrite(random, state);
          clock.set(Math.max(clock.now(), ...points.map((point) => point.timestampMs)));
          const fromChunk = chunk.write(points);
          const fromRow = row.write(points);
          assert.deepEqual(fromChunk, fromRow, `write ${w}`);
          if (random.chance(0.03)) {
            chunk.close();
            chunk = openChunk();
            row.close();
            row = openRowStore({ dataDir: rowDir, maxOpenPartitions: 8 });
          }
          if (w % 80 === 79) compareQueries(random, chunk, row, `seed ${seed} write ${w}`);
        }
        compareQueries(random, chunk, row, `seed ${seed} end`);
        chunk.close();
        chunk = openChunk();
        compareQueries(random, chunk, row, `seed ${seed} reopened`);
      } finally {
        chunk.close();
        row.close();
        await Deno.remove(rowDir, { recursive: true });
        await Deno.remove(chunkDir, { recursive: true });
      }
    });
  }
});
