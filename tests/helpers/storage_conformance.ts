/**
 * The storage tests every engine must pass, written against `MetricStore` and the on-disk
 * contract only (one SQLite file per UTC day named `YYYY-MM-DD.db`, in WAL mode). Nothing here
 * knows an engine's schema, so the same suite checks the row engine and the chunk engine.
 *
 * Usage, in an engine's `_test.ts`:
 * `defineStorageConformanceTests("row", (dataDir) => openRowStore({ dataDir }));`
 */
import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import { MS_PER_DAY, MS_PER_HOUR, MS_PER_MINUTE, utcDay } from "../../shared/time.ts";
import type { Labels, MetricDataPoint } from "../../shared/types.ts";
import type {
  Bucket,
  MetricStore,
  SeriesKey,
  SeriesQuery,
  WriteResult,
} from "../../server/storage/types.ts";
import { partitionPath } from "../../server/storage/partition_files.ts";

/** 2026-01-01T00:00:00Z; partition days below are counted from it. */
const D0 = Date.UTC(2026, 0, 1);
const day = (n: number) => D0 + n * MS_PER_DAY;
/** `YYYY-MM-DD` of day `n` counted from D0. */
const dayName = (n: number) => utcDay(day(n));
const ALL_TIME = { fromMs: 0, toMs: day(400) };

function point(
  agentId: string,
  metricName: string,
  timestampMs: number,
  value: number,
  labels: Labels = {},
): MetricDataPoint {
  return { agentId, metricName, timestampMs, value, labels };
}

/** The counts every engine reports; engines may add fields of their own (`tooOld`). */
function counts(result: WriteResult): Pick<WriteResult, "written" | "duplicates" | "conflicts"> {
  return { written: result.written, duplicates: result.duplicates, conflicts: result.conflicts };
}

/** A data directory with a store open on it; `reopen` closes and opens the engine again. */
interface Harness {
  dataDir: string;
  store: MetricStore;
  reopen(): MetricStore;
  closeStore(): void;
}

async function withStore(
  open: (dataDir: string) => MetricStore,
  fn: (harness: Harness) => void | Promise<void>,
): Promise<void> {
  const dataDir = await Deno.makeTempDir({ prefix: "oxmon-storage-" });
  let store: MetricStore | undefined;
  const harness: Harness = {
    dataDir,
    get store() {
      store ??= open(dataDir);
      return store;
    },
    reopen() {
      store?.close();
      store = open(dataDir);
      return store;
    },
    closeStore() {
      store?.close();
      store = undefined;
    },
  };
  try {
    await fn(harness);
  } finally {
    store?.close();
    await Deno.remove(dataDir, { recursive: true });
  }
}

function exists(path: string): boolean {
  try {
    Deno.statSync(path);
    return true;
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return false;
    throw error;
  }
}

function partitionFiles(dataDir: string, n: number): string[] {
  const path = partitionPath(dataDir, dayName(n));
  return [path, `${path}-wal`, `${path}-shm`];
}

/**
 * Partition days as the store reports them after a reopen: an engine may hold recent samples
 * in memory and create a day's file only when it flushes them.
 */
function daysAfterReopen(harness: Harness): string[] {
  return harness.reopen().stats().partitions.map((partition) => partition.day);
}

/** `[timestampMs, value]` pairs of the one series a query must return. */
function onlySeries(store: MetricStore, query: SeriesQuery): [number, number][] {
  const found = store.queryRaw(query);
  assert.equal(found.length, 1, `expected one series, got ${found.length}`);
  return found[0].samples.map((sample) => [sample.timestampMs, sample.value]);
}

function sortedKeys(keys: SeriesKey[]): string[] {
  return keys.map((key) => `${key.agentId} ${key.metricName} ${JSON.stringify(key.labels)}`)
    .sort();
}

/** What a bucketed query must return for these samples: the definition, written plainly. */
function expectedBuckets(
  samples: readonly [number, number][],
  fromMs: number,
  toMs: number,
  stepMs: number,
): Bucket[] {
  const byIndex = new Map<number, number[]>();
  for (const [ts, value] of samples) {
    if (ts < fromMs || ts > toMs) continue;
    const index = Math.floor((ts - fromMs) / stepMs);
    byIndex.set(index, [...byIndex.get(index) ?? [], value]);
  }
  return [...byIndex.entries()].sort(([a], [b]) => a - b).map(([index, values]) => ({
    timestampMs: fromMs + index * stepMs,
    avg: values.reduce((sum, value) => sum + value, 0) / values.length,
    min: Math.min(...values),
    max: Math.max(...values),
    count: values.length,
  }));
}

