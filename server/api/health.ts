import { Hono } from "hono";
import { toRfc3339 } from "../../shared/time.ts";
import { agentStatus, type ApiDeps } from "./_deps.ts";
import { checkParams } from "./params.ts";

/**
 * `GET /health`. Storage or ingest statistics that cannot be read make the answer a 503 with
 * `storage_status: "error"` rather than a 500, so a load balancer sees an unhealthy server.
 * Open to anyone, but without the `read` scope it says only `{"status": "ok" | "degraded"}`.
 */
export function healthRoutes(deps: ApiDeps): Hono {
  const { store, registry, clock, log } = deps;
  return new Hono().get("/health", (c) => {
    checkParams(new URL(c.req.url).searchParams, []);
    if (c.get("apiScope") === null) {
      let healthy = true;
      try {
        store.stats();
      } catch (error) {
        log.error("health: storage statistics failed", { error });
        healthy = false;
      }
      return c.json({ status: healthy ? "ok" : "degraded" }, healthy ? 200 : 503);
    }
    const nowMs = clock.now();
    const agents = registry.list();
    const active = agents.filter((agent) =>
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
    return c.json({
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
      ...(deps.warnings ? { warnings: deps.warnings() } : {}),
      ...sections,
    }, healthy ? 200 : 503);
  });
}
