/**
 * Dashboard figures: the fleet-summary call with 1,000 agents (server time), the overview drawn
 * in headless Chromium, an agent page over 24 h drawn, and the page weight.
 *
 * The server is the real API app over the chunk engine in a temp dir; the fleet summary is fed
 * by `observe` as ingest feeds it, and its first call after start (which reads latest values
 * and the range's sparklines from storage) is reported apart from the steady state.
 */
import { join } from "node:path";
import { ManualClock } from "../../shared/clock.ts";
import { silentLogger } from "../../shared/log.ts";
import type { MetricDataPoint } from "../../shared/types.ts";
import { openAgentRegistry } from "../../server/agents/sqlite_registry.ts";
import { createApiApp } from "../../server/api/app.ts";
import { serveApi } from "../../server/api/serve.ts";
import { createFleetRoutes, FleetSummary } from "../../server/fleet/mod.ts";
import { openChunkStore } from "../../server/storage/chunk/engine.ts";
import { haveChromium, launchChromium } from "../helpers/chromium.ts";
import { syntheticBatches } from "./synthetic.ts";

export interface DashboardBench {
  agents: number;
  fleetFirstCallMs: number;
  fleetCallMsP50: number;
  fleetAnswerKb: number;
  overviewDrawnMsP50: number | null;
  agentPage24hDrawnMsP50: number | null;
  pageWeightKb: number;
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[values.length >> 1];

export async function benchDashboard(
  dir: string,
  options: { agents?: number; progress?: (line: string) => void } = {},
): Promise<DashboardBench> {
  const agentCount = options.agents ?? 1000;
  const progress = options.progress ?? (() => {});
  const nowMs = Date.now();
  const clock = new ManualClock(nowMs - 3_600_000);
  const store = openChunkStore({ dataDir: join(dir, "dashboard-data"), clock });
  const registry = openAgentRegistry(join(dir, "dashboard-agents.db"));
  const fleet = new FleetSummary({
    store,
    agents: () => registry.list(),
    clock,
    agentIntervalSecs: 10,
    log: silentLogger,
  });
  const ingest = (batch: MetricDataPoint[]) => {
    store.write(batch);
    registry.recordSeen(batch[0].agentId, batch[0].timestampMs, {
      hostname: batch[0].agentId,
      os: "Linux",
      osVersion: "Debian 12",
      arch: "x86_64",
      kernelVersion: "6.1.0",
      cpuCores: 4,
      memoryGb: 16,
      diskGb: 500,
    });
    fleet.observe(batch);
  };
  progress(`dashboard: a day of one agent and an hour of ${agentCount} agents`);
  // host-0000 gets the whole day (the agent page bench); the others the last hour.
  for (
    const batch of syntheticBatches({
      agents: 1,
      seriesPerAgent: 40,
      intervalMs: 10_000,
      startMs: nowMs - 86_400_000,
      durationMs: 86_400_000 - 3_600_000,
    })
  ) {
    clock.set(batch[0].timestampMs);
    ingest(batch);
  }
  for (
    const batch of syntheticBatches({
      agents: agentCount,
      seriesPerAgent: 25,
      intervalMs: 10_000,
      startMs: nowMs - 3_600_000,
      durationMs: 3_600_000,
    })
  ) {
    clock.set(Math.max(clock.now(), batch[0].timestampMs));
    ingest(batch);
  }
  clock.set(nowMs);

  const app = createApiApp({
    store,
    registry,
    clock,
    startedAtMs: nowMs,
    version: "bench",
    agentIntervalSecs: 10,
    log: silentLogger,
    mounts: { fleet: createFleetRoutes({ fleet }) },
  });
  let started = performance.now();
  let answer = await app.request("/api/v1/fleet?range=1h");
  const body = await answer.text();
  const fleetFirstCallMs = performance.now() - started;
  const calls: number[] = [];
  for (let i = 0; i < 15; i++) {
    started = performance.now();
    answer = await app.request("/api/v1/fleet?range=1h");
    await answer.text();
    calls.push(performance.now() - started);
  }

  let pageWeight = 0;
  for (const path of ["/", ...await assetPaths(app)]) {
    const response = await app.request(path, { headers: { "accept-encoding": "gzip" } });
    pageWeight += (await response.arrayBuffer()).byteLength;
  }

  let overviewDrawnMsP50: number | null = null;
  let agentPage24hDrawnMsP50: number | null = null;
  if (haveChromium) {
    const server = await serveApi(app, { hostname: "127.0.0.1", port: 0, log: silentLogger });
    const browser = await launchChromium();
    try {
      const page = browser.context.pages()[0] ?? await browser.context.newPage();
      const origin = `http://127.0.0.1:${server.port}`;
      const overview: number[] = [];
      const agent: number[] = [];
      for (let i = 0; i < 4; i++) {
        // A fresh navigation each time: what a person opening the page waits for.
        await page.goto("about:blank");
        await page.goto(`${origin}/`);
        await page.waitForSelector('#view[data-ready="true"] tr[data-agent] canvas.spark');
        if (i > 0) overview.push(await page.evaluate(() => performance.now()));
        await page.goto("about:blank");
        await page.goto(`${origin}/#/agent/host-0000?range=24h`);
        await page.waitForSelector('#view[data-drawn="true"]');
        if (i > 0) agent.push(await page.evaluate(() => performance.now()));
      }
      overviewDrawnMsP50 = median(overview);
      agentPage24hDrawnMsP50 = median(agent);
    } finally {
      await browser.close();
      await server.shutdown();
    }
  }
  store.close();
  registry.close();
  return {
    agents: agentCount,
    fleetFirstCallMs,
    fleetCallMsP50: median(calls),
    fleetAnswerKb: body.length / 1024,
    overviewDrawnMsP50,
    agentPage24hDrawnMsP50,
    pageWeightKb: pageWeight / 1024,
  };
}

async function assetPaths(app: { request(path: string): Response | Promise<Response> }) {
  const html = await (await app.request("/")).text();
  return [...html.matchAll(/(?:src|href)="(assets\/[^"]+)"/g)].map((match) => "/" + match[1]);
}
