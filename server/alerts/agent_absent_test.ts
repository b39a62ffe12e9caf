import assert from "node:assert/strict";
import type { AgentAbsentRuleConfig } from "./config.ts";
import { BREACH, CLEAR } from "./_evaluator.ts";
import { AgentAbsentEvaluator } from "./agent_absent.ts";
import { agentAbsent } from "../../tests/helpers/alert_harness.ts";

const RULE: AgentAbsentRuleConfig = agentAbsent();

Deno.test("AgentAbsentEvaluator breaches once absent_secs pass on the server clock", () => {
  const absent = new AgentAbsentEvaluator(RULE);
  assert.equal(absent.push(0, 1, 1_000_000), CLEAR);
  assert.equal(absent.check(1_119_999), CLEAR);
  assert.equal(absent.check(1_120_000), BREACH);
  assert.deepEqual(absent.details(), {
    value: 120,
    threshold: 120,
    condition: "has not reported for 2m (limit 2m)",
  });
});

Deno.test("AgentAbsentEvaluator counts a late sample as a sign of life at its arrival", () => {
  const absent = new AgentAbsentEvaluator({ ...RULE, metric: "cpu.usage" });
  absent.push(5_000, 1, 1_000_000);
  assert.equal(absent.push(1, 1, 1_100_000), CLEAR, "its timestamp is older than the last");
  assert.equal(absent.lastSeenMs, 1_100_000);
  assert.equal(absent.check(1_219_999), CLEAR);
  assert.equal(absent.details().condition, "reported cpu.usage again");
});

Deno.test("AgentAbsentEvaluator keeps the latest of a restored and a newer last-seen time", () => {
  const absent = new AgentAbsentEvaluator(RULE);
  assert.equal(absent.lastSeenMs, -Infinity);
  absent.seen(2_000_000);
  absent.seen(1_000_000);
  assert.equal(absent.lastSeenMs, 2_000_000);
});
