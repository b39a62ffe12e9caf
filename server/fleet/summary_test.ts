import assert from "node:assert/strict";
import type { MetricDataPoint } from "../../shared/types.ts";
import { createApiApp } from "../api/app.ts";
import { openTestEnv, START_MS } from "../../tests/helpers/api_env.ts";
import { createFleetRoutes } from "./routes.ts";
import { type FleetAlert, FleetSummary } from "./summary.ts";

const MINUTE = 60_000;

/** One round of an agent's core metrics at `timestampMs`. */
function round(agentId: string, timestampMs: number, cpu: number): MetricDataPoint[] {
  const point = (metricName: string, value: number, labels: Record<string, string> = {}) => ({
    agentId,
    metricName,
    labels,
    timestampMs,
    value,
  });
  return [
    point("cpu.usage", cpu),
    point("memory.used_percent", 40),
    point("memory.used", 4e9),
    point("memory.total", 1e10),
    point("disk.used_percent", 30, { mount: "/" }),
    point("disk.used_percent", 80, { mount: "/data" }),
    point("network.bytes_recv", 1000, { interface: "eth0" }),
    point("network.bytes_recv", 500, { interface: "eth1" }),
    point("network.bytes_sent", 200, { interface: "eth0" }),
    point("network.bytes_sent", 100, { interface: "eth1" }),
    point("system.load_1", 1.5),
    point("system.load_5", 1.2),
    point("system.load_15", 1),
    point("system.uptime", 1000),
  ];
}

async function withFleet(
  use: (
    env: Awaited<ReturnType<typeof openTestEnv>>,
    fleet: () => FleetSummary,
    alerts: FleetAlert[],
  ) => Promise<void> | void,
) {
  const env = await openTestEnv();
  const alerts: FleetAlert[] = [];
  const fleet = () =>
    new FleetSummary({
      store: env.store,
      agents: () => env.registry.list(),
      clock: env.clock,
      agentIntervalSecs: 10,
      activeAlerts: () => alerts,
    });
  try {
    await use(env, fleet, alerts);
  } finally {
    await env.close();
  }
}

Deno.test("the fleet summary reads latest values and sparklines from storage after a restart", () =>
  withFleet((env, fleet) => {
    // An hour of rounds every 20 s; the clock sits 10 s after the last one.
    for (let t = START_MS - 59 * MINUTE; t <= START_MS; t += 20_000) {
      env.ingest(round("web-1", t, t === START_MS ? 90 : 10));
    }
    env.clock.set(START_MS + 10_000);
    const snapshot = fleet().summary("1h");
    assert.equal(snapshot.step_secs, 120);
    assert.equal(snapshot.from % 120_000, 0, "buckets start at a multiple of the step");
    const [agent] = snapshot.agents;
    assert.equal(agent.agent_id, "web-1");
    assert.equal(agent.status, "active");
    assert.equal(agent.cpu, 90);
    assert.deepEqual(agent.memory, { percent: 40, used: 4e9, total: 1e10 });
    assert.deepEqual(agent.disk, { percent: 80, mount: "/data" });
    assert.deepEqual(agent.network, { recv: 1500, sent: 300 });
    assert.deepEqual(agent.load, { load_1: 1.5, load_5: 1.2, load_15: 1 });
    assert.equal(agent.spark.cpu.length, 30);
    assert.equal(agent.spark.cpu.at(-1), 90, "the newest bucket holds the last round alone");
    assert.equal(agent.spark.cpu.at(-2), 10);
    assert.ok(agent.spark.network.filter((v) => v !== null).every((v) => v === 1800));
    assert.ok(agent.spark.disk.filter((v) => v !== null).every((v) => v === 80));
  }));

Deno.test("observed batches update the summary and a retried batch is not counted twice", () =>
  withFleet((env, fleetOf) => {
    env.clock.set(START_MS - 5_000); // one 30 s bucket holds both rounds
    const fleet = fleetOf();
    assert.deepEqual(fleet.summary("15m").agents, []);
    const first = round("db-1", START_MS - 20_000, 20);
    env.ingest(first);
    fleet.observe(first);
    const second = round("db-1", START_MS - 10_000, 40);
    env.ingest(second);
    fleet.observe(second);
    fleet.observe(second); // the agent retried after a lost reply
    const [agent] = fleet.summary("15m").agents;
    assert.equal(agent.cpu, 40);
    assert.equal(agent.spark.cpu.at(-1), 30, "mean of 20 and 40, the retry left out");
    assert.equal(agent.spark.network.at(-1), 1800, "interfaces and directions summed per round");
  }));

Deno.test("an agent with a firing agent_absent alert is absent since the alert fired", () =>
  withFleet((env, fleet, alerts) => {
    env.ingest(round("old-1", START_MS - 30 * MINUTE, 5));
    env.ingest(round("new-1", START_MS - 5_000, 5));
    env.clock.set(START_MS);
    alerts.push(
      { agentId: "old-1", ruleType: "agent_absent", severity: "critical", sinceMs: START_MS - 1 },
      { agentId: "old-1", ruleType: "threshold", severity: "warning", sinceMs: START_MS - 2 },
    );
    const agents = fleet().summary("1h").agents;
    assert.deepEqual(
      agents.map((a) => [a.agent_id, a.status, a.absent_since, a.alerts]),
      [
        ["new-1", "active", null, { firing: 0, severity: null }],
        ["old-1", "absent", START_MS - 1, { firing: 2, severity: "critical" }],
      ],
    );
  }));

Deno.test("GET /api/v1/fleet answers every agent at once and refuses an unknown range", async () => {
  await withFleet(async (env, fleetOf) => {
    env.ingest(round("a-1", START_MS - 1_000, 1));
    env.ingest(round("a-2", START_MS - 1_000, 2));
    const app = createApiApp({
      ...env.deps,
      mounts: { fleet: createFleetRoutes({ fleet: fleetOf() }) },
    });
    const ok = await app.request("/api/v1/fleet?range=6h");
    assert.equal(ok.status, 200);
    const body = await ok.json();
    assert.equal(body.count, 2);
    assert.equal(body.step_secs, 720);
    assert.deepEqual(body.agents.map((a: { cpu: number }) => a.cpu), [1, 2]);
    assert.equal(body.agents[0].last_seen, new Date(START_MS - 1_000).toISOString());
    assert.deepEqual([body.total, body.limit, body.offset], [2, 10_000, 0]);
    const bad = await app.request("/api/v1/fleet?range=2h");
    assert.equal(bad.status, 400);
    assert.match((await bad.json()).error, /"range".*15m, 1h, 6h, 24h, 7d, 30d/);
    const page = await (await app.request("/api/v1/fleet?limit=1&offset=1")).json();
    assert.deepEqual([page.total, page.count, page.limit, page.offset], [2, 1, 1, 1]);
    assert.deepEqual(page.agents.map((a: { agent_id: string }) => a.agent_id), ["a-2"]);
    const badPage = await app.request("/api/v1/fleet?limit=10001");
    assert.equal(badPage.status, 400);
    assert.match((await badPage.json()).error, /"limit"/);
  });
});
