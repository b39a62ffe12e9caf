import assert from "node:assert/strict";
import type { MetricDataPoint } from "../../shared/types.ts";
import type { AlertRuleConfig } from "./config.ts";
import { RuleIndex, rulesMatching } from "./_rule_index.ts";
import { agentAbsent, threshold } from "../../tests/helpers/alert_harness.ts";

function absent(name: string, metric: string, labels = {}): AlertRuleConfig {
  return agentAbsent({ name, metric, labels });
}

const point = (agentId: string, labels = {}): MetricDataPoint => ({
  agentId,
  metricName: "disk.used_percent",
  labels,
  value: 1,
  timestampMs: 0,
});

Deno.test("RuleIndex finds the rules of a point by metric, then agent glob and labels", () => {
  const index = new RuleIndex([
    threshold({ name: "any-disk", metric: "disk.used_percent" }),
    threshold({ name: "web-root", metric: "disk.used_percent", agentPattern: "web-*" }),
    threshold({ name: "root", metric: "disk.used_percent", labels: { mount: "/" } }),
    threshold({ name: "cpu", metric: "cpu.usage" }),
  ], { staleAfterMs: 1000 });
  const rules = index.sampleRulesOn("disk.used_percent")!;
  const names = (p: MetricDataPoint) => rulesMatching(rules, p).map((r) => r.config.name);
  assert.deepEqual(names(point("web-1", { mount: "/" })), ["any-disk", "web-root", "root"]);
  assert.deepEqual(names(point("db-1", { mount: "/data" })), ["any-disk"]);
  assert.equal(index.sampleRulesOn("memory.used_percent"), undefined);
});

Deno.test("RuleIndex sorts agent_absent rules by how wide they listen", () => {
  const index = new RuleIndex([
    absent("any", ""),
    absent("labelled", "", { mount: "/" }),
    absent("disk", "disk.used_percent"),
    threshold(),
  ], { staleAfterMs: 1000 });
  const names = (rules: readonly { config: { name: string } }[] | undefined) =>
    rules?.map((r) => r.config.name);
  assert.deepEqual(names(index.presenceOnAnyPoint), ["any"]);
  assert.deepEqual(names(index.presenceOnLabelledPoint), ["labelled"]);
  assert.deepEqual(names(index.presenceRulesOn("disk.used_percent")), ["disk"]);
  assert.equal(index.presenceRule("high-cpu"), undefined, "a sample rule is not one");
  assert.equal(index.sampleRule("any"), undefined, "nor the other way round");
  assert.equal(index.sampleRule("high-cpu")?.config.name, "high-cpu");
});

Deno.test("RuleIndex keeps a silent series at least its rule's window", () => {
  const index = new RuleIndex([
    threshold({ name: "short", durationSecs: 60 }),
    threshold({ name: "long", durationSecs: 3600 }),
  ], { staleAfterMs: 900_000 });
  assert.equal(index.sampleRule("short")?.retainMs, 900_000);
  assert.equal(index.sampleRule("long")?.retainMs, 3_600_000);
  assert.equal(index.sampleRule("long")?.silenceMs, 300_000);
});
