/**
 * REST routes of the server's checks, mounted at `/api/v1/checks`: `GET /` and `GET /:name`
 * (configuration, latest result, next run); the write route `POST /:name/run` sits behind
 * `guardWrites`. Heartbeat pings have their own mount (`/api/v1/heartbeat`): the token in the
 * URL is their credential, so they stay open to cron jobs when API auth comes.
 */
import type { Hono, MiddlewareHandler } from "hono";
import { type CheckResult, type CheckSpec, targetOf } from "../../shared/checks/mod.ts";
import { toRfc3339 } from "../../shared/time.ts";
import { ApiError, notFound } from "../api/errors.ts";
import { routeApp, type RouteSpec } from "../api/routes.ts";
import type { CheckStatus, ServerChecks } from "./service.ts";

export interface CheckRouteDeps {
  checks: Pick<ServerChecks, "list" | "runNow" | "ping">;
  /** Runs before every write route (e.g. requiring the `admin` scope). */
  guardWrites?: MiddlewareHandler;
}

const CHECK = "a check: `{name, type, target, from, interval_secs, timeout_secs, next_run_at}` " +
  "(heartbeats: `grace_secs`, `next_ping_due`), type-specific settings, `up` and `last_result`";
const RESULT = "a result: `{check, type, target, up, message, duration_ms, status_code, " +
  "certificate_days_left, answers, at}`";
const NAME = { name: "the check's `name` in `[[checks]]`" };

export function createCheckRoutes(deps: CheckRouteDeps): Hono {
  const find = (name: string): CheckStatus => {
    const status = deps.checks.list().find((entry) => entry.spec.name === name);
    if (!status) throw notFound("check", name);
    return status;
  };
  const reads: RouteSpec[] = [
    {
      method: "get",
      path: "/",
      summary: "The checks the server runs, with their latest result",
      description: "Checks that agents run are not listed: read their `check.up` samples " +
        "through `/api/v1/metrics?metric=check.up`.",
      responses: { 200: `\`{count, checks}\`; ${CHECK}` },
      handler: (c) => {
        const checks = deps.checks.list().map(statusJson);
        return c.json({ count: checks.length, checks });
      },
    },
    {
      method: "get",
      path: "/:name",
      summary: "One check the server runs",
      pathParams: NAME,
      responses: { 200: CHECK, 404: "no check of this name" },
      handler: (c) => c.json(statusJson(find(c.req.param("name")!))),
    },
  ];

  // Every route that changes state or starts work, in one place.
  const writes: RouteSpec[] = [{
    method: "post",
    path: "/:name/run",
    summary: "Run a check now",
    description: "Runs it outside its schedule; the result is stored like a scheduled one.",
    pathParams: NAME,
    responses: {
      200: RESULT,
      400: "the check is a heartbeat, which runs when its URL is called",
      404: "no check of this name",
    },
    handler: async (c) => {
      const status = find(c.req.param("name")!);
      const run = deps.checks.runNow(status.spec.name);
      if (!run) {
        throw new ApiError(
          "bad_request",
          `Check "${status.spec.name}" is a heartbeat: it runs when its URL is called`,
        );
      }
      return c.json(resultJson(await run));
    },
  }];
  const guard = deps.guardWrites ? [deps.guardWrites] : [];
  return routeApp([...reads, ...writes.map((route) => ({ ...route, middleware: guard }))]);
}

/** `GET|POST /:token` records a successful run, `/:token/fail` a failed one. */
export function createHeartbeatRoutes(deps: Pick<CheckRouteDeps, "checks">): Hono {
  const ping = (token: string, failed: boolean) => {
    const result = deps.checks.ping(token, failed);
    // The same answer for any unknown token: it says nothing about which tokens exist.
    if (!result) throw new ApiError("not_found", "Unknown heartbeat token");
    return { ok: true, check: result.name, up: result.up };
  };
  const TOKEN = { token: "the heartbeat check's `token`" };
  const answers = {
    200: "`{ok: true, check, up}`: the check's name and whether it is up now",
    404: "no heartbeat check has this token",
  };
  return routeApp((["get", "post"] as const).flatMap((method): RouteSpec[] => [
    {
      method,
      path: "/:token",
      summary: "Report a successful run of a heartbeat check",
      description: "A cron job or script calls this when it ran; the check fails once no " +
        "call has come for `interval_secs + grace_secs`. GET and POST do the same.",
      pathParams: TOKEN,
      responses: answers,
      handler: (c) => c.json(ping(c.req.param("token")!, false)),
    },
    {
      method,
      path: "/:token/fail",
      summary: "Report a failed run of a heartbeat check",
      description: "The check fails at once. GET and POST do the same.",
      pathParams: TOKEN,
      responses: answers,
      handler: (c) => c.json(ping(c.req.param("token")!, true)),
    },
  ]));
}

function statusJson(status: CheckStatus) {
  const spec = status.spec;
  return {
    name: spec.name,
    type: spec.type,
    target: targetOf(spec),
    from: "server",
    interval_secs: spec.intervalSecs,
    ...(spec.type === "heartbeat"
      ? {
        grace_secs: spec.graceSecs,
        next_ping_due: status.nextMs === undefined ? null : toRfc3339(status.nextMs),
      }
      : {
        timeout_secs: spec.timeoutSecs,
        next_run_at: status.nextMs === undefined ? null : toRfc3339(status.nextMs),
      }),
    ...specDetails(spec),
    up: status.last ? status.last.up : null,
    last_result: status.last ? resultJson(status.last) : null,
  };
}

function specDetails(spec: CheckSpec) {
  switch (spec.type) {
    case "http":
      return {
        method: spec.method,
        expected_status: spec.expectedStatus.map((range) =>
          range.min === range.max ? String(range.min) : `${range.min}-${range.max}`
        ),
        tls_verify: spec.tlsVerify,
        follow_redirects: spec.followRedirects,
      };
    case "dns":
      return { record_type: spec.recordType, expected: spec.expected };
    default:
      return {};
  }
}

export function resultJson(result: CheckResult) {
  return {
    check: result.name,
    type: result.type,
    target: result.target,
    up: result.up,
    message: result.message,
    duration_ms: Math.round(result.durationMs * 10) / 10,
    status_code: result.statusCode ?? null,
    certificate_days_left: result.certificateDaysLeft ?? null,
    answers: result.answers ?? null,
    at: toRfc3339(result.timestampMs),
  };
}
