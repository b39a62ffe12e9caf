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
import { MS_PER_DAY, utcDay } from "../shared/time.ts";
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
    // Steps and starts rollups can answer.
    const rollupStep = random.pick([300_000, 900_000, 3_600_000, 6 * 3_600_000, MS_PER_DAY]);
    const aligned = { ...query, fromMs: query.fromMs - (query.fromMs % rollupStep) };
    assertSameBuckets(
      chunk.queryBuckets(aligned, rollupStep),
      row.queryBuckets(aligned, rollupStep),
      `${where} aligned step ${rollupStep}`,
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
          // Seals idle hours, merges quiet late samples, compacts finished quiet days, in
          // small steps between writes.
          if (random.chance(0.1)) chunk.maintain!(clock.now(), random.int(0, 3));
          if (w % 80 === 79) compareQueries(random, chunk, row, `seed ${seed} write ${w}`);
        }
        compareQueries(random, chunk, row, `seed ${seed} end`);
        chunk.close();
        chunk = openChunk();
        compareQueries(random, chunk, row, `seed ${seed} reopened`);
        clock.set(clock.now() + 2 * MS_PER_DAY);
        while (chunk.maintain!(clock.now(), 50)) { /* until every past day is compacted */ }
        assert.deepEqual(chunk.stats().uncompactedDays, []);
        compareQueries(random, chunk, row, `seed ${seed} compacted`);
      } finally {
        chunk.close();
        row.close();
        await Deno.remove(rowDir, { recursive: true });
        await Deno.remove(chunkDir, { recursive: true });
      }
    });
  }
});

/** Start of the arrival-order day: the data runs 20:00 one day to 12:00 the next. */
const ORDER_START_MS = Date.UTC(2026, 4, 4, 20);
const ORDER_END_MS = ORDER_START_MS + 16 * 3_600_000;
const ORDER_HOSTS = ["web-1", "web-2", "db-1"];

/**
 * Batches of three hosts (six series each, every 60 s, five rounds a batch, as an agent drains
 * its buffer), in time order: host metrics with short decimals, one series of binary fractions
 * and one of zeros of both signs, so rollups take every path of `BucketStats`.
 */
function hostBatches(): MetricDataPoint[][] {
  const batches: MetricDataPoint[][] = [];
  const random = new Random(77);
  for (let ts = ORDER_START_MS; ts < ORDER_END_MS; ts += 5 * 60_000) {
    for (const agentId of ORDER_HOSTS) {
      const batch: MetricDataPoint[] = [];
      for (let round = 0; round < 5; round++) {
        const at = ts + round * 60_000 + ORDER_HOSTS.indexOf(agentId) * 1_000;
        const point = (metricName: string, value: number, labels: Labels = {}) =>
          batch.push({ agentId, metricName, labels, timestampMs: at, value });
        point("cpu.usage", random.int(0, 10_000) / 100);
        point("memory.used", 8 * 2 ** 30 + random.int(-2_000, 2_000) * 4096);
        point("disk.used_percent", 40 + random.int(0, 30) / 10, { mount: "/" });
        point("network.bytes_recv", random.int(0, 2_000_000) / 10, { interface: "eth0" });
        point("ratio", Math.sin(at / 7_919));
        point("zero", random.chance(0.5) ? 0 : -0);
      }
      batches.push(batch);
    }
  }
  return batches;
}

/** Ways the same batches can arrive. */
const ARRIVAL_ORDERS: Record<
  string,
  (batches: MetricDataPoint[][], random: Random) => MetricDataPoint[][]
> = {
  "in time order": (batches) => batches,
  "reversed batches": (batches) => [...batches].reverse(),
  "interleaved hosts (one host after another)": (batches) =>
    ORDER_HOSTS.flatMap((host) => batches.filter((batch) => batch[0].agentId === host)),
  "racing connections (shuffled within 8)": (batches, random) => {
    const out = [...batches];
    for (let at = 0; at < out.length; at += 8) {
      const window = out.slice(at, at + 8);
      for (let i = window.length - 1; i > 0; i--) {
        const j = random.int(0, i);
        [window[i], window[j]] = [window[j], window[i]];
      }
      out.splice(at, window.length, ...window);
    }
    return out;
  },
  "late hours (every fourth hour sent last)": (batches) => {
    const late = (batch: MetricDataPoint[]) =>
      Math.floor(batch[0].timestampMs / 3_600_000) % 4 === 1;
    return [...batches.filter((batch) => !late(batch)), ...batches.filter(late).reverse()];
  },
  "stragglers three hours late (into sealed hours)": (batches, random) => {
    const out = [...batches];
    for (let i = out.length - 1; i >= 0; i--) {
      if (!random.chance(0.05)) continue;
      const [late] = out.splice(i, 1);
      out.splice(Math.min(out.length, i + 36 * ORDER_HOSTS.length), 0, late);
    }
    return out;
  },
  "duplicates and conflicts among racing batches": (batches, random) => {
    const out: MetricDataPoint[][] = [];
    for (const batch of ARRIVAL_ORDERS["racing connections (shuffled within 8)"](batches, random)) {
      out.push(batch);
      if (random.chance(0.15)) out.push(random.pick(out)); // a retried batch
      if (random.chance(0.05)) {
        const earlier = random.pick(out);
        out.push([{ ...earlier[0], value: earlier[0].value + 1 }, ...earlier.slice(1)]);
      }
    }
    return out;
  },
  "any order": (batches, random) => {
    const out = [...batches];
    for (let i = out.length - 1; i > 0; i--) {
      const j = random.int(0, i);
      [out[i], out[j]] = [out[j], out[i]];
    }
    return out;
  },
};

