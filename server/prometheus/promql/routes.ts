/**
 * The Prometheus HTTP query API under `/prometheus/api/v1/` (as VictoriaMetrics serves it, so it
 * does not collide with oxmon's own `/api/v1`): `query`, `query_range`, `series`, `labels`,
 * `label/<name>/values`, `status/buildinfo`, and `metadata`/`query_exemplars` for Grafana. GET
 * and form-encoded POST (Grafana's default) both work. Answers and errors have Prometheus'
 * shapes: `{"status":"success","data":…}`, or `{"status":"error","errorType":"bad_data",
 * "error":…}` with 400 (bad parameter, parse error, unsupported PromQL) or 422 (execution).
 *
 * The routes are declared (`routeApp`) with the parameters Prometheus' HTTP API defines for each
 * endpoint, so the OpenAPI document lists them and any other is refused, as everywhere in oxmon.
 * Two of Prometheus' conventions are declared rather than bypassed: `match[]` is `repeatable`,
 * and `formParams` takes the same parameters from a form-encoded POST body.
 */
import type { Context, Hono } from "hono";
import { METRIC_CATALOG } from "../../../shared/catalog.ts";
import type { Clock } from "../../../shared/clock.ts";
import type { Logger } from "../../../shared/log.ts";
import { ApiError } from "../../api/errors.ts";
import { type QueryParam, routeApp, routeParams, type RouteSpec } from "../../api/routes.ts";
import type { MetricStore } from "../../storage/types.ts";
import { toPromLabels, toPromName } from "../naming.ts";
import { Evaluator } from "./eval.ts";
import { type PromLabels, PromQLExecutionError, StoreSource } from "./source.ts";
import { formatSampleValue, parsePromTime, toPromTime } from "./format.ts";
import {
  type Expr,
  type Matcher,
  parseDuration,
  parsePromQL,
  PromQLError,
  typeOf,
} from "./parse.ts";

export interface QueryApiOptions {
  store: MetricStore;
  clock: Clock;
  log: Logger;
  version: string;
  lookbackDeltaSecs: number;
  maxSamples: number;
}

/** Most steps one `query_range` may have, as in Prometheus. */
const MAX_POINTS_PER_SERIES = 11_000;

class BadData extends Error {}

type Params = URLSearchParams;

function time(params: Params, name: string, fallback: number | undefined): number {
  const text = params.get(name);
  if (text === null || text === "") {
    if (fallback === undefined) throw new BadData(`invalid parameter "${name}": missing`);
    return fallback;
  }
  const ms = parsePromTime(text);
  if (ms === undefined) {
    throw new BadData(`invalid parameter "${name}": cannot parse "${text}" to a valid timestamp`);
  }
  return ms;
}

function step(params: Params): number {
  const text = params.get("step");
  if (text === null || text === "") throw new BadData('invalid parameter "step": missing');
  const ms = /^\d+(\.\d+)?$/.test(text) ? Math.round(Number(text) * 1000) : parseDuration(text);
  if (ms === undefined) {
    throw new BadData(`invalid parameter "step": cannot parse "${text}" to a valid duration`);
  }
  if (ms <= 0) {
    throw new BadData(
      "zero or negative query resolution step widths are not accepted. Try a positive integer",
    );
  }
  return ms;
}

/** `limit`: at most this many series, labels or values; absent or 0 means all. */
function limit(params: Params): number {
  const text = params.get("limit");
  if (text === null || text === "" || text === "0") return Infinity;
  if (!/^\d+$/.test(text)) {
    throw new BadData(`invalid parameter "limit": cannot parse "${text}" to a valid limit`);
  }
  return Number(text);
}

/** A duration parameter (`timeout`, `lookback_delta`): float seconds or `5m`; undefined if absent. */
function duration(params: Params, name: string): number | undefined {
  const text = params.get(name);
  if (text === null || text === "") return undefined;
  const ms = parseDuration(text);
  if (ms === undefined) {
    throw new BadData(`invalid parameter "${name}": cannot parse "${text}" to a valid duration`);
  }
  return ms;
}

function query(params: Params): Expr {
  const text = params.get("query");
  if (text === null) throw new BadData('invalid parameter "query": missing');
  return parsePromQL(text);
}

function success(c: Context, data: unknown): Response {
  return c.json({ status: "success", data });
}

function failure(c: Context, status: 400 | 404 | 422 | 500, errorType: string, error: string) {
  return c.json({ status: "error", errorType, error }, status);
}

