import assert from "node:assert/strict";
import type { TrendPredictionRuleConfig } from "./config.ts";
import { BREACH, CLEAR, UNKNOWN, type Verdict } from "./_evaluator.ts";
import { TrendPredictionEvaluator } from "./trend_prediction.ts";
import { trendPrediction } from "../../tests/helpers/alert_harness.ts";

function evaluator(overrides: Partial<TrendPredictionRuleConfig> = {}, maxWindowPoints = 10_000) {
  return new TrendPredictionEvaluator(
    trendPrediction({ horizonSecs: 3600, windowSecs: 86_400, ...overrides }),
    { maxWindowPoints },
  );
}

/** 50 % rising 0.01 %/s: the line reaches 95 % at 4,500 s. */
const rising = (s: number) => 50 + 0.01 * s;

Deno.test("TrendPredictionEvaluator waits for min_data_points", () => {
  const trend = evaluator({ horizonSecs: 86_400 });
  for (let i = 0; i < 9; i++) assert.equal(trend.push(i * 60_000, rising(i * 60)), UNKNOWN);
  assert.equal(trend.push(9 * 60_000, rising(540)), BREACH);
});

Deno.test("TrendPredictionEvaluator fires when the crossing lies within horizon_secs", () => {
  const trend = evaluator();
  const verdicts = new Map<number, Verdict>();
  for (let s = 0; s <= 1200; s += 60) verdicts.set(s, trend.push(s * 1000, rising(s)));
  assert.equal(verdicts.get(540), CLEAR, "crossing 3,960 s ahead: beyond the horizon");
  assert.equal(verdicts.get(840), CLEAR, "crossing 3,660 s ahead");
  assert.equal(verdicts.get(900), BREACH, "crossing exactly 3,600 s ahead");
  const details = trend.details();
  assert.equal(details.value, rising(1200));
  assert.equal(details.threshold, 95);
  assert.ok(Math.abs(details.predictedBreachMs! - 4_500_000) <= 1, `${details.predictedBreachMs}`);
  assert.ok(Math.abs(details.rSquared! - 1) < 1e-9);
  assert.match(details.condition, /predicted to reach 95 in 55m at 1970-01-01T01:15:00/);
});

Deno.test("TrendPredictionEvaluator predicts a falling series crossing downwards", () => {
  const trend = evaluator({ predictThreshold: 10, minDataPoints: 3 });
  trend.push(0, 40);
  trend.push(600_000, 35);
  // 5 per 10 min from 30 at 1,200 s: 10 is reached 2,400 s later.
  assert.equal(trend.push(1_200_000, 30), BREACH);
  assert.equal(trend.details().predictedBreachMs, 3_600_000);
});

Deno.test("TrendPredictionEvaluator is clear for a flat line or a crossing already past", async (t) => {
  await t.step("flat", () => {
    const trend = evaluator({ minDataPoints: 3 });
    for (const s of [0, 60, 120]) trend.push(s * 1000, 80);
    assert.equal(trend.push(180_000, 80), CLEAR);
  });
  await t.step("already above", () => {
    const trend = evaluator({ minDataPoints: 3 });
    for (const s of [0, 60, 120]) trend.push(s * 1000, 96 + s / 60);
    assert.equal(trend.push(180_000, 99), CLEAR);
    assert.equal(trend.details().predictedBreachMs, undefined);
  });
  await t.step("all samples at one instant are no line", () => {
    const trend = evaluator({ minDataPoints: 2 });
    trend.push(0, 10);
    // The engine never pushes the same timestamp twice; the evaluator still refuses to divide by 0.
    assert.equal(trend.push(0, 20), UNKNOWN);
  });
});

Deno.test("TrendPredictionEvaluator reports R² of a noisy fit", () => {
  const trend = evaluator({ minDataPoints: 4, horizonSecs: 86_400 });
  const noise = [0, 3, -3, 2, -2, 1];
  noise.forEach((n, i) => trend.push(i * 600_000, 50 + i + n));
  const { rSquared } = trend.details();
  assert.ok(rSquared! > 0.1 && rSquared! < 0.9, `${rSquared}`);
});

/** Ordinary least squares over explicit samples, the textbook way. */
function referenceFit(samples: [number, number][]) {
  const n = samples.length;
  const mx = samples.reduce((a, [x]) => a + x, 0) / n;
  const my = samples.reduce((a, [, y]) => a + y, 0) / n;
  let sxy = 0;
  let sxx = 0;
  for (const [x, y] of samples) {
    sxy += (x - mx) * (y - my);
    sxx += (x - mx) ** 2;
  }
  const slope = sxy / sxx;
  return { slope, at: (x: number) => my + slope * (x - mx) };
}

Deno.test("TrendPredictionEvaluator keeps its sliding fit exact over a long run", () => {
  const windowSecs = 3600;
  const trend = evaluator({ windowSecs, minDataPoints: 2 });
  const samples: [number, number][] = [];
  let value = 1e9; // bytes-sized values make cancellation errors show
  let seed = 7;
  const random = () => (seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31;
  const start = 1_767_225_600_000; // 2026-01-01, realistic epoch milliseconds
  for (let i = 0; i < 20_000; i++) {
    const t = start + i * 10_000;
    value += (random() - 0.45) * 1e6;
    samples.push([t, value]);
    trend.push(t, value);
  }
  const last = samples[samples.length - 1][0];
  const inWindow = samples.filter(([t]) => t >= last - windowSecs * 1000);
  const expected = referenceFit(inWindow);
  const fit = trend.fit()!;
  assert.ok(
    Math.abs(fit.slope - expected.slope) <= Math.abs(expected.slope) * 1e-6,
    `${fit.slope} vs ${expected.slope}`,
  );
  assert.ok(Math.abs(fit.valueAtOrigin - expected.at(last)) < 1, "fitted value within 1 byte");
});

Deno.test("TrendPredictionEvaluator drops the oldest samples beyond maxWindowPoints", () => {
  const trend = evaluator({ minDataPoints: 3 }, 3);
  trend.push(0, 0);
  trend.push(60_000, 100); // a spike that leaves once three newer samples arrived
  trend.push(120_000, 10);
  trend.push(180_000, 11);
  trend.push(240_000, 12);
  const fit = trend.fit()!;
  assert.ok(Math.abs(fit.slope * 60_000 - 1) < 1e-9, "only 10, 11, 12 remain");
});