/** Raw samples and buckets over the whole data, at steps rollups answer and steps they do not. */
function compareOrderQueries(
  chunk: MetricStore,
  row: MetricStore,
  context: string,
  fromMs = ORDER_START_MS,
) {
  const all = { fromMs, toMs: ORDER_END_MS };
  assertSameRaw(chunk.queryRaw(all), row.queryRaw(all), `${context} raw`);
  for (const stepMs of [60_000, 300_000, 900_000, 3_600_000, 6 * 3_600_000, MS_PER_DAY]) {
    const query = { ...all, fromMs: fromMs - (fromMs % stepMs) };
    assertSameBuckets(
      chunk.queryBuckets(query, stepMs),
      row.queryBuckets(query, stepMs),
      `${context} step ${stepMs}`,
    );
  }
  const cut = { fromMs: fromMs - (fromMs % 300_000), toMs: ORDER_END_MS - 123_457 };
  assertSameBuckets(
    chunk.queryBuckets(cut, 300_000),
    row.queryBuckets(cut, 300_000),
    `${context} cut end`,
  );
  const odd = { fromMs: fromMs + 7_001, toMs: ORDER_END_MS };
  assertSameBuckets(
    chunk.queryBuckets(odd, 420_013),
    row.queryBuckets(odd, 420_013),
    `${context} odd step`,
  );
}

Deno.test("every arrival order stores and answers the same, before and after compaction", async (t) => {
  const batches = hostBatches();
  for (const [name, arrange] of Object.entries(ARRIVAL_ORDERS)) {
    await t.step(name, async () => {
      const random = new Random(name.length);
      const arrived = arrange(batches, random);
      const rowDir = await Deno.makeTempDir({ prefix: "oxmon-order-row-" });
      const chunkDir = await Deno.makeTempDir({ prefix: "oxmon-order-chunk-" });
      // A backfill: the data is all in the past, arriving 2 s of wall time per batch.
      const clock = new ManualClock(ORDER_END_MS + 10 * 60_000);
      const openChunk = () => openChunkStore({ dataDir: chunkDir, clock });
      const row = openRowStore({ dataDir: rowDir });
      let chunk = openChunk();
      try {
        for (let w = 0; w < arrived.length; w++) {
          clock.set(clock.now() + 2_000);
          assert.deepEqual(chunk.write(arrived[w]), row.write(arrived[w]), `${name}: write ${w}`);
          if (w % 25 === 24) chunk.maintain!(clock.now(), 2);
          if (w === Math.floor(arrived.length / 2)) {
            compareOrderQueries(chunk, row, `${name} half-way`);
            chunk.close();
            chunk = openChunk();
          }
        }
        compareOrderQueries(chunk, row, `${name} written`);
        clock.set(clock.now() + MS_PER_DAY);
        while (chunk.maintain!(clock.now(), 50)) { /* compact every past day */ }
        assert.deepEqual(chunk.stats().uncompactedDays, []);
        compareOrderQueries(chunk, row, `${name} compacted`);
        // Raw retention takes the first day; its rollups answer aligned steps alone.
        const secondDay = ORDER_START_MS - (ORDER_START_MS % MS_PER_DAY) + MS_PER_DAY;
        assert.deepEqual(chunk.deleteBefore(secondDay, clock.now()), [utcDay(ORDER_START_MS)]);
        for (const stepMs of [300_000, 3_600_000, 4 * 3_600_000]) {
          const query = { fromMs: ORDER_START_MS, toMs: ORDER_END_MS - 1 };
          assertSameBuckets(
            chunk.queryBuckets(query, stepMs),
            row.queryBuckets(query, stepMs),
            `${name} past raw retention, step ${stepMs}`,
          );
        }
        assertSameRaw(
          chunk.queryRaw({ fromMs: 0, toMs: ORDER_END_MS }),
          row.queryRaw({ fromMs: secondDay, toMs: ORDER_END_MS }),
          `${name} raw after retention`,
        );
      } finally {
        chunk.close();
        row.close();
        await Deno.remove(rowDir, { recursive: true });
        await Deno.remove(chunkDir, { recursive: true });
      }
    });
  }
});

