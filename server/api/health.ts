import type { Hono } from "hono";
import { toRfc3339 } from "../../shared/time.ts";
import { agentStatus, type ApiDeps } from "./_deps.ts";
import { routeApp } from "./routes.ts";

/**
 * `GET /health`. Storage or ingest statistics that cannot be read make the answer a 503 with
 * `storage_status: "error"` rather than a 500, so a load balancer sees an unhealthy server.
 */
export function healthRoutes(deps: ApiDeps): Hono {
  const { store, registry, clock, log } = deps;
  return routeApp([{
    method: "get",
    path: "/health",
    summary: "Server health",
    description: "Version, start time, uptime, agent counts, storage status (engine, " +
      "partitions, bytes, series), ingest counters and gRPC listener restarts; with " +
      "`[[remote_write]]` endpoints configured, `remote_write`: each endpoint's queue and " +
      "delivery state.",
    responses: {
      200: "healthy",
      503: "storage statistics cannot be read (`status: degraded`, `storage_status: error`)",
    },
    handler: (c) => {
      const { body, healthy } = health();
      return c.json(body, healthy ? 200 : 503);
    },
  }]);

  function health(): { body: Record<string, unknown>; healthy: boolean } {
    const nowMs = clock.now();
    const agents = registry.list();
    const active =
      agents.filter((agent) =>
        agentStatus(agent.lastSeenMs, nowMs, deps.agentIntervalSecs) === "active"
      ).length;
    let storage = null;
    try {
      const stats = store.stats();
      storage = {
        engine: stats.engine,
        series_count: stats.seriesCount,
        partition_count: stats.partitions.length,
        total_bytes: stats.totalBytes,
        partitions: stats.partitions.map(({ day, bytes }) => ({ day, bytes })),
      };
    } catch (error) {
      log.error("health: storage statistics failed", { error });
    }
    let ingest: Record<string, number> | undefined;
    try {
      ingest = deps.ingestStats?.();
    } catch (error) {
      log.error("health: ingest statistics failed", { error });
    }
    let sections: Record<string, unknown> = {};
    try {
      sections = deps.healthSections?.() ?? {};
    } catch (error) {
      log.error("health: a section failed", { error });
    }
    const healthy = storage !== null;
    const body = {
      status: healthy ? "ok" : "degraded",
      version: deps.version,
      started_at: toRfc3339(deps.startedAtMs),
      time: toRfc3339(nowMs),
      uptime_secs: Math.max(0, Math.floor((nowMs - deps.startedAtMs) / 1000)),
      agent_count: agents.length,
      active_agent_count: active,
      storage_status: healthy ? "ok" : "error",
      storage,
      ...(deps.ingestStats ? { ingest: ingest ?? null } : {}),
      ...sections,
    };
    return { body, healthy };
  }
}
