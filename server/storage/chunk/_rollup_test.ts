import assert from "node:assert/strict";
import { BucketStats } from "../bucket_stats.ts";
import {
  coarsen,
  decodeIntervals,
  encodeIntervals,
  FIVE_MINUTES_MS,
  intervalsOf,
  ONE_HOUR_MS,
  type RollupInterval,
} from "./_rollup.ts";
import { Random } from "../../../tests/helpers/chunk_random.ts";

const DAY = Date.UTC(2026, 10, 27);

function fields(stats: BucketStats): unknown[] {
  // Partials depend on the order values came in; the sum they make does not.
  return [stats.count, stats.min, stats.max, stats.sum, stats.digits, String(stats.scaled)];
}

function assertSameIntervals(actual: RollupInterval[], expected: RollupInterval[]): void {
  assert.equal(actual.length, expected.length);
  for (let i = 0; i < expected.length; i++) {
    assert.equal(actual[i].startMs, expected[i].startMs);
    const [a, e] = [fields(actual[i].stats), fields(expected[i].stats)];
    for (let f = 0; f < e.length; f++) {
      assert.ok(
        Object.is(a[f], e[f]) || JSON.stringify(a[f]) === JSON.stringify(e[f]),
        `interval ${i} field ${f}: ${a[f]} vs ${e[f]}`,
      );
    }
  }
}

function day(random: Random, value: (i: number) => number, stepMs = 10_000) {
  const timestamps: number[] = [];
  const values: number[] = [];
  for (let ts = DAY + random.int(0, 9_999); ts < DAY + 86_400_000; ts += stepMs) {
    if (random.chance(0.02)) continue;
    timestamps.push(ts);
    values.push(value(timestamps.length));
  }
  return { timestamps, values };
}

Deno.test("rollup intervals round-trip to the bit, decimal or not", async (t) => {
  const random = new Random(12);
  const families: Record<string, (i: number) => number> = {
    "percent with 2 decimals": () => random.int(0, 10_000) / 100,
    "bytes": (i) => 8 * 2 ** 30 + i * 4096 * random.int(-3, 3),
    "constant": () => 17,
    "binary fractions": (i) => Math.sin(i) * 1e6,
    "huge integers": () => random.pick([2 ** 60, 2 ** 52 + 1, 1e300]),
    "zeros of both signs": () => random.pick([0, -0]),
    "mixed": (i) => (i % 3 === 0 ? Math.sin(i) : random.int(0, 999) / 10),
  };
  for (const [name, value] of Object.entries(families)) {
    await t.step(name, () => {
      const { timestamps, values } = day(random, value);
      for (const resolution of [FIVE_MINUTES_MS, ONE_HOUR_MS]) {
        const intervals = intervalsOf(timestamps, values, timestamps.length, resolution);
        for (const packing of ["none", "zstd", "brotli"] as const) {
          const bytes = encodeIntervals(DAY, resolution, intervals, packing);
          assertSameIntervals(decodeIntervals(bytes, DAY, resolution, name), intervals);
        }
      }
    });
  }
});

Deno.test("1-hour intervals merged from 5-minute ones equal those of the samples", () => {
  const random = new Random(3);
  const { timestamps, values } = day(
    random,
    () => random.chance(0.5) ? random.int(0, 999) / 100 : Math.sin(random.next()),
  );
  const fine = intervalsOf(timestamps, values, timestamps.length, FIVE_MINUTES_MS);
  assertSameIntervals(
    coarsen(fine, ONE_HOUR_MS),
    intervalsOf(timestamps, values, timestamps.length, ONE_HOUR_MS),
  );
});

Deno.test("rollup intervals of a day of percents take a few bytes each", () => {
  const random = new Random(5);
  const { timestamps, values } = day(random, () => Math.round(2000 + random.int(0, 3000)) / 100);
  const five = encodeIntervals(
    DAY,
    FIVE_MINUTES_MS,
    intervalsOf(timestamps, values, timestamps.length, FIVE_MINUTES_MS),
  );
  assert.ok(five.length < 288 * 8, `${five.length} bytes for 288 intervals`);
});

Deno.test("a damaged rollup row is an error naming it", () => {
  const intervals = intervalsOf([DAY, DAY + 1000], [1, 2], 2, FIVE_MINUTES_MS);
  const bytes = encodeIntervals(DAY, FIVE_MINUTES_MS, intervals);
  assert.throws(
    () => decodeIntervals(bytes.subarray(0, bytes.length - 1), DAY, FIVE_MINUTES_MS, "row x"),
    /Cannot decode rollup intervals of row x/,
  );
});
