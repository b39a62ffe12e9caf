import assert from "node:assert/strict";
import { join } from "node:path";
import type { AlertEvent, Severity } from "../../shared/types.ts";
import { AlertStore } from "./store.ts";

async function withStore(fn: (store: AlertStore) => void | Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "oxmon-alert-store-" });
  const path = join(dir, "alerts.db");
  const store = new AlertStore(path);
  try {
    await fn(store);
  } finally {
    store.close();
    await Deno.remove(dir, { recursive: true });
  }
}

function event(i: number, overrides: Partial<AlertEvent> = {}): AlertEvent {
  const severities: Severity[] = ["info", "warning", "critical"];
  return {
    id: `event-${i}`,
    ruleName: i % 2 === 0 ? "high-cpu" : "disk-full",
    ruleType: "threshold",
    agentId: `web-${i % 3}`,
    metricName: "cpu.usage",
    labels: { core: String(i) },
    severity: severities[i % 3],
    status: i % 4 === 3 ? "resolved" : "firing",
    message: `event ${i}`,
    value: i,
    threshold: 90,
    timestampMs: 1_000_000 + i * 1000,
    ...overrides,
  };
}

const none = { upserts: [], deletes: [], seen: [] };

Deno.test("AlertStore returns history newest first with the total for paging", async () => {
  await withStore((store) => {
    store.commit({ ...none, events: Array.from({ length: 30 }, (_, i) => event(i)) });
    const page = store.history({ limit: 5, offset: 5 });
    assert.equal(page.total, 30);
    assert.deepEqual(page.events.map((e) => e.id), [24, 23, 22, 21, 20].map((i) => `event-${i}`));
    assert.deepEqual(page.events[0], event(24));
  });
});

Deno.test("AlertStore filters history by severity, agent, rule, status and time", async (t) => {
  await withStore(async (store) => {
    const all = Array.from({ length: 30 }, (_, i) => event(i));
    store.commit({ ...none, events: all });
    const cases: [string, Parameters<AlertStore["history"]>[0], (e: AlertEvent) => boolean][] = [
      ["severity", { severity: "critical" }, (e) => e.severity === "critical"],
      ["agent", { agentId: "web-1" }, (e) => e.agentId === "web-1"],
      ["rule", { ruleName: "disk-full" }, (e) => e.ruleName === "disk-full"],
      ["status", { status: "resolved" }, (e) => e.status === "resolved"],
      [
        "from and to, inclusive",
        { fromMs: 1_010_000, toMs: 1_012_000 },
        (e) => e.timestampMs >= 1_010_000 && e.timestampMs <= 1_012_000,
      ],
      [
        "all at once",
        { severity: "warning", agentId: "web-1", ruleName: "disk-full", toMs: 1_020_000 },
        (e) =>
          e.severity === "warning" && e.agentId === "web-1" && e.ruleName === "disk-full" &&
          e.timestampMs <= 1_020_000,
      ],
    ];
    for (const [name, query, keep] of cases) {
      await t.step(name, () => {
        const expected = all.filter(keep).map((e) => e.id).reverse();
        assert.ok(expected.length > 0);
        const page = store.history({ ...query, limit: 1000 });
        assert.equal(page.total, expected.length);
        assert.deepEqual(page.events.map((e) => e.id), expected);
      });
    }
  });
});

Deno.test("AlertStore keeps prediction fields and an uncomputable value", async () => {
  await withStore((store) => {
    store.commit({
      ...none,
      events: [
        event(1, { value: NaN, predictedBreachMs: 5_000_000, rSquared: 0.97, firingSinceMs: 4 }),
      ],
    });
    const [stored] = store.history().events;
    assert.ok(Number.isNaN(stored.value));
    assert.equal(stored.predictedBreachMs, 5_000_000);
    assert.equal(stored.rSquared, 0.97);
    assert.equal(stored.firingSinceMs, 4);
  });
});

Deno.test("AlertStore keeps firing state and last-seen times across reopening", async () => {
  const dir = await Deno.makeTempDir({ prefix: "oxmon-alert-store-" });
  const path = join(dir, "alerts.db");
  try {
    const state = {
      ruleName: "high-cpu",
      seriesKey: "web-1\u001fcpu.usage",
      agentId: "web-1",
      metricName: "cpu.usage",
      labels: { core: "0" },
      firing: {
        sinceMs: 1,
        lastNotifiedMs: 2,
        notice: { severity: "critical" as const, value: 95, threshold: 90, message: "m" },
      },
    };
    const first = new AlertStore(path);
    first.commit({
      events: [],
      upserts: [state, { ...state, seriesKey: "web-2\u001fcpu.usage", agentId: "web-2" }],
      deletes: [],
      seen: [{ ruleName: "down", agentId: "web-1", lastSeenMs: 7 }],
    });
    first.commit({
      ...none,
      events: [],
      deletes: [{ ruleName: "high-cpu", seriesKey: "web-2\u001fcpu.usage" }],
    });
    first.close();
    const second = new AlertStore(path);
    assert.deepEqual(second.loadStates(), [state]);
    assert.deepEqual(second.loadAbsentSeen(), [{
      ruleName: "down",
      agentId: "web-1",
      lastSeenMs: 7,
    }]);
    assert.equal(second.dropRulesOtherThan(["high-cpu"]), 1);
    assert.deepEqual(second.loadAbsentSeen(), []);
    second.close();
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("AlertStore deletes history before a cutoff", async () => {
  await withStore((store) => {
    store.commit({ ...none, events: Array.from({ length: 10 }, (_, i) => event(i)) });
    assert.equal(store.deleteHistoryBefore(1_004_000), 4);
    assert.equal(store.history().total, 6);
  });
});
