import type { Hono } from "hono";
import { rfc3339 } from "./_time.ts";
import { METRIC_CATALOG } from "../../shared/catalog.ts";
import type { SystemInfo } from "../../shared/types.ts";
import type { AgentRecord } from "../agents/types.ts";
import { agentStatus } from "../agents/status.ts";
import type { ApiDeps } from "./_deps.ts";
import { notFound } from "./errors.ts";
import { PAGE_QUERY, pageParams } from "./params.ts";
import { routeApp } from "./routes.ts";
import { compareSeries } from "./_series.ts";

function systemInfoJson(info: SystemInfo | undefined) {
  if (!info) return null;
  return {
    hostname: info.hostname,
    os: info.os,
    os_version: info.osVersion,
    arch: info.arch,
    kernel_version: info.kernelVersion,
    cpu_cores: info.cpuCores,
    memory_gb: info.memoryGb,
    disk_gb: info.diskGb,
  };
}

/** `GET /agents`, `GET /agents/:id` and `GET /agents/:id/latest`. */
export function createAgentRoutes(deps: ApiDeps): Hono {
  const { store, registry, clock } = deps;
  const agentJson = (agent: AgentRecord, nowMs: number) => ({
    agent_id: agent.agentId,
    first_seen: rfc3339(agent.firstSeenMs),
    last_seen: rfc3339(agent.lastSeenMs),
    status: agentStatus(agent.lastSeenMs, nowMs, deps.agentIntervalSecs),
    system_info: systemInfoJson(agent.systemInfo),
  });
  const known = (id: string): AgentRecord => {
    const agent = registry.get(id);
    if (!agent) throw notFound("agent", id);
    return agent;
  };

  const AGENT_ID = { id: "agent id, as the agent reports it (`agent_id`)" };
  return routeApp([
    {
      method: "get",
      path: "/agents",
      summary: "Every agent",
      description: "`agent_id`, `first_seen`, `last_seen`, `status` (`active`, or `inactive` " +
        "after 3 missed collection intervals) and `system_info`, sorted by id; one page of " +
        "them, `total` counting them all.",
      query: PAGE_QUERY,
      responses: { 200: "`{total, limit, offset, agents: [...]}`", 400: "a bad parameter" },
      handler: (c) => {
        const { limit, offset } = pageParams(new URL(c.req.url).searchParams);
        const nowMs = clock.now();
        const all = registry.list()
          .sort((a, b) => a.agentId < b.agentId ? -1 : a.agentId > b.agentId ? 1 : 0);
        const agents = all.slice(offset, offset + limit).map((agent) => agentJson(agent, nowMs));
        return c.json({ total: all.length, limit, offset, agents });
      },
    },
    {
      method: "get",
      path: "/agents/:id",
      summary: "One agent",
      pathParams: AGENT_ID,
      responses: { 200: "the agent, as in the list", 404: "no agent with this id" },
      handler: (c) => c.json(agentJson(known(c.req.param("id")!), clock.now())),
    },
    {
      method: "get",
      path: "/agents/:id/latest",
      summary: "The latest value of every series of one agent",
      pathParams: AGENT_ID,
      responses: {
        200: "`{agent_id, series: [{metric, labels, unit, timestamp, value}]}`",
        404: "no agent with this id",
      },
      handler: (c) => {
        const agent = known(c.req.param("id")!);
        const series = store.latest(agent.agentId).sort(compareSeries).map((sample) => ({
          metric: sample.metricName,
          labels: sample.labels,
          unit: METRIC_CATALOG[sample.metricName]?.unit ?? "",
          timestamp: rfc3339(sample.timestampMs),
          value: sample.value,
        }));
        return c.json({ agent_id: agent.agentId, series });
      },
    },
  ]);
}
