import assert from "node:assert/strict";
import type { RateOfChangeRuleConfig } from "./config.ts";
import { BREACH, CLEAR, UNKNOWN } from "./_evaluator.ts";
import { RateOfChangeEvaluator } from "./rate_of_change.ts";
import { rateOfChange } from "../../tests/helpers/alert_harness.ts";

function evaluator(overrides: Partial<RateOfChangeRuleConfig> = {}) {
  return new RateOfChangeEvaluator(rateOfChange(overrides), { maxWindowPoints: 1000 });
}

Deno.test("RateOfChangeEvaluator needs two samples in the window", () => {
  const rate = evaluator();
  assert.equal(rate.push(0, 100), UNKNOWN);
  assert.equal(rate.push(10_000, 100), CLEAR);
});

Deno.test("RateOfChangeEvaluator fires when the change exceeds rate_threshold either way", async (t) => {
  const cases: [number, number][] = [
    [120, CLEAR], // exactly +20 %: not above the threshold
    [120.1, BREACH],
    [80, CLEAR],
    [79.9, BREACH],
  ];
  for (const [to, verdict] of cases) {
    await t.step(`100 → ${to}`, () => {
      const rate = evaluator();
      rate.push(0, 100);
      assert.equal(rate.push(60_000, to), verdict);
    });
  }
  const rate = evaluator();
  rate.push(0, 100);
  rate.push(60_000, 130);
  const details = rate.details();
  assert.equal(details.value, 30);
  assert.equal(details.threshold, 20);
  assert.equal(details.condition, "changed by +30% (100 → 130 in 1m; limit ±20%)");
});

Deno.test("RateOfChangeEvaluator takes the base from the oldest sample inside window_secs", () => {
  const rate = evaluator();
  rate.push(0, 50);
  rate.push(100_000, 100);
  // At 400 s the window is [100 s, 400 s]: the 50 at 0 s has left, the 100 at 100 s is the base.
  assert.equal(rate.push(400_000, 115), CLEAR);
  assert.equal(rate.details().value, 15);
  // At 400.001 s the 100 at 100 s has left too; the base is now 115.
  assert.equal(rate.push(400_001, 115), CLEAR);
  assert.equal(rate.details().value, 0);
});

Deno.test("RateOfChangeEvaluator treats a zero base as no breach", async (t) => {
  await t.step("0 → 0 is no change", () => {
    const rate = evaluator();
    rate.push(0, 0);
    assert.equal(rate.push(10_000, 0), CLEAR);
    assert.equal(rate.details().value, 0);
  });
  await t.step("0 → 50 has no percentage", () => {
    const rate = evaluator();
    rate.push(0, 0);
    assert.equal(rate.push(10_000, 50), CLEAR);
    assert.ok(Number.isNaN(rate.details().value));
    assert.match(rate.details().condition, /^changed from 0 \(0 → 50/);
  });
});

Deno.test("RateOfChangeEvaluator measures a negative base by its magnitude", () => {
  const rate = evaluator();
  rate.push(0, -100);
  assert.equal(rate.push(10_000, -50), BREACH);
  assert.equal(rate.details().value, 50, "rising from -100 to -50 is +50 %");
});