/**
 * Two series of one agent sampled every 2 h for 15 days. Values are multiples of 0.25, so every
 * sum is exact whatever order an engine adds in, and averages can be compared with `===`.
 */
function fifteenDays(): {
  a: [number, number][];
  b: [number, number][];
  points: MetricDataPoint[];
} {
  const a: [number, number][] = [];
  const b: [number, number][] = [];
  const points: MetricDataPoint[] = [];
  for (let i = 0; i < 15 * 12; i++) {
    const ts = D0 + i * 2 * MS_PER_HOUR + 17;
    a.push([ts, (i % 37) * 0.25]);
    b.push([ts, 100 - (i % 23) * 0.5]);
    points.push(point("web-1", "cpu.usage", ts, a[i][1]));
    points.push(point("web-1", "disk.used_percent", ts, b[i][1], { mount: "/" }));
  }
  return { a, b, points };
}

export function defineStorageConformanceTests(
  engineName: string,
  open: (dataDir: string) => MetricStore,
): void {
  const test = (name: string, fn: (t: Deno.TestContext) => void | Promise<void>) =>
    Deno.test(`${engineName} storage: ${name}`, fn);

  test("keeps each UTC day in its own SQLite file in WAL mode", async () => {
    await withStore(open, ({ store, dataDir, reopen, closeStore }) => {
      store.write([
        point("a", "cpu.usage", day(0) + MS_PER_HOUR, 1),
        point("a", "cpu.usage", day(1) - 1, 2),
        point("a", "cpu.usage", day(1), 3),
        point("a", "cpu.usage", day(2) + 5 * MS_PER_HOUR, 4),
      ]);
      closeStore();
      for (const n of [0, 1, 2]) {
        const path = partitionPath(dataDir, dayName(n));
        const header = new TextDecoder().decode(Deno.readFileSync(path).subarray(0, 16));
        assert.equal(header, "SQLite format 3\0", `${path} is not a SQLite file`);
        const db = new DatabaseSync(path);
        try {
          const row = db.prepare("PRAGMA journal_mode").get() as { journal_mode: string };
          assert.equal(row.journal_mode, "wal", `${path} is not in WAL mode`);
        } finally {
          db.close();
        }
      }
      assert.equal(exists(partitionPath(dataDir, dayName(-1))), false);
      assert.equal(exists(partitionPath(dataDir, dayName(3))), false);
      // The last millisecond of a day belongs to that day, midnight to the next: deleting day 0
      // must take exactly the first two samples.
      const reopened = reopen();
      assert.deepEqual(reopened.deleteBefore(day(1), day(10)), [dayName(0)]);
      assert.deepEqual(onlySeries(reopened, { ...ALL_TIME }), [[day(1), 3], [
        day(2) + 5 * MS_PER_HOUR,
        4,
      ]]);
    });
  });

  test("a write with an invalid point stores nothing of it", async (t) => {
    const invalid: [string, Partial<MetricDataPoint> & Record<string, unknown>][] = [
      ["NaN value", { value: NaN }],
      ["infinite value", { value: Infinity }],
      ["negative infinite value", { value: -Infinity }],
      ["fractional timestamp", { timestampMs: day(1) + 0.5 }],
      ["negative timestamp", { timestampMs: -1 }],
      ["empty agent id", { agentId: "" }],
      ["empty metric name", { metricName: "" }],
      ["non-string label value", { labels: { core: 3 as unknown as string } }],
      ["string value", { value: "1" as unknown as number }],
    ];
    for (const [name, override] of invalid) {
      await t.step(name, async () => {
        await withStore(open, ({ store }) => {
          const before = point("a", "cpu.usage", day(0), 1);
          store.write([before]);
          const batch = [
            point("a", "cpu.usage", day(0) + MS_PER_MINUTE, 2),
            point("a", "memory.used", day(0) + 2 * MS_PER_MINUTE, 4096),
            point("a", "cpu.usage", day(1) + MS_PER_MINUTE, 3),
            { ...point("a", "cpu.usage", day(1) + 2 * MS_PER_MINUTE, 5), ...override },
          ];
          assert.throws(
            () => store.write(batch),
            (error: unknown) => {
              assert.ok(
                error instanceof TypeError || error instanceof RangeError,
                `expected a TypeError or RangeError, got ${error}`,
              );
              assert.match(error.message, /points\[3\]/);
              return true;
            },
          );
          assert.deepEqual(onlySeries(store, { ...ALL_TIME }), [[day(0), 1]]);
          assert.deepEqual(sortedKeys(store.listSeries()), ["a cpu.usage {}"]);
          assert.equal(store.stats().seriesCount, 1);
          assert.deepEqual(counts(store.write(batch.slice(0, 3))), {
            written: 3,
            duplicates: 0,
            conflicts: 0,
          });
        });
      });
    }
  });

  test("an empty write stores nothing", async () => {
    await withStore(open, ({ store }) => {
      assert.deepEqual(counts(store.write([])), { written: 0, duplicates: 0, conflicts: 0 });
      assert.deepEqual(store.queryRaw({ ...ALL_TIME }), []);
      assert.deepEqual(store.listSeries(), []);
    });
  });

  test("stores a sample once and refuses a different value for it", async (t) => {
    await t.step("a re-sent batch counts as duplicates", async () => {
      await withStore(open, ({ store }) => {
        const batch = [0, 1, 2].map((i) => point("a", "cpu.usage", day(0) + i * 10_000, i));
        assert.deepEqual(counts(store.write(batch)), { written: 3, duplicates: 0, conflicts: 0 });
        assert.deepEqual(counts(store.write(batch)), { written: 0, duplicates: 3, conflicts: 0 });
        assert.equal(onlySeries(store, { ...ALL_TIME }).length, 3);
      });
    });
    await t.step("a different value is a conflict and the stored value stays", async () => {
      await withStore(open, ({ store }) => {
        store.write([point("a", "cpu.usage", day(0), 10.5)]);
        assert.deepEqual(
          counts(store.write([
            point("a", "cpu.usage", day(0), 10.25),
            point("a", "cpu.usage", day(0) + 1, 7),
          ])),
          { written: 1, duplicates: 0, conflicts: 1 },
        );
        assert.deepEqual(onlySeries(store, { ...ALL_TIME }), [[day(0), 10.5], [day(0) + 1, 7]]);
      });
    });
    await t.step("within one write the first value wins", async () => {
      await withStore(open, ({ store }) => {
        assert.deepEqual(
          counts(store.write([
            point("a", "cpu.usage", day(0), 1),
            point("a", "cpu.usage", day(0), 1),
            point("a", "cpu.usage", day(0) + 1000, 5),
            point("a", "cpu.usage", day(0) + 1000, 6),
          ])),
          { written: 2, duplicates: 1, conflicts: 1 },
        );
        assert.deepEqual(onlySeries(store, { ...ALL_TIME }), [[day(0), 1], [day(0) + 1000, 5]]);
      });
    });
    await t.step("0 and -0 are different values", async () => {
      await withStore(open, ({ store }) => {
        store.write([point("a", "m", day(0), 0), point("a", "m", day(0) + 1, -0)]);
        assert.deepEqual(counts(store.write([point("a", "m", day(0), -0)])), {
          written: 0,
          duplicates: 0,
          conflicts: 1,
        });
        assert.deepEqual(counts(store.write([point("a", "m", day(0) + 1, -0)])), {
          written: 0,
          duplicates: 1,
          conflicts: 0,
        });
        const [first, second] = onlySeries(store, { ...ALL_TIME });
        assert.ok(Object.is(first[1], 0), "0 came back as -0");
        assert.ok(Object.is(second[1], -0), "-0 came back as 0");
      });
    });
    await t.step("label order does not make another series", async () => {
      await withStore(open, ({ store }) => {
        store.write([point("a", "m", day(0), 1, { x: "1", y: "2" })]);
        assert.deepEqual(counts(store.write([point("a", "m", day(0), 1, { y: "2", x: "1" })])), {
          written: 0,
          duplicates: 1,
          conflicts: 0,
        });
        assert.equal(store.listSeries().length, 1);
      });
    });
    await t.step("the same timestamp in another series is a new sample", async () => {
      await withStore(open, ({ store }) => {
        assert.deepEqual(
          counts(store.write([
            point("a", "m", day(0), 1),
            point("b", "m", day(0), 2),
            point("a", "n", day(0), 3),
            point("a", "m", day(0), 4, { core: "0" }),
            point("a", "m", day(0), 5, { core: "1" }),
          ])),
          { written: 5, duplicates: 0, conflicts: 0 },
        );
        assert.equal(store.listSeries().length, 5);
      });
    });
    await t.step("values come back bit for bit", async () => {
      await withStore(open, ({ store }) => {
        const values = [
          0.1,
          1 / 3,
          1e308,
          -1e-300,
          5e-324,
          -1.5,
          2 ** 53,
          2 ** 53 + 2,
          -(2 ** 60),
          123456789.123,
          17179869184,
          -0,
          99.99,
        ];
        store.write(values.map((value, i) => point("a", "m", day(0) + i, value)));
        const stored = onlySeries(store, { ...ALL_TIME }).map(([, value]) => value);
        assert.equal(stored.length, values.length);
        values.forEach((value, i) => assert.ok(Object.is(stored[i], value), `${value}`));
      });
    });
  });

  test("raw queries span partitions, more than 10 of them", async () => {
    await withStore(open, (harness) => {
      const { a, b, points } = fifteenDays();
      harness.store.write(points);
      assert.equal(daysAfterReopen(harness).length, 15);
      const store = harness.store;
      const cpu = { agentId: "web-1", metricName: "cpu.usage" };
      assert.deepEqual(onlySeries(store, { ...cpu, ...ALL_TIME }), a);
      assert.deepEqual(onlySeries(store, { ...cpu, fromMs: 0, toMs: Number.MAX_SAFE_INTEGER }), a);
      const disk = { metricName: "disk.used_percent", labels: { mount: "/" } };
      assert.deepEqual(onlySeries(store, { ...disk, ...ALL_TIME }), b);
      // Both ends are inclusive, and the range covers 11 partitions without covering all.
      const fromMs = a[40][0];
      const toMs = a[170][0];
      assert.deepEqual(onlySeries(store, { ...cpu, fromMs, toMs }), a.slice(40, 171));
      assert.deepEqual(onlySeries(store, { ...cpu, fromMs: fromMs + 1, toMs: toMs - 1 }), [
        ...a.slice(41, 170),
      ]);
      const both = store.queryRaw({ agentId: "web-1", fromMs, toMs });
      assert.deepEqual(both.map((series) => series.metricName).sort(), [
        "cpu.usage",
        "disk.used_percent",
      ]);
      assert.deepEqual(store.queryRaw({ ...cpu, fromMs: toMs, toMs: fromMs }), []);
      assert.deepEqual(store.queryRaw({ ...cpu, fromMs: 0, toMs: day(0) }), []);
      assert.deepEqual(store.queryRaw({ ...cpu, fromMs: day(15), toMs: day(20) }), []);
    });
  });

  test("bucketed queries aggregate exactly", async (t) => {
    await t.step("buckets start at fromMs + k * stepMs; empty ones are left out", async () => {
      await withStore(open, ({ store }) => {
        const samples: [number, number][] = [];
        for (let i = 0; i < 300; i++) {
          // Irregular spacing with a gap of several buckets in the middle.
          const ts = D0 + i * 13 * MS_PER_MINUTE + (i % 7) * 1000 +
            (i >= 150 ? 20 * MS_PER_HOUR : 0);
          samples.push([ts, ((i * 7919) % 401) * 0.25 - 50]);
        }
        store.write(samples.map(([ts, value]) => point("a", "m", ts, value)));
        const fromMs = D0 + 7 * MS_PER_MINUTE + 3;
        const toMs = D0 + 3 * MS_PER_DAY;
        const stepMs = 5 * MS_PER_HOUR + 13 * MS_PER_MINUTE;
        const [series] = store.queryBuckets({ agentId: "a", fromMs, toMs }, stepMs);
        const expected = expectedBuckets(samples, fromMs, toMs, stepMs);
        assert.ok(expected.length < Math.ceil((toMs - fromMs) / stepMs), "the data has a gap");
        assert.deepEqual(series.buckets, expected);
      });
    });
    await t.step("60 buckets over a day of 10 s samples", async () => {
      await withStore(open, ({ store }) => {
        const samples: [number, number][] = [];
        for (let i = 0; i < 8640; i++) samples.push([D0 + i * 10_000, (i % 400) * 0.25]);
        store.write(samples.map(([ts, value]) => point("a", "cpu.usage", ts, value)));
        const query = { agentId: "a", fromMs: D0, toMs: D0 + MS_PER_DAY - 1 };
        const [series] = store.queryBuckets(query, MS_PER_DAY / 60);
        assert.equal(series.buckets.length, 60);
        assert.ok(series.buckets.every((bucket) => bucket.count === 144));
        assert.deepEqual(
          series.buckets,
          expectedBuckets(samples, query.fromMs, query.toMs, MS_PER_DAY / 60),
        );
      });
    });
    await t.step("a bucket straddling midnight merges both days", async () => {
      await withStore(open, ({ store }) => {
        const { a, points } = fifteenDays();
        store.write(points);
        const fromMs = D0 + 12 * MS_PER_HOUR;
        const toMs = day(14);
        const [series] = store.queryBuckets(
          { metricName: "cpu.usage", fromMs, toMs },
          MS_PER_DAY,
        );
        assert.equal(series.buckets.length, 14);
        assert.deepEqual(series.buckets, expectedBuckets(a, fromMs, toMs, MS_PER_DAY));
      });
    });
    await t.step("several series and a step larger than the range", async () => {
      await withStore(open, ({ store }) => {
        const { a, b, points } = fifteenDays();
        store.write(points);
        const found = store.queryBuckets({ agentId: "web-1", ...ALL_TIME }, 400 * MS_PER_DAY);
        assert.deepEqual(found.map((series) => series.metricName).sort(), [
          "cpu.usage",
          "disk.used_percent",
        ]);
        for (const series of found) {
          const samples = series.metricName === "cpu.usage" ? a : b;
          assert.deepEqual(series.buckets, expectedBuckets(samples, 0, day(400), 400 * MS_PER_DAY));
          assert.equal(series.buckets[0].count, 180);
        }
        assert.deepEqual(
          store.queryBuckets({ agentId: "web-1", ...ALL_TIME, fromMs: day(20) }, MS_PER_HOUR),
          [],
        );
      });
    });
    await t.step("a step that is not a positive integer is refused", async () => {
      await withStore(open, ({ store }) => {
        store.write([point("a", "m", day(0), 1)]);
        for (const stepMs of [0, -60_000, 1.5, NaN, Infinity]) {
          assert.throws(() => store.queryBuckets({ ...ALL_TIME }, stepMs), RangeError);
        }
      });
    });
  });

  test("sample blocks hold exactly the raw samples, with their statistics", async (t) => {
    const check = (store: MetricStore, query: SeriesQuery) => {
      const raw = store.queryRaw(query);
      const blocks = store.queryBlocks(query);
      assert.deepEqual(sortedKeys(blocks), sortedKeys(raw));
      for (const series of blocks) {
        const expected = raw.find((r) => sortedKeys([r])[0] === sortedKeys([series])[0])!;
        const flat: [number, number][] = [];
        let previousEnd = -Infinity;
        for (const block of series.blocks) {
          const { timestamps, values } = block.samples();
          assert.equal(timestamps.length, block.count);
          assert.ok(block.startTs > previousEnd, "blocks ascend without overlap");
          assert.equal(block.startTs, timestamps[0]);
          assert.equal(block.endTs, timestamps[block.count - 1]);
          const list = Array.from(values);
          assert.equal(block.min, Math.min(...list));
          assert.equal(block.max, Math.max(...list));
          // Multiples of 0.25: every order of addition gives the exact sum.
          assert.equal(block.sum, list.reduce((sum, value) => sum + value, 0));
          for (let i = 0; i < block.count; i++) flat.push([timestamps[i], values[i]]);
          previousEnd = block.endTs;
        }
        assert.deepEqual(flat, expected.samples.map((s) => [s.timestampMs, s.value]));
      }
    };
    await t.step("over fifteen days, cut inside chunks at both ends", async () => {
      await withStore(open, ({ store, reopen }) => {
        store.write(fifteenDays().points);
        const samples: MetricDataPoint[] = [];
        for (let i = 0; i < 2000; i++) {
          samples.push(point("web-2", "cpu.usage", D0 + i * 10_000, (i % 37) * 0.25));
        }
        store.write(samples);
        check(store, { ...ALL_TIME });
        check(store, { fromMs: D0 + 25 * MS_PER_MINUTE + 3, toMs: day(9) + 5 * MS_PER_HOUR });
        assert.deepEqual(store.queryBlocks({ ...ALL_TIME, fromMs: day(30) }), []);
        check(reopen(), {
          agentId: "web-2",
          fromMs: D0 + 7 * MS_PER_MINUTE,
          toMs: D0 + 4 * MS_PER_HOUR,
        });
      });
    });
  });

  test("filters select series by agent, metric and labels", async () => {
    await withStore(open, ({ store }) => {
      const ts = day(0) + MS_PER_HOUR;
      store.write([
        point("web-1", "disk.used_percent", ts, 10, { mount: "/" }),
        point("web-1", "disk.used_percent", ts, 20, { mount: "/var" }),
        point("web-1", "disk.read_ops_per_sec", ts, 30, { device: "sda" }),
        point("web-1", "cpu.usage", ts, 40),
        point("web-2", "disk.used_percent", ts, 50, { mount: "/" }),
        point("web-2", "net", ts, 60, { interface: "eth0", direction: "in" }),
      ]);
      const values = (query: Omit<SeriesQuery, "fromMs" | "toMs">) =>
        store.queryRaw({ ...query, ...ALL_TIME }).map((series) => series.samples[0].value).sort((
          x,
          y,
        ) => x - y);
      assert.deepEqual(values({}), [10, 20, 30, 40, 50, 60]);
      assert.deepEqual(values({ agentId: "web-1" }), [10, 20, 30, 40]);
      assert.deepEqual(values({ metricName: "disk.used_percent" }), [10, 20, 50]);
      assert.deepEqual(values({ labels: { mount: "/" } }), [10, 50]);
      assert.deepEqual(values({ agentId: "web-2", labels: { mount: "/" } }), [50]);
      assert.deepEqual(values({ labels: { interface: "eth0" } }), [60]);
      assert.deepEqual(values({ labels: { interface: "eth0", direction: "out" } }), []);
      assert.deepEqual(values({ labels: { mount: "/", device: "sda" } }), []);
      assert.deepEqual(values({ labels: {} }), [10, 20, 30, 40, 50, 60]);
      assert.deepEqual(values({ agentId: "web-3" }), []);
      assert.deepEqual(values({ metricName: "cpu" }), []);
      const [disk] = store.queryRaw({ agentId: "web-1", labels: { mount: "/var" }, ...ALL_TIME });
      assert.deepEqual(
        { agentId: disk.agentId, metricName: disk.metricName, labels: disk.labels },
        { agentId: "web-1", metricName: "disk.used_percent", labels: { mount: "/var" } },
      );

      assert.equal(store.listSeries().length, 6);
      assert.deepEqual(sortedKeys(store.listSeries({ labels: { mount: "/" } })), [
        'web-1 disk.used_percent {"mount":"/"}',
        'web-2 disk.used_percent {"mount":"/"}',
      ]);
      assert.deepEqual(sortedKeys(store.listSeries({ agentId: "web-2", metricName: "net" })), [
        'web-2 net {"direction":"in","interface":"eth0"}',
      ]);
      assert.deepEqual(store.listSeries({ agentId: "nobody" }), []);
    });
  });

  test("late samples land in their own day's partition", async () => {
    await withStore(open, (harness) => {
      harness.store.write([point("a", "m", day(5) + MS_PER_HOUR, 50)]);
      assert.deepEqual(daysAfterReopen(harness), [dayName(5)]);
      const store = harness.store;
      assert.deepEqual(
        counts(store.write([
          point("a", "m", day(5) + 2 * MS_PER_HOUR, 51),
          point("a", "m", day(2) + 3 * MS_PER_HOUR, 20),
          point("a", "m", day(4) + 23 * MS_PER_HOUR, 40),
        ])),
        { written: 3, duplicates: 0, conflicts: 0 },
      );
      assert.deepEqual(daysAfterReopen(harness), [2, 4, 5].map(dayName));
      assert.deepEqual(onlySeries(harness.store, { ...ALL_TIME }), [
        [day(2) + 3 * MS_PER_HOUR, 20],
        [day(4) + 23 * MS_PER_HOUR, 40],
        [day(5) + MS_PER_HOUR, 50],
        [day(5) + 2 * MS_PER_HOUR, 51],
      ]);
      // Dropping day 2 takes the late sample and nothing else: it was stored in day 2's file.
      assert.deepEqual(harness.store.deleteBefore(day(3), day(5)), [dayName(2)]);
      assert.deepEqual(onlySeries(harness.store, { ...ALL_TIME }).map(([, value]) => value), [
        40,
        50,
        51,
      ]);
    });
  });

  test("retention deletes whole partitions that ended before the cutoff", async (t) => {
    const fiveDays = (store: MetricStore) =>
      store.write([0, 1, 2, 3, 4].map((n) => point("a", "m", day(n) + MS_PER_HOUR, n)));
    await t.step("days ending before the cutoff go, with their files", async () => {
      await withStore(open, (harness) => {
        const { store, dataDir } = harness;
        fiveDays(store);
        assert.deepEqual(store.deleteBefore(day(3), day(4) + MS_PER_HOUR), [0, 1, 2].map(dayName));
        for (const n of [0, 1, 2]) {
          for (const path of partitionFiles(dataDir, n)) assert.equal(exists(path), false, path);
        }
        assert.deepEqual(store.stats().partitions.filter((p) => p.day < dayName(3)), []);
        assert.deepEqual(onlySeries(store, { ...ALL_TIME }).map(([, value]) => value), [3, 4]);
        assert.deepEqual(store.deleteBefore(day(3), day(4) + MS_PER_HOUR), []);
        assert.deepEqual(daysAfterReopen(harness), [3, 4].map(dayName));
        assert.ok(exists(partitionPath(dataDir, dayName(3))));
      });
    });
    await t.step("a cutoff inside a day keeps that day", async () => {
      await withStore(open, ({ store }) => {
        fiveDays(store);
        assert.deepEqual(store.deleteBefore(day(3) + 1, day(4)), [0, 1, 2].map(dayName));
        assert.deepEqual(store.deleteBefore(day(4) - 1, day(4)), []);
        assert.deepEqual(store.deleteBefore(day(4), day(4)), [dayName(3)]);
      });
    });
    await t.step("the partition of now is never deleted", async () => {
      await withStore(open, (harness) => {
        fiveDays(harness.store);
        assert.deepEqual(
          harness.store.deleteBefore(day(30), day(4) + MS_PER_HOUR),
          [0, 1, 2, 3].map(dayName),
        );
        assert.deepEqual(daysAfterReopen(harness), [dayName(4)]);
        const store = harness.store;
        assert.equal(store.write([point("a", "m", day(4) + 2 * MS_PER_HOUR, 9)]).written, 1);
        assert.deepEqual(onlySeries(store, { ...ALL_TIME }).map(([, value]) => value), [4, 9]);
      });
    });
    await t.step("leftover -wal and -shm files go too", async () => {
      await withStore(open, ({ dataDir, store, reopen, closeStore }) => {
        fiveDays(store);
        closeStore();
        // As a crash would leave them; zero-length files are valid for SQLite.
        for (const path of partitionFiles(dataDir, 0).slice(1)) {
          if (!exists(path)) Deno.writeFileSync(path, new Uint8Array());
        }
        assert.deepEqual(reopen().deleteBefore(day(1), day(4)), [dayName(0)]);
        for (const path of partitionFiles(dataDir, 0)) assert.equal(exists(path), false, path);
      });
    });
    await t.step("a deleted day can be written again", async () => {
      await withStore(open, ({ store }) => {
        fiveDays(store);
        store.deleteBefore(day(1), day(4));
        assert.equal(store.write([point("a", "m", day(0) + 5, 7)]).written, 1);
        assert.deepEqual(onlySeries(store, { ...ALL_TIME, toMs: day(1) - 1 }), [[day(0) + 5, 7]]);
      });
    });
    await t.step("series with no sample left leave the catalogue and index.db", async () => {
      await withStore(open, (harness) => {
        const store = harness.store;
        store.write([
          point("gone", "m", day(0) + MS_PER_HOUR, 1),
          point("gone", "m", day(1) + MS_PER_HOUR, 2, { id: "x" }),
          point("kept", "m", day(0) + MS_PER_HOUR, 3),
          point("kept", "m", day(3) + MS_PER_HOUR, 4),
        ]);
        assert.equal(store.listSeries().length, 3);
        store.deleteBefore(day(2), day(3) + 2 * MS_PER_HOUR);
        assert.deepEqual(store.listSeries(), [{ agentId: "kept", metricName: "m", labels: {} }]);
        assert.equal(store.stats().seriesCount, 1);
        // A forgotten series written again is a new series with only its new samples.
        assert.equal(store.write([point("gone", "m", day(3) + 5, 9)]).written, 1);
        assert.deepEqual(
          store.queryRaw({ agentId: "gone", ...ALL_TIME }).map((series) => series.samples),
          [[{ timestampMs: day(3) + 5, value: 9 }]],
        );
        const reopened = harness.reopen();
        assert.deepEqual(reopened.listSeries().map((series) => series.agentId).sort(), [
          "gone",
          "kept",
        ]);
      });
    });
  });

  test("latest gives the newest sample of every series of an agent", async () => {
    await withStore(open, ({ store }) => {
      store.write([
        point("a", "cpu.usage", day(0) + MS_PER_HOUR, 1),
        point("a", "cpu.usage", day(2) + MS_PER_HOUR, 2),
        point("a", "cpu.usage", day(1) + MS_PER_HOUR, 3),
        point("a", "disk.used_percent", day(0) + 2 * MS_PER_HOUR, 4, { mount: "/" }),
        point("a", "disk.used_percent", day(0) + MS_PER_HOUR, 5, { mount: "/" }),
        point("a", "disk.used_percent", day(1), 6, { mount: "/var" }),
        point("b", "cpu.usage", day(3), 7),
      ]);
      const latest = store.latest("a").map((sample) => [
        sample.metricName,
        JSON.stringify(sample.labels),
        sample.timestampMs,
        sample.value,
      ]).sort();
      assert.deepEqual(latest, [
        ["cpu.usage", "{}", day(2) + MS_PER_HOUR, 2],
        ["disk.used_percent", '{"mount":"/"}', day(0) + 2 * MS_PER_HOUR, 4],
        ["disk.used_percent", '{"mount":"/var"}', day(1), 6],
      ]);
      assert.deepEqual(store.latest("b").map((sample) => sample.value), [7]);
      assert.deepEqual(store.latest("nobody"), []);
    });
  });

  test("reopening the data directory keeps everything", async () => {
    await withStore(open, ({ store, reopen }) => {
      const { points } = fifteenDays();
      const extra = point("db-1", "memory.used", day(3) + 5, 8_589_934_592);
      store.write([...points, extra]);
      const snapshot = (s: MetricStore) => ({
        raw: s.queryRaw({ ...ALL_TIME }),
        buckets: s.queryBuckets({ ...ALL_TIME }, 6 * MS_PER_HOUR),
        latest: s.latest("web-1"),
        series: sortedKeys(s.listSeries()),
        seriesCount: s.stats().seriesCount,
        days: s.stats().partitions.map((p) => p.day),
      });
      const before = snapshot(store);
      const reopened = reopen();
      assert.deepEqual(snapshot(reopened), before);
      assert.deepEqual(counts(reopened.write([...points, extra])), {
        written: 0,
        duplicates: points.length + 1,
        conflicts: 0,
      });
      assert.equal(reopened.write([{ ...extra, value: 1024 }]).conflicts, 1);
      // A series first seen after reopening must not collide with the old ones.
      assert.equal(reopened.write([point("db-2", "memory.used", day(3) + 5, 1)]).written, 1);
      assert.deepEqual(onlySeries(reopened, { agentId: "db-1", ...ALL_TIME }), [[
        day(3) + 5,
        8_589_934_592,
      ]]);
      assert.deepEqual(onlySeries(reopened, { agentId: "db-2", ...ALL_TIME }), [[day(3) + 5, 1]]);
      assert.equal(reopened.stats().seriesCount, before.seriesCount + 1);
    });
  });

  test("stats report the engine, series and partitions with their bytes", async () => {
    await withStore(open, (harness) => {
      const { store } = harness;
      const empty = store.stats();
      assert.ok(empty.engine.length > 0);
      assert.equal(empty.seriesCount, 0);
      assert.deepEqual(empty.partitions, []);
      store.write([
        point("a", "m", day(1), 1),
        point("a", "n", day(0), 2),
        point("b", "m", day(0) + 1, 3),
      ]);
      assert.equal(store.stats().seriesCount, 3);
      const stats = harness.reopen().stats();
      assert.equal(stats.seriesCount, 3);
      assert.deepEqual(stats.partitions.map((p) => p.day), [dayName(0), dayName(1)]);
      for (const partition of stats.partitions) assert.ok(partition.bytes > 0, partition.day);
      const partitionBytes = stats.partitions.reduce((sum, p) => sum + p.bytes, 0);
      assert.ok(stats.totalBytes >= partitionBytes, "totalBytes leaves out partitions");
    });
  });
}