function sortByLabels<T extends { labels: PromLabels }>(series: T[]): T[] {
  const key = (labels: PromLabels) =>
    Object.keys(labels).sort().map((name) => `${name}\u0000${labels[name]}`).join("\u0001");
  return series.sort((a, b) => (key(a.labels) < key(b.labels) ? -1 : 1));
}

/** The `match[]` selectors of `series`, `labels` and label values. */
function selectors(params: Params, required: boolean): Matcher[][] {
  const all = params.getAll("match[]");
  if (all.length === 0 && required) throw new BadData("no match[] parameter provided");
  return all.map((text) => {
    const expr = parsePromQL(text);
    if (expr.kind !== "selector") {
      throw new BadData(
        `invalid parameter "match[]": ${JSON.stringify(text)} is not a series selector`,
      );
    }
    return expr.matchers;
  });
}

/** Where the API is mounted, as VictoriaMetrics serves it; Grafana's data source URL ends in `/prometheus`. */
const BASE = "/prometheus/api/v1";

const TIME = "RFC 3339, or Unix seconds with optional decimals";
const PARAMS = {
  query: { name: "query", description: "the PromQL expression", required: true },
  time: { name: "time", description: `evaluation time (${TIME}); default: now` },
  start: { name: "start", description: `start, inclusive (${TIME})`, required: true },
  end: { name: "end", description: `end, inclusive (${TIME})`, required: true },
  step: {
    name: "step",
    description: "step between evaluations: float seconds (`15`, `0.5`) or a duration (`1m`)",
    required: true,
  },
  timeout: {
    name: "timeout",
    description: "evaluation timeout (checked, then not applied: oxmon bounds a query by " +
      "`[prometheus] query_max_samples` instead)",
  },
  queryLimit: {
    name: "limit",
    description: "at most this many series in the result (sorted by labels); 0 means all",
  },
  lookbackDelta: {
    name: "lookback_delta",
    description: "how far back an instant selector looks for a sample, for this query only " +
      "(float seconds or a duration); default `[prometheus] lookback_delta_secs`",
  },
  match: {
    name: "match[]",
    description: 'a series selector, e.g. `oxmon_cpu_usage_percent{agent="web-1"}`; the ' +
      "answer covers the series matching any of them",
    repeatable: true,
  },
  optionalStart: { name: "start", description: `start (${TIME}); accepted, not applied` },
  optionalEnd: { name: "end", description: `end (${TIME}); accepted, not applied` },
  listLimit: { name: "limit", description: "at most this many entries; 0 means all" },
} satisfies Record<string, QueryParam>;

/** Prometheus' error envelope, which every answer of this API but a 2xx has. */
const PROMETHEUS_ERROR = {
  title: "PrometheusError",
  type: "object",
  required: ["status", "errorType", "error"],
  properties: {
    status: { type: "string", enum: ["error"] },
    errorType: { type: "string", enum: ["bad_data", "execution", "not_found", "internal"] },
    error: { type: "string", description: "what went wrong, as Prometheus words it" },
  },
};

/**
 * GET, and POST with the same parameters in a form-encoded body (Prometheus' convention,
 * Grafana's default); `post: false` for the endpoints Prometheus serves by GET alone.
 */
function endpoint(
  spec: Omit<RouteSpec, "method" | "path" | "errorSchema" | "responses"> & {
    path: string;
    responses?: Readonly<Record<number, string>>;
  },
  { post = true }: { post?: boolean } = {},
): RouteSpec[] {
  const route = {
    ...spec,
    path: BASE + spec.path,
    responses: spec.responses ?? {
      200: '`{"status": "success", "data": …}`',
      400: "`bad_data`: a missing or bad parameter, or an unknown one",
    },
    errorSchema: PROMETHEUS_ERROR,
  };
  return post
    ? [{ ...route, method: "get" }, { ...route, method: "post", formParams: true }]
    : [{ ...route, method: "get" }];
}

