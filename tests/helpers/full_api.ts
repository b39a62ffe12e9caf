/**
 * The whole REST app as the server mounts it (`server/api_mounts.ts`: the `/api/v1` modules and
 * the Prometheus routes at the root), on the API test fixtures: for tests that check every route
 * against a document (the OpenAPI document, the README). Nothing runs on a schedule; certificate
 * domains and checks start empty.
 */
import { join } from "node:path";
import type { Hono } from "hono";
import { silentLogger } from "../../shared/log.ts";
import { openAlertEngine } from "../../server/alerts/mod.ts";
import { type ApiDeps, createApiApp } from "../../server/api/app.ts";
import { openTestEnv, type TestEnv } from "../../server/api/testing.ts";
import { apiMounts, rootMounts } from "../../server/api_mounts.ts";
import { CertChecker } from "../../server/certs/checker.ts";
import { CertStore } from "../../server/certs/store.ts";
import { ServerChecks } from "../../server/checks/service.ts";
import { FleetSummary } from "../../server/fleet/mod.ts";
import { DEFAULT_INGEST_LIMITS } from "../../server/config.ts";
import { IngestService } from "../../server/ingest/service.ts";
import { DeliveryStore } from "../../server/notify/delivery_store.ts";
import { RemoteWriteReceiver } from "../../server/prometheus/mod.ts";

export interface FullApi {
  app: Hono;
  env: TestEnv;
  close(): Promise<void>;
}

export async function openFullApi(overrides: Partial<ApiDeps> = {}): Promise<FullApi> {
  const env = await openTestEnv(overrides);
  const dir = await Deno.makeTempDir({ prefix: "oxmon-full-api-" });
  const { clock } = env;
  const alerts = openAlertEngine({ rules: [], statePath: join(dir, "alerts.db"), clock });
  const deliveries = new DeliveryStore(":memory:");
  const certStore = new CertStore(join(dir, "certs.db"));
  const certChecker = new CertChecker({
    store: certStore,
    config: {
      enabled: false,
      defaultIntervalSecs: 86_400,
      tickSecs: 60,
      connectTimeoutSecs: 2,
      maxConcurrent: 2,
      domains: [],
    },
    clock,
    log: silentLogger,
    commit: () => {},
  });
  const checks = new ServerChecks({
    config: { checks: [], maxConcurrent: 1 },
    clock,
    log: silentLogger,
    commit: () => {},
  });
  const fleet = new FleetSummary({
    store: env.store,
    agents: () => env.registry.list(),
    clock,
    agentIntervalSecs: 10,
    activeAlerts: () => alerts.active(),
  });
  const ingest = new IngestService({
    store: env.store,
    registry: env.registry,
    limits: DEFAULT_INGEST_LIMITS,
    agentTokens: [],
    retentionDays: 7,
    clock,
    log: silentLogger,
  });
  const app = createApiApp({
    ...env.deps,
    mounts: apiMounts({
      alerts,
      fleet,
      deliveries: (query) => deliveries.query(query),
      certs: { store: certStore, checker: certChecker, clock },
      checks,
    }),
    rootRoutes: rootMounts({
      remoteWriteIn: new RemoteWriteReceiver({
        ingest,
        maxBodyBytes: DEFAULT_INGEST_LIMITS.maxBatchBytes,
        maxUncompressedBytes: 32 << 20,
        maxPointsPerBatch: DEFAULT_INGEST_LIMITS.maxPointsPerBatch,
        log: silentLogger,
      }),
      exposition: {
        version: env.deps.version,
        store: env.store,
        registry: env.registry,
        agentIntervalSecs: 10,
        nowMs: () => clock.now(),
        exposeAgentMetrics: true,
        log: silentLogger,
      },
      queryApi: {
        store: env.store,
        clock,
        log: silentLogger,
        version: env.deps.version,
        lookbackDeltaSecs: 300,
        maxSamples: 1_000_000,
      },
    }),
  });
  return {
    app,
    env,
    async close() {
      await checks.stop();
      await certChecker.stop();
      certStore.close();
      deliveries.close();
      alerts.close?.();
      await env.close();
      await Deno.remove(dir, { recursive: true });
    },
  };
}
