import assert from "node:assert/strict";
import { join } from "node:path";
import { Hono } from "hono";
import { ManualClock } from "../../shared/clock.ts";
import { ApiError, errorBody } from "../api/errors.ts";
import { createAlertRoutes } from "./routes.ts";
import type { AlertRuleConfig } from "./config.ts";
import { type AlertEngine, openAlertEngine } from "./engine.ts";
import { agentAbsent, T0, threshold, trendPrediction } from "../../tests/helpers/alert_harness.ts";

const RULES: AlertRuleConfig[] = [
  threshold({ agentPattern: "web-*", silenceSecs: 600 }),
  threshold({
    name: "root-full",
    metric: "disk.used_percent",
    labels: { mount: "/" },
    severity: "warning",
    silenceSecs: 600,
    operator: "greater_equal",
    value: 80,
  }),
  trendPrediction(),
  agentAbsent(),
];

/** The alert routes mounted as the REST app mounts them, with an `onError` like the app's. */
function appFor(engine: AlertEngine): Hono {
  const app = new Hono();
  app.route("/api/v1/alerts", createAlertRoutes({ engine }));
  app.onError((error, c) => {
    if (error instanceof ApiError) {
      return c.json(errorBody(error.code, error.message), error.status);
    }
    return c.json(errorBody("internal", String(error)), 500);
  });
  return app;
}

async function withApp(
  fn: (app: Hono, engine: AlertEngine, clock: ManualClock) => Promise<void>,
): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "oxmon-alert-api-" });
  const clock = new ManualClock(T0);
  const engine = openAlertEngine({ rules: RULES, statePath: join(dir, "alerts.db"), clock });
  try {
    await fn(appFor(engine), engine, clock);
  } finally {
    engine.close();
    await Deno.remove(dir, { recursive: true });
  }
}

async function getJson(app: Hono, path: string, status = 200) {
  const response = await app.request(path);
  const body = await response.json();
  assert.equal(response.status, status, JSON.stringify(body));
  return body;
}

/** web-1 fires high-cpu at T0, resolves at T0+10s; web-2 fires high-cpu and root-full at T0+20s. */
function feed(engine: AlertEngine, clock: ManualClock): void {
  const at = (agentId: string, metricName: string, value: number, labels = {}) =>
    engine.observe([{ agentId, metricName, value, labels, timestampMs: clock.now() }]);
  at("web-1", "cpu.usage", 95);
  clock.advance(10_000);
  at("web-1", "cpu.usage", 20);
  clock.advance(10_000);
  at("web-2", "cpu.usage", 99);
  at("web-2", "disk.used_percent", 85, { mount: "/" });
}

Deno.test("GET /alerts/rules lists every rule with all its fields", async () => {
  await withApp(async (app) => {
    const body = await getJson(app, "/api/v1/alerts/rules");
    assert.deepEqual(body.rules[0], {
      name: "high-cpu",
      type: "threshold",
      metric: "cpu.usage",
      agent_pattern: "web-*",
      labels: {},
      severity: "critical",
      silence_secs: 600,
      operator: "greater_than",
      value: 90,
      duration_secs: 0,
    });
    assert.deepEqual(body.rules[1].labels, { mount: "/" });
    assert.deepEqual(body.rules[2], {
      name: "disk-full-prediction",
      type: "trend_prediction",
      metric: "disk.used_percent",
      agent_pattern: "*",
      labels: {},
      severity: "info",
      silence_secs: 3600,
      predict_threshold: 95,
      horizon_secs: 86_400,
      min_data_points: 10,
      window_secs: 3600,
    });
    assert.equal(body.rules[3].absent_secs, 120);
    assert.equal(body.rules.length, 4);
    assert.deepEqual([body.total, body.limit, body.offset], [4, 1000, 0]);
  });
});

Deno.test("GET /alerts/rules and /alerts/active page with limit and offset", async () => {
  await withApp(async (app, engine, clock) => {
    const rules = await getJson(app, "/api/v1/alerts/rules?limit=2&offset=1");
    assert.deepEqual([rules.total, rules.limit, rules.offset], [4, 2, 1]);
    assert.deepEqual(
      rules.rules.map((r: { name: string }) => r.name),
      ["root-full", "disk-full-prediction"],
    );
    feed(engine, clock);
    const active = await getJson(app, "/api/v1/alerts/active?limit=1&offset=1");
    assert.deepEqual([active.total, active.count, active.limit, active.offset], [2, 1, 1, 1]);
    assert.equal(active.alerts[0].rule, "root-full");
    const past = await getJson(app, "/api/v1/alerts/active?offset=5");
    assert.deepEqual([past.total, past.count, past.alerts], [2, 0, []]);
    for (const query of ["limit=0", "limit=1001&x=1", "offset=-1", "limit=2&limit=3"]) {
      const answer = await app.request(`/api/v1/alerts/rules?${query}`);
      assert.equal(answer.status, 400, query);
      assert.match((await answer.json()).error, /limit|offset|x/, query);
    }
  });
});

