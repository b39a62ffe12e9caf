import assert from "node:assert/strict";
import type { Operator, ThresholdRuleConfig } from "./config.ts";
import { BREACH, CLEAR, UNKNOWN } from "./_evaluator.ts";
import { ThresholdEvaluator } from "./threshold.ts";
import { threshold } from "../../tests/helpers/alert_harness.ts";

function rule(overrides: Partial<ThresholdRuleConfig> = {}): ThresholdRuleConfig {
  return threshold({ silenceSecs: 600, durationSecs: 60, ...overrides });
}

Deno.test("ThresholdEvaluator fires once the breach lasts duration_secs", () => {
  const evaluator = new ThresholdEvaluator(rule());
  const verdicts = [0, 10, 20, 30, 40, 50, 60, 70].map((s) => evaluator.push(s * 1000, 95));
  assert.deepEqual(verdicts, [
    UNKNOWN,
    UNKNOWN,
    UNKNOWN,
    UNKNOWN,
    UNKNOWN,
    UNKNOWN,
    BREACH,
    BREACH,
  ]);
  const details = evaluator.details();
  assert.equal(details.value, 95);
  assert.equal(details.threshold, 90);
  assert.equal(details.condition, "is 95 > 90 for 70s");
});

Deno.test("ThresholdEvaluator needs data reaching back duration_secs, not just time passing", () => {
  const evaluator = new ThresholdEvaluator(rule());
  assert.equal(evaluator.push(5_000, 95), UNKNOWN);
  // 55 s of breaching data, short of 60 s by one millisecond and by five seconds.
  assert.equal(evaluator.push(60_000, 95), UNKNOWN);
  assert.equal(evaluator.push(64_999, 95), UNKNOWN);
  assert.equal(evaluator.push(65_000, 95), BREACH);
});

Deno.test("ThresholdEvaluator restarts the span after one sample that does not breach", () => {
  const evaluator = new ThresholdEvaluator(rule());
  for (const s of [0, 10, 20, 30]) evaluator.push(s * 1000, 95);
  assert.equal(evaluator.push(40_000, 90), CLEAR, "90 is not greater than 90");
  assert.equal(evaluator.push(50_000, 95), UNKNOWN);
  assert.equal(evaluator.push(100_000, 95), UNKNOWN);
  assert.equal(evaluator.push(110_000, 95), BREACH);
  assert.equal(evaluator.details().condition, "is 95 > 90 for 1m");
});

Deno.test("ThresholdEvaluator with duration_secs = 0 fires on one sample", () => {
  const evaluator = new ThresholdEvaluator(rule({ durationSecs: 0 }));
  assert.equal(evaluator.push(1_000, 90.0001), BREACH);
  assert.equal(evaluator.details().condition, "is 90.0001 > 90");
  assert.equal(evaluator.push(2_000, 12), CLEAR);
  assert.equal(evaluator.details().condition, "is 12");
});

Deno.test("ThresholdEvaluator compares with each operator at and around the bound", async (t) => {
  const cases: [Operator, [number, boolean][]][] = [
    ["greater_than", [[89.9, false], [90, false], [90.1, true]]],
    ["greater_equal", [[89.9, false], [90, true], [90.1, true]]],
    ["less_than", [[89.9, true], [90, false], [90.1, false]]],
    ["less_equal", [[89.9, true], [90, true], [90.1, false]]],
    ["equal", [[89.9, false], [90, true], [90.1, false]]],
    ["not_equal", [[89.9, true], [90, false], [90.1, true]]],
  ];
  for (const [operator, samples] of cases) {
    await t.step(operator, () => {
      for (const [value, breaches] of samples) {
        const evaluator = new ThresholdEvaluator(rule({ operator, durationSecs: 0 }));
        assert.equal(evaluator.push(0, value), breaches ? BREACH : CLEAR, `${value}`);
      }
    });
  }
});
