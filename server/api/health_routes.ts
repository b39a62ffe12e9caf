import type { Hono } from "hono";
import { toRfc3339 } from "../../shared/time.ts";
import { agentStatus } from "../agents/status.ts";
import type { ApiDeps, HealthIssue } from "./_deps.ts";
import { routeApp } from "./routes.ts";

/**
 * `GET /health`. Storage or ingest statistics that cannot be read make the answer a 503 with
 * `storage_status: "error"` rather than a 500, so a load balancer sees an unhealthy server.
 * Issues (damaged files moved aside, writes refused for want of space) make it `degraded` with
 * each listed, but still a 200: reads are served.
 * Open to anyone, but without the `read` scope it says only `{"status": "ok" | "degraded"}`.
 */
export function createHealthRoutes(deps: ApiDeps): Hono {
  const { store, registry, clock, log } = deps;
  return routeApp([{
    method: "get",
    path: "/health",
    summary: "Server health",
    description: "Version, start time, uptime, agent counts, storage status (engine, " +
      "partitions, bytes, series), ingest counters, gRPC listener restarts, series limits and " +
      "`warnings` an operator should act on; with `[[remote_write]]` endpoints configured, " +
      "`remote_write`: each endpoint's queue and delivery state. `issues` lists what keeps the " +
      "server from being fully well (files moved aside as damaged, data found unreadable, " +
      "writes refused for a full disk or below `min_free_bytes`), each with `kind`, `message`, " +
      "`file` and `since`; with any, `status` is `degraded`. Open to anyone, but without the " +
      "`read` scope the answer is only `{status}` (`ok` or `degraded`).",
    responses: {
      200: "serving: `status: ok`, or `degraded` with its `issues` (reads are still served)",
      503: "storage statistics cannot be read (`status: degraded`, `storage_status: error`)",
    },
    handler: (c) => {
      if (c.get("apiScope") === null) {
        const healthy = storageReadable();
        const well = healthy && gatherIssues().length === 0;
        return c.json({ status: well ? "ok" : "degraded" }, healthy ? 200 : 503);
      }
      const { body, healthy } = health();
      return c.json(body, healthy ? 200 : 503);
    },
  }]);

  function gatherIssues(): readonly HealthIssue[] {
    try {
      return deps.issues?.() ?? [];
    } catch (error) {
      log.error("health: issues could not be gathered", { error });
      return [{ kind: "unknown", message: "the server's issues could not be gathered" }];
    }
  }

  function storageReadable(): boolean {
    try {
      store.stats();
      return true;
    } catch (error) {
      log.error("health: storage statistics failed", { error });
      return false;
    }
  }

  function health(): { body: Record<string, unknown>; healthy: boolean } {
    const nowMs = clock.now();
    const agents = registry.list();
    const active =
      agents.filter((agent) =>
        agentStatus(agent.lastSeenMs, nowMs, deps.agentIntervalSecs) === "active"
      ).length;
    let storage: Record<string, unknown> | null = null;
    try {
      const stats = store.stats();
      storage = {
        engine: stats.engine,
        series_count: stats.seriesCount,
        partition_count: stats.partitions.length,
        total_bytes: stats.totalBytes,
        partitions: stats.partitions.map(({ day, bytes }) => ({ day, bytes })),
        ...(stats.rollupFiles && {
          rollup_files: stats.rollupFiles.map(({ name, bytes }) => ({ name, bytes })),
        }),
        ...(stats.uncompactedDays && { uncompacted_days: stats.uncompactedDays }),
        ...(stats.pendingSamples !== undefined && { pending_samples: stats.pendingSamples }),
      };
    } catch (error) {
      log.error("health: storage statistics failed", { error });
    }
    const issues = gatherIssues();
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
    // Degraded, not down: reads (and writes, unless refused) are still served, so only storage
    // that cannot even be asked for statistics makes this a 503.
    const writesRefused = issues.some((issue) => issue.kind === "writes_refused");
    const body = {
      status: healthy && issues.length === 0 ? "ok" : "degraded",
      version: deps.version,
      started_at: toRfc3339(deps.startedAtMs),
      time: toRfc3339(nowMs),
      uptime_secs: Math.max(0, Math.floor((nowMs - deps.startedAtMs) / 1000)),
      agent_count: agents.length,
      active_agent_count: active,
      storage_status: !healthy ? "error" : writesRefused ? "degraded" : "ok",
      storage,
      issues: issues.map((issue) => ({
        kind: issue.kind,
        message: issue.message,
        ...(issue.file !== undefined ? { file: issue.file } : {}),
        ...(issue.sinceMs !== undefined ? { since: toRfc3339(issue.sinceMs) } : {}),
      })),
      ...(deps.ingestStats ? { ingest: ingest ?? null } : {}),
      ...(deps.warnings ? { warnings: deps.warnings() } : {}),
      ...sections,
    };
    return { body, healthy };
  }
}
