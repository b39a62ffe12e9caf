import type { Hono } from "hono";
import { METRIC_CATALOG } from "../../shared/catalog.ts";
import { MS_PER_DAY } from "../../shared/time.ts";
import { seriesIdentityOf } from "../../shared/series.ts";
import type { SeriesKey, SeriesQuery } from "../storage/types.ts";
import { type ApiDeps, DEFAULT_QUERY_LIMITS } from "./_deps.ts";
import { compareSeries, sameLabels } from "./_series.ts";
import { rfc3339 } from "./_time.ts";
import { ApiError, badParameter, notFound } from "./errors.ts";
import {
  LABEL_PREFIX,
  labelFilter,
  optionalText,
  PAGE_QUERY,
  pageParams,
  parseStep,
  timeRange,
} from "./params.ts";
import { type QueryParam, routeApp } from "./routes.ts";

const AGENT: QueryParam = {
  name: "agent",
  description: "only this agent, or `cert-checker`/`oxmon-server` (404 when storage has no " +
    "series of it and no such agent registered)",
};
const METRIC: QueryParam = { name: "metric", description: "only this metric, e.g. `cpu.usage`" };
const LABEL: QueryParam = {
  name: LABEL_PREFIX,
  prefix: true,
  description: "only series whose label has this value, e.g. `label.mount=/`",
};
const TIME = "RFC 3339 or Unix milliseconds";

const unitOf = (metricName: string) => METRIC_CATALOG[metricName]?.unit ?? "";

/**
 * `GET /metrics` (series with raw points, or avg/min/max buckets with `step`),
 * `GET /metrics/latest` (the newest sample of every matching series, across agents),
 * `GET /metrics/series` (series keys) and `GET /metrics/names` (metric names).
 */