Deno.test("GET /alerts/active lists what is firing now", async () => {
  await withApp(async (app, engine, clock) => {
    assert.deepEqual(await getJson(app, "/api/v1/alerts/active"), {
      total: 0,
      limit: 1000,
      offset: 0,
      count: 0,
      alerts: [],
    });
    feed(engine, clock);
    const body = await getJson(app, "/api/v1/alerts/active");
    assert.equal(body.count, 2);
    assert.deepEqual(body.alerts[0], {
      rule: "high-cpu",
      rule_type: "threshold",
      agent_id: "web-2",
      metric: "cpu.usage",
      labels: {},
      severity: "critical",
      message: "high-cpu: cpu.usage on web-2 is 99 > 90",
      value: 99,
      threshold: 90,
      since: "2026-01-01T00:00:20.000Z",
      last_notified: "2026-01-01T00:00:20.000Z",
      predicted_breach: null,
      r_squared: null,
      current_value: 99,
      current_at: "2026-01-01T00:00:20.000Z",
    });
    assert.equal(body.alerts[1].rule, "root-full", "critical before warning");
  });
});

Deno.test("GET /alerts/history pages newest first and filters", async (t) => {
  await withApp(async (app, engine, clock) => {
    feed(engine, clock);
    await t.step("all, newest first, with the total", async () => {
      const body = await getJson(app, "/api/v1/alerts/history");
      assert.equal(body.total, 4);
      assert.equal(body.limit, 100);
      assert.equal(body.offset, 0);
      assert.deepEqual(
        body.events.map((e: { rule: string; agent_id: string; status: string }) =>
          `${e.rule}/${e.agent_id}/${e.status}`
        ),
        [
          "root-full/web-2/firing",
          "high-cpu/web-2/firing",
          "high-cpu/web-1/resolved",
          "high-cpu/web-1/firing",
        ],
      );
      const resolved = body.events[2];
      assert.equal(resolved.timestamp, "2026-01-01T00:00:10.000Z");
      assert.equal(resolved.firing_since, "2026-01-01T00:00:00.000Z");
      assert.match(resolved.id, /^[0-9a-f-]{36}$/);
    });
    await t.step("paging", async () => {
      const body = await getJson(app, "/api/v1/alerts/history?limit=2&offset=1");
      assert.equal(body.total, 4);
      assert.deepEqual(body.events.map((e: { agent_id: string }) => e.agent_id), [
        "web-2",
        "web-1",
      ]);
    });
    const count = async (query: string) =>
      (await getJson(app, `/api/v1/alerts/history?${query}`)).total;
    await t.step("filters", async () => {
      assert.equal(await count("severity=warning"), 1);
      assert.equal(await count("agent=web-1"), 2);
      assert.equal(await count("rule=high-cpu"), 3);
      assert.equal(await count("status=resolved"), 1);
      assert.equal(await count("from=2026-01-01T00:00:10Z"), 3);
      assert.equal(await count(`to=${T0 + 10_000}`), 2);
      assert.equal(await count("agent=web-2&severity=critical&from=2026-01-01T00:00:00Z"), 1);
    });
  });
});

Deno.test("GET /alerts/history answers bad parameters with 400 naming them", async (t) => {
  await withApp(async (app) => {
    const cases: [string, string][] = [
      ["severity=fatal", 'Invalid query parameter "severity": expected info, warning or critical'],
      ["status=open", 'Invalid query parameter "status"'],
      ["from=yesterday", 'Invalid query parameter "from": expected RFC 3339'],
      ["from=2026-01-02T00:00:00Z&to=2026-01-01T00:00:00Z", 'Invalid query parameter "from"'],
      ["limit=0", 'Invalid query parameter "limit"'],
      ["limit=1001", 'Invalid query parameter "limit"'],
      ["offset=-1", 'Invalid query parameter "offset"'],
      ["agent=", 'Invalid query parameter "agent": must not be empty'],
      ["sevrity=info", 'Invalid query parameter "sevrity": unknown parameter'],
    ];
    for (const [query, message] of cases) {
      await t.step(query, async () => {
        const body = await getJson(app, `/api/v1/alerts/history?${query}`, 400);
        assert.equal(body.code, "bad_request");
        assert.ok(body.error.startsWith(message), body.error);
      });
    }
  });
});
