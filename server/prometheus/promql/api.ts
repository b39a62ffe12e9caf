/**
 * The Prometheus HTTP query API under `/prometheus/api/v1/` (as VictoriaMetrics serves it, so it
 * does not collide with oxmon's own `/api/v1`): `query`, `query_range`, `series`, `labels`,
 * `label/<name>/values`, `status/buildinfo`, and `metadata`/`query_exemplars` for Grafana. GET
 * and form-encoded POST (Grafana's default) both work. Answers and errors have Prometheus'
 * shapes: `{"status":"success","data":…}`, or `{"status":"error","errorType":"bad_data",
 * "error":…}` with 400 (bad parameter, parse error, unsupported PromQL) or 422 (execution).
 */
import { Hono } from "hono";
import type { Context } from "hono";
import { METRIC_CATALOG } from "../../../shared/catalog.ts";
import type { Clock } from "../../../shared/clock.ts";
import type { Logger } from "../../../shared/log.ts";
import type { MetricStore } from "../../storage/types.ts";
import { toPromLabels, toPromName } from "../naming.ts";
import { Evaluator, type PromLabels, PromQLExecutionError, StoreSource } from "./eval.ts";
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

async function params(c: Context): Promise<Params> {
  const url = new URL(c.req.url);
  const out = new URLSearchParams(url.search);
  if (c.req.method === "POST") {
    const type = c.req.header("content-type") ?? "";
    if (/application\/x-www-form-urlencoded/i.test(type)) {
      for (const [name, value] of new URLSearchParams(await c.req.text())) out.append(name, value);
    }
  }
  return out;
}

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

export function queryApiRoutes(options: QueryApiOptions): Hono {
  const { store, clock, log } = options;
  const lookbackDeltaMs = options.lookbackDeltaSecs * 1000;
  const app = new Hono();

  const evaluator = (times: number[]) =>
    new Evaluator(new StoreSource(store, options.maxSamples), {
      times,
      lookbackDeltaMs,
      maxSamples: options.maxSamples,
    });

  const instant = async (c: Context) => {
    const p = await params(c);
    const expr = query(p);
    const atMs = time(p, "time", clock.now());
    const engine = evaluator([atMs]);
    if (expr.kind === "matrix") {
      const result = sortByLabels(engine.matrix(expr, atMs)).map((s) => ({
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
    const result = sortByLabels(value.series).map((s) => ({
      metric: s.labels,
      value: [toPromTime(atMs), formatSampleValue(s.values[0])],
    }));
    return success(c, { resultType: "vector", result });
  };

  const range = async (c: Context) => {
    const p = await params(c);
    const startMs = time(p, "start", undefined);
    const endMs = time(p, "end", undefined);
    const stepMs = step(p);
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
    const value = evaluator(times).evaluate(expr);
    const series = value.type === "scalar"
      ? [{ labels: {}, values: value.values, present: new Uint8Array(times.length).fill(1) }]
      : sortByLabels(value.series);
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

  app.get("/query", instant).post("/query", instant);
  app.get("/query_range", range).post("/query_range", range);
  const series = async (c: Context) => {
    const p = await params(c);
    time(p, "start", 0);
    time(p, "end", 0);
    return success(c, matchingLabels(p, true));
  };
  app.get("/series", series).post("/series", series);
  const labels = async (c: Context) => {
    const p = await params(c);
    const names = new Set<string>();
    for (const set of matchingLabels(p, false)) for (const name in set) names.add(name);
    return success(c, [...names].sort());
  };
  app.get("/labels", labels).post("/labels", labels);
  app.get("/label/:name/values", async (c) => {
    const p = await params(c);
    const name = c.req.param("name");
    const values = new Set<string>();
    for (const set of matchingLabels(p, false)) if (set[name] !== undefined) values.add(set[name]);
    return success(c, [...values].sort());
  });
  app.get("/status/buildinfo", (c) =>
    success(c, {
      // The Prometheus API level served, so clients pick the right features.
      version: "2.42.0",
      revision: `oxmon-${options.version}`,
      branch: "oxmon",
      buildUser: "oxmon",
      buildDate: "",
      goVersion: "",
    }));
  app.get("/metadata", (c) => {
    const data: Record<string, { type: string; help: string; unit: string }[]> = {};
    for (const [metric, info] of Object.entries(METRIC_CATALOG)) {
      data[toPromName(metric)] = [{ type: "gauge", help: info.description, unit: "" }];
    }
    return success(c, data);
  });
  const exemplars = (c: Context) => success(c, []);
  app.get("/query_exemplars", exemplars).post("/query_exemplars", exemplars);

  // Sub-apps mounted with `route` do not get their own notFound: a catch-all instead.
  app.all(
    "*",
    (c) => failure(c, 404, "not_found", `oxmon does not serve ${new URL(c.req.url).pathname}`),
  );
  app.onError((error, c) => {
    if (error instanceof BadData || error instanceof PromQLError) {
      return failure(c, 400, "bad_data", error.message);
    }
    if (error instanceof PromQLExecutionError) return failure(c, 422, "execution", error.message);
    log.error("prometheus query failed", { path: new URL(c.req.url).pathname, error });
    return failure(c, 500, "internal", "internal error");
  });
  return new Hono().route("/prometheus/api/v1", app);
}
