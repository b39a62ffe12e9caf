/**
 * The whole REST app as the server mounts it (`server/api_mounts.ts`: the `/api/v1` modules and
 * the Prometheus routes at the root; the sign-in routes, the agent whitelist and authentication
 * with its access table), on the API test fixtures: for tests that check every route against a
 * document (the OpenAPI document, the README, the access table). Nothing runs on a schedule;
 * certificate domains, checks and the whitelist start empty. `request` calls it as an admin.
 */
import { join } from "node:path";
import type { Hono } from "hono";
import { silentLogger } from "../../shared/log.ts";
import { openAlertEngine } from "../../server/alerts/mod.ts";
import { type ApiDeps, createApiApp } from "../../server/api/app.ts";
import { openTestEnv, type TestEnv } from "./api_env.ts";
import { apiMounts, rootMounts } from "../../server/api_mounts.ts";
import { ApiAuth } from "../../server/auth/api_auth.ts";
import { createHostGuard } from "../../server/auth/host_guard.ts";
import { requireScope } from "../../server/auth/require_scope.ts";
import { SessionStore } from "../../server/auth/sessions.ts";
import { sha256Hex } from "../../server/auth/tokens.ts";
import { createWhitelistRoutes } from "../../server/auth/whitelist_routes.ts";
import { openWhitelistStore } from "../../server/auth/whitelist_store.ts";
import { CertChecker } from "../../server/certs/checker.ts";
import { openCertStore } from "../../server/certs/store.ts";
import { ServerChecks } from "../../server/checks/service.ts";
import { FleetSummary } from "../../server/fleet/mod.ts";
import { DEFAULT_INGEST_LIMITS } from "../../server/config.ts";
import { IngestService } from "../../server/ingest/service.ts";
import { openDeliveryStore } from "../../server/notify/mod.ts";
import { RemoteWriteReceiver } from "../../server/prometheus/mod.ts";

/** The one API token the full app accepts; scope admin. */
export const FULL_API_ADMIN_TOKEN = "full-api-admin-token-0123456789";

export interface FullApi {
  app: Hono;
  env: TestEnv;
  /** `app.request` with the admin token and a `Host` the app serves (unless `init` sets them). */
  request(path: string, init?: RequestInit): Promise<Response>;
  close(): Promise<void>;
}

export async function openFullApi(overrides: Partial<ApiDeps> = {}): Promise<FullApi> {
  const env = await openTestEnv(overrides);
  const dir = await Deno.makeTempDir({ prefix: "oxmon-full-api-" });
  const { clock } = env;
  const alerts = openAlertEngine({ rules: [], statePath: join(dir, "alerts.db"), clock });
  const deliveries = openDeliveryStore(":memory:");
  const certStore = openCertStore(join(dir, "certs.db"));
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
  const whitelist = openWhitelistStore(join(dir, "agent_whitelist.db"));
  const close = async () => {
    await checks.stop();
    await certChecker.stop();
    certStore.close();
    deliveries.close();
    alerts.close?.();
    whitelist.close();
    await env.close();
    await Deno.remove(dir, { recursive: true });
  };
  // The app refuses to start with an undeclared route or one without an access rule.
  let app: Hono;
  try {
    app = build();
  } catch (error) {
    await close();
    throw error;
  }
  return {
    app,
    env,
    request(path, init = {}) {
      const headers = new Headers(init.headers);
      if (!headers.has("host")) headers.set("host", "127.0.0.1");
      if (!headers.has("authorization")) {
        headers.set("authorization", `Bearer ${FULL_API_ADMIN_TOKEN}`);
      }
      return Promise.resolve(app.request(path, { ...init, headers }));
    },
    close,
  };

  function build(): Hono {
    return createApiApp({
      ...env.deps,
      auth: new ApiAuth({
        tokens: [{ name: "full-api", scope: "admin", sha256: sha256Hex(FULL_API_ADMIN_TOKEN) }],
        hostAllowed: createHostGuard({ bindHost: "127.0.0.1", allowedHosts: [] }),
        sessions: new SessionStore({ ttlMs: 60_000 }),
        secureCookie: false,
        clock,
        log: silentLogger,
      }),
      whitelist: createWhitelistRoutes({
        store: whitelist,
        registry: env.registry,
        clock,
        agentIntervalSecs: 10,
        log: silentLogger,
        maxAgentIdLength: DEFAULT_INGEST_LIMITS.maxAgentIdLength,
      }),
      mounts: apiMounts({
        alerts,
        fleet,
        deliveries: (query) => deliveries.query(query),
        certs: { store: certStore, checker: certChecker, clock },
        checks,
        guardWrites: requireScope("admin"),
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
  }
}
