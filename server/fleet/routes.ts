/**
 * `GET /?range=1h`, mounted at `/api/v1/fleet`: every agent with its status, latest core values
 * and sparklines in one answer, so the overview makes one call however many agents there are.
 */
import type { Hono } from "hono";
import { toRfc3339 } from "../../shared/time.ts";
import { badParameter } from "../api/errors.ts";
import { optionalText, pageParams, pageQuery } from "../api/params.ts";
import { routeApp } from "../api/routes.ts";
import { DEFAULT_FLEET_RANGE, FLEET_RANGES, type FleetSummary, SPARK_POINTS } from "./summary.ts";

/**
 * Most agents one answer carries, also its default page size: the dashboard's one call covers a
 * fleet of that size.
 */
export const FLEET_PAGE = { defaultLimit: 10_000, maxLimit: 10_000 };

export interface FleetRouteDeps {
  fleet: Pick<FleetSummary, "summary">;
}

export function createFleetRoutes(deps: FleetRouteDeps): Hono {
  const ranges = Object.keys(FLEET_RANGES);
  return routeApp([{
    method: "get",
    path: "/",
    summary: "Every agent's status, latest core values and sparklines",
    description: "One answer for the whole fleet, from memory that ingest keeps current (the " +
      "first call after a start reads storage once). Each agent has `status` (`active`, " +
      "`inactive`, or `absent` with `absent_since` while an `agent_absent` alert fires), " +
      "`first_seen`, `last_seen`, `hostname`, `os`, `cpu_cores`, the latest `cpu`, `memory`, " +
      "`swap_percent`, `disk` (the fullest mount), `network`, `load`, `uptime_secs`, `alerts` " +
      `(\`firing\`, highest \`severity\`) and \`spark\`: ${SPARK_POINTS} buckets of the range ` +
      "per core value, `null` where nothing arrived.",
    query: [{
      name: "range",
      description: `the sparklines' span: ${ranges.join(", ")} (default ${DEFAULT_FLEET_RANGE})`,
      schema: { type: "string", enum: ranges },
    }, ...pageQuery(FLEET_PAGE)],
    responses: {
      200: "`{range, from, to, step_secs, total, limit, offset, count, agents: [...]}`; " +
        "`total` counts every agent, `count` those in this page",
      400: "an unknown range or a bad page",
    },
    handler: (c) => {
      const params = new URL(c.req.url).searchParams;
      const range = optionalText(params, "range") ?? DEFAULT_FLEET_RANGE;
      if (!Object.hasOwn(FLEET_RANGES, range)) {
        throw badParameter("range", `expected one of ${ranges.join(", ")}, got "${range}"`);
      }
      const page = pageParams(params, FLEET_PAGE);
      const snapshot = deps.fleet.summary(range, page);
      return c.json({
        range: snapshot.range,
        from: toRfc3339(snapshot.from),
        to: toRfc3339(snapshot.to),
        step_secs: snapshot.step_secs,
        total: snapshot.total,
        limit: page.limit,
        offset: page.offset,
        count: snapshot.agents.length,
        agents: snapshot.agents.map((agent) => ({
          ...agent,
          first_seen: toRfc3339(agent.first_seen),
          last_seen: toRfc3339(agent.last_seen),
          absent_since: agent.absent_since === null ? null : toRfc3339(agent.absent_since),
        })),
      });
    },
  }]);
}
