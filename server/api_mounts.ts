/**
 * The route modules the server mounts: under `/api/v1`, by mount name (`apiMounts`), and at the
 * root, by OpenAPI tag, where another protocol fixes the paths (`rootMounts`: Prometheus').
 * `server.ts` builds its app from these, and so do the tests that check the whole API against
 * its documents (the OpenAPI document, the README), so they cannot leave out a module the server
 * serves.
 */
import type { Hono, MiddlewareHandler } from "hono";
import { type AlertRouteDeps, createAlertRoutes } from "./alerts/mod.ts";
import { type CertRouteDeps, createCertRoutes } from "./certs/routes.ts";
import { type CheckRouteDeps, createCheckRoutes, createHeartbeatRoutes } from "./checks/routes.ts";
import { createFleetRoutes, type FleetRouteDeps } from "./fleet/mod.ts";
import { createNotificationRoutes, type NotificationRouteDeps } from "./notify/mod.ts";
import {
  createQueryApiRoutes,
  createRemoteWriteRoutes,
  createSelfMetricsRoutes,
  type QueryApiOptions,
  type RemoteWriteReceiver,
  type SelfMetricsSources,
} from "./prometheus/mod.ts";

export interface ApiMountDeps {
  alerts: AlertRouteDeps["engine"];
  deliveries: NotificationRouteDeps["deliveries"];
  fleet: FleetRouteDeps["fleet"];
  certs: Omit<CertRouteDeps, "guardWrites">;
  checks: CheckRouteDeps["checks"];
  /**
   * Runs before every write route of certs and checks: `requireScope("admin")` in the server.
   * Default none (the access table still applies where the app has authentication).
   */
  guardWrites?: MiddlewareHandler;
}

export function apiMounts(deps: ApiMountDeps): Record<string, Hono> {
  return {
    alerts: createAlertRoutes({ engine: deps.alerts }),
    fleet: createFleetRoutes({ fleet: deps.fleet }),
    notifications: createNotificationRoutes({ deliveries: deps.deliveries }),
    // Write routes of these (POST/PUT/DELETE) sit behind their `guardWrites` hook; heartbeat
    // pings carry their own token and stay open.
    certs: createCertRoutes({ ...deps.certs, guardWrites: deps.guardWrites }),
    checks: createCheckRoutes({ checks: deps.checks, guardWrites: deps.guardWrites }),
    heartbeat: createHeartbeatRoutes({ checks: deps.checks }),
  };
}

export interface RootMountDeps {
  /** `POST /api/v1/write`. */
  remoteWriteIn: RemoteWriteReceiver;
  /** What `GET /metrics` reports. */
  exposition: SelfMetricsSources;
  /** `/prometheus/api/v1/*`. */
  queryApi: QueryApiOptions;
}

export function rootMounts(deps: RootMountDeps): Record<string, Hono> {
  return {
    "prometheus-write": createRemoteWriteRoutes(deps.remoteWriteIn),
    "prometheus-scrape": createSelfMetricsRoutes(deps.exposition),
    "prometheus-query": createQueryApiRoutes(deps.queryApi),
  };
}
