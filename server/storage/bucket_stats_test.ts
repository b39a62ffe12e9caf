import assert from "node:assert/strict";
import { BucketAccumulator, BucketStats, shortDecimal } from "./bucket_stats.ts";
import { Random } from "../../tests/helpers/chunk_random.ts";

function statsOf(values: readonly number[]): BucketStats {
  const stats = new BucketStats();
  for (const value of values) stats.add(value);
  return stats;
}

function summary(stats: BucketStats): [number, number, number, number] {
  return [stats.count, stats.min, stats.max, stats.sum];
}

function assertSameBits(actual: readonly number[], expected: readonly number[], context: string) {
  assert.equal(actual.length, expected.length, context);
  for (let i = 0; i < expected.length; i++) {
    assert.ok(
      Object.is(actual[i], expected[i]),
      `${context}[${i}]: ${actual[i]} vs ${expected[i]}`,
    );
  }
}

/** Splits `values` into random groups, sums each, and merges the groups in random order. */
function statsByGroups(random: Random, values: readonly number[]): BucketStats {
  const shuffled = [...values];
  for (let i = shuffled.length - 1; i > 0; i--) {
    const j = random.int(0, i);
    [shuffled[i], shuffled[j]] = [shuffled[j], shuffled[i]];
  }
  const groups: BucketStats[] = [];
  for (let at = 0; at < shuffled.length;) {
    const size = random.int(1, 40);
    groups.push(statsOf(shuffled.slice(at, at + size)));
    at += size;
  }
  const total = new BucketStats();
  for (const group of groups.reverse()) total.merge(group);
  return total;
}

Deno.test("shortDecimal gives a value's digits and its scaled integer", () => {
  assert.deepEqual(shortDecimal(-40.25), { digits: 2, scaled: -4025 });
  assert.equal(shortDecimal(1 / 3), undefined);
});

Deno.test("BucketStats sums short decimals as decimals", () => {
  assert.equal(statsOf([0.1, 0.2]).sum, 0.3);
  assert.equal(statsOf(Array(10).fill(0.1)).sum, 1);
  assert.equal(statsOf([12.34, 56.78, 0.88]).sum, 70);
  assert.equal(statsOf([1.5, 2, 0.25]).avg, 3.75 / 3);
});

Deno.test("BucketStats keeps integer sums exact past 2^53", () => {
  const big = 2 ** 50 - 1;
  const values = Array(64).fill(big);
  const stats = statsOf(values);
  assert.equal(typeof stats.scaled, "bigint");
  assert.equal(stats.scaled, 64n * BigInt(big));
  assert.equal(stats.sum, Number(64n * BigInt(big)));
});

Deno.test("BucketStats sums other values exactly, as fsum does", () => {
  assert.equal(statsOf([1e100, 1, -1e100, 1e-100, 1e50, -1, -1e50]).sum, 1e-100);
  assert.equal(statsOf([2 ** 53, 1 / 3, -(2 ** 53)]).sum, 1 / 3);
  assert.equal(statsOf([1e300, 1e300, -1e300]).sum, 1e300);
});

Deno.test("BucketStats min takes -0 and max 0; a bucket of -0 sums to -0", () => {
  const mixed = statsOf([0, -0, 0]);
  assert.ok(Object.is(mixed.min, -0));
  assert.ok(Object.is(mixed.max, 0));
  assert.ok(Object.is(mixed.sum, 0));
  assert.ok(Object.is(statsOf([-0, -0]).sum, -0));
  const merged = statsOf([-0]);
  merged.merge(statsOf([0]));
  assert.ok(Object.is(merged.min, -0) && Object.is(merged.max, 0));
});

Deno.test("BucketStats gives the same bits whatever the order and grouping", async (t) => {
  const families: Record<string, (random: Random) => number> = {
    "percents with 2 decimals": (r) => r.int(0, 10_000) / 100,
    "byte counts": (r) => r.int(0, 2 ** 40) * 4096,
    "mixed digits": (r) => r.int(-1e6, 1e6) / 10 ** r.int(0, 9),
    "binary fractions": (r) => Math.sin(r.int(0, 1e9)) * 1e6,
    "huge and tiny": (r) => r.pick([1e300, -1e300, 5e-324, 1.5e-10, 2 ** 60, -0, 0, 0.1]),
    "mixed families": (r) =>
      r.chance(0.5)
        ? r.int(0, 10_000) / 100
        : r.chance(0.5)
        ? Math.sin(r.next())
        : r.int(0, 2 ** 40),
  };
  for (const [name, generate] of Object.entries(families)) {
    await t.step(name, () => {
      const random = new Random(name.length * 7919);
      for (let round = 0; round < 30; round++) {
        const values = Array.from({ length: random.int(1, 400) }, () => generate(random));
        const expected = summary(statsOf(values));
        for (let variant = 0; variant < 4; variant++) {
          assertSameBits(summary(statsByGroups(random, values)), expected, `${name} ${round}`);
        }
      }
    });
  }
});

Deno.test("BucketAccumulator buckets samples and intervals in any order", () => {
  const origin = 1_000;
  const forward = new BucketAccumulator(origin, 100);
  const backward = new BucketAccumulator(origin, 100);
  const samples = Array.from({ length: 50 }, (_, i) => [origin + i * 17, (i % 7) / 4] as const);
  for (const [ts, value] of samples) forward.add(ts, value);
  for (const [ts, value] of [...samples].reverse()) backward.add(ts, value);
  const viaStats = new BucketAccumulator(origin, 100);
  for (let at = 0; at < samples.length; at += 3) {
    const part = samples.slice(at, at + 3).filter(([ts]) =>
      viaStats.indexOf(ts) === viaStats.indexOf(samples[at][0])
    );
    viaStats.addStats(part[0][0], statsOf(part.map(([, value]) => value)));
    for (const [ts, value] of samples.slice(at + part.length, at + 3)) viaStats.add(ts, value);
  }
  assert.deepEqual(backward.finish(), forward.finish());
  assert.deepEqual(viaStats.finish(), forward.finish());
  assert.equal(forward.finish()[0].timestampMs, origin);
});
