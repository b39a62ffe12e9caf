/**
 * The routes Prometheus and its kin call, mounted at the root where they look for them:
 * `POST /api/v1/write` (remote write in) and `GET /metrics` (the scrape). The query API under
 * `/prometheus/api/v1/` has its own folder, `promql/`.
 */
import type { Hono } from "hono";
import { routeApp } from "../api/routes.ts";
import { CONTENT_TYPES, negotiateFormat, renderExposition } from "./exposition.ts";
import { REFUSAL_CODES, type RemoteWriteReceiver } from "./remote_write_receiver.ts";
import {
  agentMetricFamilies,
  selfMetricFamilies,
  type SelfMetricsSources,
} from "./self_metrics.ts";

/** `POST /api/v1/write`, mounted at the root: the path is the one senders are configured with. */
export function createRemoteWriteRoutes(receiver: RemoteWriteReceiver): Hono {
  return routeApp([{
    method: "post",
    path: "/api/v1/write",
    summary: "Prometheus remote write in",
    description: "Remote-Write 1.0 from Prometheus, vmagent, Grafana Alloy or Telegraf. Same " +
      "authentication as agents (`Authorization: Bearer` with one of `agent_tokens`); series " +
      "are named back to oxmon metrics and take the same validation, commit, agent " +
      "registration and alert feed as gRPC batches. A request is stored whole or not at all. " +
      "Stale markers and other NaN/±Inf samples and native histograms are skipped and counted, " +
      "not refused.",
    body: {
      description: "A snappy block-compressed protobuf `prometheus.WriteRequest`, sent with " +
        "`Content-Encoding: snappy` and `X-Prometheus-Remote-Write-Version: 0.1.0`",
      mediaType: "application/x-protobuf",
      schema: { type: "string", format: "binary" },
    },
    responses: {
      204: "stored",
      400: "a body or series that can never be stored, naming the series and field (the " +
        "sender must not retry it), or a query parameter",
      401: "no accepted agent token",
      403: "the agent token is bound to other agent ids than the request's series name",
      413: "a body above `[ingest] max_batch_bytes` (compressed) or " +
        "`[prometheus] remote_write_max_bytes` (uncompressed)",
      415: "another Content-Type or Content-Encoding",
      503: "storage failed; the sender retries",
    },
    errorSchema: {
      title: "RemoteWriteError",
      type: "object",
      required: ["error", "code"],
      properties: {
        error: { type: "string", description: "what was refused and why" },
        code: { type: "string", enum: [...REFUSAL_CODES] },
      },
    },
    handler: (c) => receiver.handle(c.req.raw),
  }]);
}

/** `GET /metrics`, mounted at the root where scrapers look for it. */
export function createSelfMetricsRoutes(sources: SelfMetricsSources): Hono {
  return routeApp([{
    method: "get",
    path: "/metrics",
    summary: "The server's own metrics, for Prometheus to scrape",
    description: "The Prometheus text format 0.0.4, or OpenMetrics 1.0 when the `Accept` " +
      "header asks for it: build info, ingest, gRPC listener restarts, storage, agents, alert " +
      "evaluations and events, notification send attempts and remote write both ways. With " +
      "`[prometheus] expose_agent_metrics = true`, also the latest sample of every agent " +
      "series, stamped with its own time.",
    responses: { 200: "the exposition" },
    contentType: [CONTENT_TYPES.prometheus, CONTENT_TYPES.openmetrics],
    handler: (c) => {
      const format = negotiateFormat(c.req.header("accept") ?? null);
      const families = selfMetricFamilies(sources);
      if (sources.exposeAgentMetrics) {
        try {
          // A pushed series named like one of the server's own families is left out: names
          // must be unique in an exposition.
          const own = new Set(families.map((family) => family.name));
          for (const family of agentMetricFamilies(sources.store, sources.registry)) {
            if (!own.has(family.name) && !own.has(family.name.replace(/_total$/, ""))) {
              families.push(family);
            }
          }
        } catch (error) {
          sources.log.error("/metrics: agent series failed", { error });
        }
      }
      return c.body(renderExposition(families, format), 200, {
        "content-type": CONTENT_TYPES[format],
        "cache-control": "no-store",
      });
    },
  }]);
}
