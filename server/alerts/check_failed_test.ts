import assert from "node:assert/strict";
import { loadConfigText } from "../../shared/config/mod.ts";
import type { AgentAbsentRuleConfig, CheckFailedRuleConfig } from "./config.ts";
import { readAlertConfig } from "./config.ts";
import { BREACH, CLEAR, UNKNOWN } from "./_evaluator.ts";
import { CheckFailedEvaluator } from "./check_failed.ts";
import { agentAbsent, checkFailed, withEngine } from "../../tests/helpers/alert_harness.ts";

const RULE: CheckFailedRuleConfig = checkFailed();

Deno.test("check_failed fires on the Nth failed run in a row and a success resets the count", () => {
  const rule = new CheckFailedEvaluator(RULE);
  assert.equal(rule.push(0, 0), UNKNOWN);
  assert.equal(rule.push(60_000, 0), UNKNOWN);
  assert.equal(rule.push(120_000, 1), CLEAR, "a success in between starts over");
  assert.equal(rule.push(180_000, 0), UNKNOWN);
  assert.equal(rule.push(240_000, 0), UNKNOWN);
  assert.equal(rule.push(300_000, 0), BREACH);
  assert.deepEqual(rule.details(), {
    value: 3,
    threshold: 3,
    condition: "has failed 3 runs in a row over 2m",
  });
  assert.equal(rule.push(360_000, 1), CLEAR);
  assert.equal(rule.details().condition, "is up again");
});

Deno.test("check_failed with duration_secs fires once the failures have lasted that long", () => {
  const rule = new CheckFailedEvaluator({ ...RULE, consecutiveFailures: 1, durationSecs: 120 });
  assert.equal(rule.push(0, 0), UNKNOWN);
  assert.equal(rule.push(119_000, 0), UNKNOWN);
  assert.equal(rule.push(120_000, 0), BREACH);
});

Deno.test("check_failed rules load with their defaults and refuse bad keys by path", () => {
  const read = (text: string) =>
    loadConfigText(text, "test", (root) => readAlertConfig(root.table("alert")));
  const config = read(`
[[alert.rules]]
name = "a"
type = "check_failed"

[[alert.rules]]
name = "b"
type = "check_failed"
duration_secs = 300
labels = { check = "api" }
`);
  assert.deepEqual(
    config.rules.map((r) => {
      const rule = r as CheckFailedRuleConfig;
      return [rule.metric, rule.consecutiveFailures, rule.durationSecs, rule.labels];
    }),
    [["check.up", 3, 0, {}], ["check.up", 1, 300, { check: "api" }]],
  );
  assert.throws(
    () =>
      read(
        `[[alert.rules]]\nname = "c"\ntype = "check_failed"\nconsecutive_failures = 0\nvalue = 1\n`,
      ),
    (error: Error) =>
      error.message.includes(
        "alert.rules[0].consecutive_failures: expected a positive integer, got 0",
      ) &&
      error.message.includes("alert.rules[0].value: unknown key"),
  );
});

Deno.test("the engine raises and resolves check_failed per check, and absent rules ignore the server's identities", async () => {
  const absent: AgentAbsentRuleConfig = agentAbsent({ absentSecs: 60 });
  await withEngine([{ ...RULE, consecutiveFailures: 2 }, absent], (h) => {
    const api = { check: "api", target: "https://api.example/health" };
    const db = { check: "db", target: "10.0.0.5:5432" };
    h.sample("oxmon-server", "check.up", 0, api);
    h.sample("oxmon-server", "check.up", 1, db);
    h.clock.advance(30_000);
    h.sample("oxmon-server", "check.up", 0, api);
    h.sample("oxmon-server", "check.up", 1, db);
    assert.deepEqual(h.events.map((e) => [e.status, e.ruleName, e.labels.check, e.message]), [
      [
        "firing",
        "check-down",
        "api",
        'check-down: check.up{check="api",target="https://api.example/health"} on oxmon-server has failed 2 runs in a row over 30s',
      ],
    ]);
    // An hour without a run (a check with a long interval) neither resolves it nor pages
    // agent_absent for the server's identity.
    h.clock.advance(3_600_000);
    h.engine.tick();
    assert.equal(h.events.length, 1);
    h.sample("oxmon-server", "check.up", 1, api);
    assert.deepEqual(h.events.map((e) => [e.status, e.labels.check]), [["firing", "api"], [
      "resolved",
      "api",
    ]]);
    assert.match(h.events[1].message, /is up again$/);
  }, { unwatchedAgents: ["oxmon-server"] });
});