export function createQueryApiRoutes(options: QueryApiOptions): Hono {
  const { store, clock, log } = options;
  const defaultLookbackDeltaMs = options.lookbackDeltaSecs * 1000;

  const evaluator = (times: number[], p: Params) =>
    new Evaluator(new StoreSource(store, options.maxSamples), {
      times,
      lookbackDeltaMs: duration(p, "lookback_delta") ?? defaultLookbackDeltaMs,
      maxSamples: options.maxSamples,
    });

  const instant = (c: Context) => {
    const p = routeParams(c);
    const expr = query(p);
    const atMs = time(p, "time", clock.now());
    duration(p, "timeout");
    const most = limit(p);
    const engine = evaluator([atMs], p);
    if (expr.kind === "matrix") {
      const result = sortByLabels(engine.matrix(expr, atMs)).slice(0, most).map((s) => ({
        metric: s.labels,
        values: s.timestamps.map((ts, i) => [toPromTime(ts), formatSampleValue(s.values[i])]),
      }));
      return success(c, { resultType: "matrix", result });
    }
    const value = engine.evaluate(expr);
    if (value.type === "scalar") {
      return success(c, {
        resultType: "scalar",
        result: [toPromTime(atMs), formatSampleValue(value.values[0])],
      });
    }
    const result = sortByLabels(value.series).slice(0, most).map((s) => ({
      metric: s.labels,
      value: [toPromTime(atMs), formatSampleValue(s.values[0])],
    }));
    return success(c, { resultType: "vector", result });
  };

  const range = (c: Context) => {
    const p = routeParams(c);
    const startMs = time(p, "start", undefined);
    const endMs = time(p, "end", undefined);
    const stepMs = step(p);
    duration(p, "timeout");
    const most = limit(p);
    if (endMs < startMs) throw new BadData("end timestamp must not be before start time");
    if ((endMs - startMs) / stepMs > MAX_POINTS_PER_SERIES) {
      throw new BadData(
        "exceeded maximum resolution of 11,000 points per timeseries. Try decreasing the query resolution (?step=XX)",
      );
    }
    const expr = query(p);
    if (typeOf(expr) === "matrix") {
      throw new BadData(
        'invalid expression type "range vector" for range query, must be Scalar or instant Vector',
      );
    }
    const times: number[] = [];
    for (let t = startMs; t <= endMs; t += stepMs) times.push(t);
    const value = evaluator(times, p).evaluate(expr);
    const series = value.type === "scalar"
      ? [{ labels: {}, values: value.values, present: new Uint8Array(times.length).fill(1) }]
      : sortByLabels(value.series).slice(0, most);
    const result = series.map((s) => {
      const values: [number, string][] = [];
      for (let i = 0; i < times.length; i++) {
        if (s.present[i]) values.push([toPromTime(times[i]), formatSampleValue(s.values[i])]);
      }
      return { metric: s.labels, values };
    });
    return success(c, { resultType: "matrix", result });
  };

  /** Label sets of the series matching any of the selectors (all series without any). */
  const matchingLabels = (p: Params, required: boolean): PromLabels[] => {
    time(p, "start", 0);
    time(p, "end", 0);
    const sets = selectors(p, required);
    const source = new StoreSource(store, options.maxSamples);
    if (sets.length === 0) {
      return store.listSeries().map((key) => Object.fromEntries(toPromLabels(key)));
    }
    const seen = new Map<string, PromLabels>();
    for (const matchers of sets) {
      for (const series of source.select(matchers)) {
        seen.set(JSON.stringify(Object.entries(series.labels).sort()), series.labels);
      }
    }
    return [...seen.values()];
  };

  const app = routeApp([
    ...endpoint({
      path: "/query",
      summary: "PromQL instant query",
      description: "Evaluates the expression at one instant: a `vector`, a `scalar`, or for a " +
        "range selector the raw samples as a `matrix`. See the README for the PromQL oxmon " +
        "supports; anything else is refused with `bad_data`, never answered wrongly.",
      query: [PARAMS.query, PARAMS.time, PARAMS.timeout, PARAMS.queryLimit, PARAMS.lookbackDelta],
      responses: {
        200: '`{"status": "success", "data": {"resultType", "result"}}`',
        400: "`bad_data`: a missing or bad parameter, a parse error or unsupported PromQL",
        422: "`execution`: the query would load more than `query_max_samples` samples",
      },
      handler: instant,
    }),
    ...endpoint({
      path: "/query_range",
      summary: "PromQL range query",
      description: `Evaluates the expression at every step from start to end (at most ${
        MAX_POINTS_PER_SERIES.toLocaleString("en")
      } steps): a \`matrix\`.`,
      query: [
        PARAMS.query,
        PARAMS.start,
        PARAMS.end,
        PARAMS.step,
        PARAMS.timeout,
        PARAMS.queryLimit,
        PARAMS.lookbackDelta,
      ],
      responses: {
        200: '`{"status": "success", "data": {"resultType": "matrix", "result"}}`',
        400: "`bad_data`: a missing or bad parameter, too many steps, a parse error or " +
          "unsupported PromQL",
        422: "`execution`: the query would load more than `query_max_samples` samples",
      },
      handler: range,
    }),
    ...endpoint({
      path: "/series",
      summary: "Series matching selectors",
      description: "The label sets of every series matching any `match[]`.",
      query: [PARAMS.match, PARAMS.optionalStart, PARAMS.optionalEnd, PARAMS.listLimit],
      handler: (c) =>
        success(c, matchingLabels(routeParams(c), true).slice(0, limit(routeParams(c)))),
    }),
    ...endpoint({
      path: "/labels",
      summary: "Label names",
      description: "Every label name of the series matching any `match[]` (of all series " +
        "without one), sorted.",
      query: [PARAMS.match, PARAMS.optionalStart, PARAMS.optionalEnd, PARAMS.listLimit],
      handler: (c) => {
        const p = routeParams(c);
        const names = new Set<string>();
        for (const set of matchingLabels(p, false)) for (const name in set) names.add(name);
        return success(c, [...names].sort().slice(0, limit(p)));
      },
    }),
    ...endpoint({
      path: "/label/:name/values",
      summary: "Values of one label",
      description: "Every value of the label among the series matching any `match[]` (all " +
        "series without one), sorted; `__name__` lists metric names.",
      pathParams: { name: "the label name, e.g. `__name__` or `agent`" },
      query: [PARAMS.match, PARAMS.optionalStart, PARAMS.optionalEnd, PARAMS.listLimit],
      handler: (c) => {
        const p = routeParams(c);
        const name = c.req.param("name")!;
        const values = new Set<string>();
        for (const set of matchingLabels(p, false)) {
          if (set[name] !== undefined) values.add(set[name]);
        }
        return success(c, [...values].sort().slice(0, limit(p)));
      },
    }, { post: false }),
    ...endpoint({
      path: "/status/buildinfo",
      summary: "Build information",
      description: "The Prometheus API level served (2.42.0, so clients pick the right " +
        "features) and oxmon's version as the revision.",
      handler: (c) =>
        success(c, {
          version: "2.42.0",
          revision: `oxmon-${options.version}`,
          branch: "oxmon",
          buildUser: "oxmon",
          buildDate: "",
          goVersion: "",
        }),
    }, { post: false }),
    ...endpoint({
      path: "/metadata",
      summary: "Metric metadata",
      description: "Type, help and unit of each catalogue metric under its Prometheus name " +
        "(all gauges), for Grafana's metric browser.",
      query: [
        { name: "metric", description: "only this metric (a Prometheus name)" },
        { name: "limit", description: "at most this many metrics; 0 means all" },
        {
          name: "limit_per_metric",
          description: "at most this many entries per metric (oxmon has one per metric)",
        },
      ],
      handler: (c) => {
        const p = routeParams(c);
        const only = p.get("metric");
        const most = limit(p);
        const data: Record<string, { type: string; help: string; unit: string }[]> = {};
        for (const [metric, info] of Object.entries(METRIC_CATALOG)) {
          const name = toPromName(metric);
          if (only !== null && only !== "" && name !== only) continue;
          if (Object.keys(data).length >= most) break;
          data[name] = [{ type: "gauge", help: info.description, unit: "" }];
        }
        return success(c, data);
      },
    }, { post: false }),
    ...endpoint({
      path: "/query_exemplars",
      summary: "Exemplars (none)",
      description: "Always an empty list: oxmon stores no exemplars. Answered so Grafana's " +
        "exemplar queries do not fail.",
      query: [
        { name: "query", description: "the PromQL expression (not evaluated)" },
        { name: "start", description: `start (${TIME}); accepted, not applied` },
        { name: "end", description: `end (${TIME}); accepted, not applied` },
      ],
      handler: (c) => success(c, []),
    }),
  ]);

  // Sub-apps mounted with `route` do not get their own notFound: a catch-all instead, matched
  // only after every declared route.
  app.all(
    `${BASE}/*`,
    (c) => failure(c, 404, "not_found", `oxmon does not serve ${new URL(c.req.url).pathname}`),
  );
  app.onError((error, c) => {
    if (error instanceof BadData || error instanceof PromQLError) {
      return failure(c, 400, "bad_data", error.message);
    }
    // A parameter the route does not declare, or one given twice that is not `match[]`.
    if (error instanceof ApiError && error.status === 400) {
      return failure(c, 400, "bad_data", error.message);
    }
    if (error instanceof PromQLExecutionError) return failure(c, 422, "execution", error.message);
    log.error("prometheus query failed", { path: new URL(c.req.url).pathname, error });
    return failure(c, 500, "internal", "internal error");
  });
  return app;
}