export function createMetricRoutes(deps: ApiDeps): Hono {
  const { store, registry, clock } = deps;
  const limits = { ...DEFAULT_QUERY_LIMITS, ...deps.limits };

  /**
   * The agent/metric/label part of a query; an agent neither the registry nor storage knows is a
   * 404. (The server's own samples — `cert-checker`, `oxmon-server` — are in storage only.)
   */
  const seriesFilter = (params: URLSearchParams): Omit<SeriesQuery, "fromMs" | "toMs"> => {
    const agentId = optionalText(params, "agent");
    if (
      agentId !== undefined && !registry.get(agentId) &&
      store.listSeries({ agentId }).length === 0
    ) throw notFound("agent", agentId);
    return { agentId, metricName: optionalText(params, "metric"), labels: labelFilter(params) };
  };

  return routeApp([
    {
      method: "get",
      path: "/metrics",
      summary: "Points of every matching series",
      description: "Raw points, or with `step` one bucket per step with `avg`, `min`, `max` " +
        "and `count` (empty buckets are left out). Bounded: past " +
        `${limits.maxPoints} points or ${limits.maxBucketsPerSeries} buckets per series the ` +
        "query is refused with a 400 asking for a larger step or a shorter range.",
      query: [
        AGENT,
        METRIC,
        LABEL,
        { name: "from", description: `start, inclusive (${TIME}); default: an hour before to` },
        { name: "to", description: `end, inclusive (${TIME}); default: now` },
        {
          name: "step",
          description: "bucket width: seconds (`60`) or a duration (`5m`); buckets start at " +
            "multiples of it (`from` is rounded down, and the answer's `from` says so); when " +
            "`from` is older than raw retention, a step that is not a multiple of 5 minutes is " +
            "rounded up to one (only rollups are left; the answer's `step_secs` says so)",
        },
      ],
      responses: {
        200: "`{from, to, step_secs, series: [{agent_id, metric, labels, unit, points}]}`",
        400: "a bad parameter, or an answer over the limits",
        404: "unknown agent",
      },
      handler: (c) => {
        const params = new URL(c.req.url).searchParams;
        const filter = seriesFilter(params);
        const { fromMs, toMs } = timeRange(params, clock.now());
        const stepText = params.get("step");
        const range = { from: rfc3339(fromMs), to: rfc3339(toMs) };

        if (stepText === null) {
          const found = collectBounded(
            filter,
            (key) => store.queryRaw({ ...key, fromMs, toMs }),
            (one) => one.samples.length,
          );
          const series = found.map((one) => ({
            agent_id: one.agentId,
            metric: one.metricName,
            labels: one.labels,
            unit: unitOf(one.metricName),
            points: one.samples.map((sample) => ({
              timestamp: rfc3339(sample.timestampMs),
              value: sample.value,
            })),
          }));
          return c.json({ ...range, step_secs: null, series });
        }

        let stepMs = parseStep("step", stepText);
        const rollups = deps.rollups;
        if (
          rollups !== undefined && stepMs % rollups.finestMs !== 0 &&
          fromMs < clock.now() - rollups.rawRetentionDays * MS_PER_DAY
        ) {
          // Past raw retention only rollups are left, and they hold nothing finer.
          stepMs = Math.ceil(stepMs / rollups.finestMs) * rollups.finestMs;
        }
        // Buckets start at multiples of the step, not at `from`: the same instant falls in the
        // same bucket on every refresh, so a chart does not shift as its window slides.
        const alignedFromMs = fromMs - (fromMs % stepMs);
        const bucketCount = Math.floor((toMs - alignedFromMs) / stepMs) + 1;
        if (bucketCount > limits.maxBucketsPerSeries) {
          throw badParameter(
            "step",
            `${stepText} makes ${bucketCount} buckets between from and to, more than the limit of ` +
              `${limits.maxBucketsPerSeries}; give a larger step or a shorter range`,
          );
        }
        const found = collectBounded(
          filter,
          (key) => store.queryBuckets({ ...key, fromMs: alignedFromMs, toMs }, stepMs),
          (one) => one.buckets.length,
        );
        const series = found.map((one) => ({
          agent_id: one.agentId,
          metric: one.metricName,
          labels: one.labels,
          unit: unitOf(one.metricName),
          points: one.buckets.map((bucket) => ({
            timestamp: rfc3339(bucket.timestampMs),
            avg: bucket.avg,
            min: bucket.min,
            max: bucket.max,
            count: bucket.count,
          })),
        }));
        return c.json({
          from: rfc3339(alignedFromMs),
          to: range.to,
          step_secs: stepMs / 1000,
          series,
        });
      },
    },
    {
      method: "get",
      path: "/metrics/latest",
      summary: "The newest sample of every matching series",
      description: "Across agents: what a status page needs at once (every check's last " +
        "result, say) without asking each agent in turn or reading a range of raw points to " +
        `find the newest one. Refused with a 400 past ${limits.maxPoints} matching series.`,
      query: [AGENT, METRIC, LABEL],
      responses: {
        200: "`{series: [{agent_id, metric, labels, unit, timestamp, value}]}`",
        400: "a bad parameter, or more matching series than the limit",
        404: "unknown agent",
      },
      handler: (c) => {
        const params = new URL(c.req.url).searchParams;
        const keys = store.listSeries(seriesFilter(params));
        if (keys.length > limits.maxPoints) {
          throw new ApiError(
            "bad_request",
            `The query matches ${keys.length} series, more than the limit of ` +
              `${limits.maxPoints}; filter by agent, metric or label`,
          );
        }
        const wanted = new Set(
          keys.map((key) => seriesIdentityOf(key.agentId, key.metricName, key.labels)),
        );
        const series = [...new Set(keys.map((key) => key.agentId))]
          .flatMap((agentId) => store.latest(agentId))
          .filter((one) => wanted.has(seriesIdentityOf(one.agentId, one.metricName, one.labels)))
          .sort(compareSeries)
          .map((one) => ({
            agent_id: one.agentId,
            metric: one.metricName,
            labels: one.labels,
            unit: unitOf(one.metricName),
            timestamp: rfc3339(one.timestampMs),
            value: one.value,
          }));
        return c.json({ series });
      },
    },
    {
      method: "get",
      path: "/metrics/series",
      summary: "Series known to storage",
      description: "One page of the matching series, sorted by agent, metric and labels; " +
        "`total` counts them all.",
      query: [AGENT, METRIC, LABEL, ...PAGE_QUERY],
      responses: {
        200: "`{total, limit, offset, series: [{agent_id, metric, labels, unit}]}`",
        400: "a bad parameter",
        404: "unknown agent",
      },
      handler: (c) => {
        const params = new URL(c.req.url).searchParams;
        const { limit, offset } = pageParams(params);
        const all = store.listSeries(seriesFilter(params)).sort(compareSeries);
        const series = all.slice(offset, offset + limit).map((key) => ({
          agent_id: key.agentId,
          metric: key.metricName,
          labels: key.labels,
          unit: unitOf(key.metricName),
        }));
        return c.json({ total: all.length, limit, offset, series });
      },
    },
    {
      method: "get",
      path: "/metrics/names",
      summary: "Metric names",
      query: [AGENT],
      responses: { 200: "`{names: [...]}`, sorted", 400: "a bad parameter", 404: "unknown agent" },
      handler: (c) => {
        const params = new URL(c.req.url).searchParams;
        const agentId = seriesFilter(params).agentId;
        const names = [...new Set(store.listSeries({ agentId }).map((key) => key.metricName))]
          .sort();
        return c.json({ names });
      },
    },
  ]);

  /**
   * Queries series by series in response order and stops as soon as the answer outgrows
   * `maxPoints`, so a careless query (every agent over a week, raw) is refused before it has
   * loaded millions of samples into memory.
   */
  function collectBounded<T extends SeriesKey>(
    filter: Omit<SeriesQuery, "fromMs" | "toMs">,
    query: (key: SeriesKey) => T[],
    size: (series: T) => number,
  ): T[] {
    const keys = store.listSeries(filter).sort(compareSeries);
    const found: T[] = [];
    let points = 0;
    for (const key of keys) {
      // A label filter also matches series with more labels; each key takes only its own.
      for (const one of query(key)) {
        if (!sameLabels(one.labels, key.labels)) continue;
        found.push(one);
        points += size(one);
      }
      if (points > limits.maxPoints) {
        throw new ApiError(
          "bad_request",
          `The query matches more than ${limits.maxPoints} points (the limit) in ` +
            `${keys.length} series; narrow "from"/"to", filter by agent, metric or label, ` +
            `or give a larger "step"`,
        );
      }
    }
    return found;
  }
}
