/**
 * REST routes of the server's checks, mounted at `/api/v1/checks`: `GET /` and `GET /:name`
 * (configuration, latest result, next run); the write route `POST /:name/run` sits behind
 * `guardWrites`. Heartbeat pings have their own mount (`/api/v1/heartbeat`): the token in the
 * URL is their credential, so they stay open to cron jobs when API auth comes.
 */
import { Hono, type MiddlewareHandler } from "hono";
import { type CheckResult, type CheckSpec, targetOf } from "../../shared/checks/mod.ts";
import { toRfc3339 } from "../../shared/time.ts";
import { ApiError, notFound } from "../api/errors.ts";
import { checkParams } from "../api/params.ts";
import type { CheckStatus, ServerChecks } from "./service.ts";

export interface CheckRouteDeps {
  checks: Pick<ServerChecks, "list" | "runNow" | "ping">;
  /** Runs before every write route (e.g. requiring the `admin` scope). */
  guardWrites?: MiddlewareHandler;
}

export function createCheckRoutes(deps: CheckRouteDeps): Hono {
  const find = (name: string): CheckStatus => {
    const status = deps.checks.list().find((entry) => entry.spec.name === name);
    if (!status) throw notFound("check", name);
    return status;
  };
  const reads = new Hono()
    .get("/", (c) => {
      checkParams(new URL(c.req.url).searchParams, []);
      const checks = deps.checks.list().map(statusJson);
      return c.json({ count: checks.length, checks });
    })
    .get("/:name", (c) => {
      checkParams(new URL(c.req.url).searchParams, []);
      return c.json(statusJson(find(c.req.param("name"))));
    });

  // Every route that changes state or starts work, in one place.
  const writes = new Hono();
  if (deps.guardWrites) writes.use("*", deps.guardWrites);
  writes.post("/:name/run", async (c) => {
    checkParams(new URL(c.req.url).searchParams, []);
    const status = find(c.req.param("name"));
    const run = deps.checks.runNow(status.spec.name);
    if (!run) {
      throw new ApiError(
        "bad_request",
        `Check "${status.spec.name}" is a heartbeat: it runs when its URL is called`,
      );
    }
    return c.json(resultJson(await run));
  });
  return new Hono().route("/", reads).route("/", writes);
}

/** `GET|POST /:token` records a successful run, `/:token/fail` a failed one. */
export function createHeartbeatRoutes(deps: Pick<CheckRouteDeps, "checks">): Hono {
  const ping = (token: string, failed: boolean) => {
    const result = deps.checks.ping(token, failed);
    // The same answer for any unknown token: it says nothing about which tokens exist.
    if (!result) throw new ApiError("not_found", "Unknown heartbeat token");
    return { ok: true, check: result.name, up: result.up };
  };
  const app = new Hono();
  for (const method of ["get", "post"] as const) {
    app[method]("/:token", (c) => c.json(ping(c.req.param("token"), false)));
    app[method]("/:token/fail", (c) => c.json(ping(c.req.param("token"), true)));
  }
  return app;
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