Deno.test("rollup tiers answer like the raw samples across day and month ends, and each goes by whole months", () => {
  const start = Date.UTC(2026, 0, 31, 20);
  const end = Date.UTC(2026, 1, 1, 4);
  const random = new Random(12);
  const batches: MetricDataPoint[][] = [];
  for (let t = start; t < end; t += 600_000) {
    const batch: MetricDataPoint[] = [];
    for (let ts = t; ts < t + 600_000; ts += 10_000) {
      batch.push(
        { agentId: "a", metricName: "cpu.usage", labels: {}, timestampMs: ts, value: 0 },
        { agentId: "a", metricName: "net", labels: {}, timestampMs: ts, value: 0 },
      );
    }
    for (const point of batch) {
      point.value = point.metricName === "cpu.usage"
        ? Math.round(random.next() * 10_000) / 100
        : random.next() * 1e6;
    }
    batches.push(batch);
  }
  // Late batches too: every third one arrives after the rest.
  const arrived = [
    ...batches.filter((_, i) => i % 3 !== 0),
    ...batches.filter((_, i) => i % 3 === 0),
  ];
  const dataDir = Deno.makeTempDirSync({ prefix: "oxmon-tiers-chunk-" });
  const rowDir = Deno.makeTempDirSync({ prefix: "oxmon-tiers-row-" });
  const clock = new ManualClock(Date.UTC(2026, 1, 3));
  const rollupTiers = [
    { name: "5m", resolutionMs: 300_000, retentionDays: 30, packing: "zstd" as const },
    { name: "1h", resolutionMs: 3_600_000, retentionDays: 400, packing: "brotli" as const },
  ];
  const chunk = openChunkStore({ dataDir, clock, rollupTiers });
  const row = openRowStore({ dataDir: rowDir });
  const tierFiles = () =>
    [...Deno.readDirSync(dataDir)].map((entry) => entry.name).filter((name) =>
      /^rollup-.*\.db$/.test(name)
    ).sort();
  const dayEnd = Date.UTC(2026, 1, 2) - 1;
  const compare = (stepMs: number, fromMs: number, context: string) => {
    const aligned = fromMs - (fromMs % stepMs);
    assertSameBuckets(
      chunk.queryBuckets({ fromMs: start - (start % stepMs), toMs: dayEnd }, stepMs),
      row.queryBuckets({ fromMs: aligned, toMs: dayEnd }, stepMs),
      `${context}, step ${stepMs}`,
    );
  };
  try {
    for (const [w, batch] of arrived.entries()) {
      assert.deepEqual(chunk.write(batch), row.write(batch));
      clock.set(clock.now() + 20_000);
      if (w % 4 === 3) chunk.maintain!(clock.now(), 5); // seals: the late batches merge later
    }
    clock.set(clock.now() + 10 * 60_000);
    while (chunk.maintain!(clock.now(), 50)) { /* seal, merge and compact both days */ }
    assert.deepEqual(chunk.stats().uncompactedDays, []);
    assert.deepEqual(chunk.deleteBefore(Date.UTC(2026, 1, 2), clock.now()), [
      "2026-01-31",
      "2026-02-01",
    ]);
    assert.deepEqual(tierFiles(), [
      "rollup-1h-2026-01.db",
      "rollup-1h-2026-02.db",
      "rollup-5m-2026-01.db",
      "rollup-5m-2026-02.db",
    ]);
    for (const stepMs of [300_000, 900_000, 3_600_000, 6 * 3_600_000, MS_PER_DAY]) {
      compare(stepMs, start, "raw samples gone, both tiers");
    }
    // January's 5-minute file goes once the whole month is 30 days old (March 3), not before.
    chunk.deleteBefore(Date.UTC(2026, 1, 2), Date.UTC(2026, 2, 3) - 1);
    assert.equal(tierFiles().length, 4, "a month partly within retention stays whole");
    chunk.deleteBefore(Date.UTC(2026, 1, 2), Date.UTC(2026, 2, 3));
    assert.deepEqual(tierFiles(), [
      "rollup-1h-2026-01.db",
      "rollup-1h-2026-02.db",
      "rollup-5m-2026-02.db",
    ]);
    compare(3_600_000, start, "January's 5-minute tier gone");
    compare(300_000, Date.UTC(2026, 1, 1), "January's 5-minute tier gone");
    chunk.deleteBefore(Date.UTC(2026, 1, 2), Date.UTC(2026, 2, 31));
    assert.deepEqual(tierFiles(), ["rollup-1h-2026-01.db", "rollup-1h-2026-02.db"]);
    for (const stepMs of [3_600_000, 6 * 3_600_000, MS_PER_DAY]) {
      compare(stepMs, start, "hourly tier alone");
    }
    assert.deepEqual(chunk.queryBuckets({ fromMs: start, toMs: dayEnd }, 300_000), []);
  } finally {
    chunk.close();
    row.close();
    Deno.removeSync(dataDir, { recursive: true });
    Deno.removeSync(rowDir, { recursive: true });
  }
});
