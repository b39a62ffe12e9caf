/**
 * `GET /?range=1h`, mounted at `/api/v1/fleet`: every agent with its status, latest core values
 * and sparklines in one answer, so the overview makes one call however many agents there are.
 */
import { Hono } from "hono";
import { toRfc3339 } from "../../shared/time.ts";
import { badParameter } from "../api/errors.ts";
import { checkParams, optionalText } from "../api/params.ts";
import { DEFAULT_FLEET_RANGE, FLEET_RANGES, type FleetSummary } from "./summary.ts";

export interface FleetRouteDeps {
  fleet: Pick<FleetSummary, "summary">;
}

export function createFleetRoutes(deps: FleetRouteDeps): Hono {
  return new Hono().get("/", (c) => {
    const params = new URL(c.req.url).searchParams;
    checkParams(params, ["range"]);
    const range = optionalText(params, "range") ?? DEFAULT_FLEET_RANGE;
    if (!Object.hasOwn(FLEET_RANGES, range)) {
      throw badParameter(
        "range",
        `expected one of ${Object.keys(FLEET_RANGES).join(", ")}, got "${range}"`,
      );
    }
    const snapshot = deps.fleet.summary(range);
    return c.json({
      range: snapshot.range,
      from: toRfc3339(snapshot.from),
      to: toRfc3339(snapshot.to),
      step_secs: snapshot.step_secs,
      count: snapshot.agents.length,
      agents: snapshot.agents.map((agent) => ({
        ...agent,
        first_seen: toRfc3339(agent.first_seen),
        last_seen: toRfc3339(agent.last_seen),
        absent_since: agent.absent_since === null ? null : toRfc3339(agent.absent_since),
      })),
    });
  });
}
