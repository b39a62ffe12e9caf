/**
 * The REST API and the dashboard as one Hono app. Routes throw `ApiError`; everything reaches
 * the single `onError`, which renders `{"error": "...", "code": "..."}`.
 */
import { Hono } from "hono";
import { HTTPException } from "hono/http-exception";
import { createDashboardRoutes } from "../dashboard/routes.ts";
import { DamagedDataError } from "../storage/types.ts";
import type { ApiDeps } from "./_deps.ts";
import { agentRoutes } from "./agents.ts";
import { ApiError, type ApiErrorCode, errorBody } from "./errors.ts";
import { healthRoutes } from "./health.ts";
import { metricRoutes } from "./metrics.ts";

export type { ApiDeps, HealthIssue, QueryLimits } from "./_deps.ts";
export { DEFAULT_QUERY_LIMITS } from "./_deps.ts";

const BUILT_IN = new Set(["health", "agents", "metrics"]);

export function createApiApp(deps: ApiDeps): Hono {
  const mounts = Object.entries(deps.mounts ?? {});
  for (const [key] of mounts) {
    if (!/^[a-z][a-z0-9_-]*$/.test(key) || BUILT_IN.has(key)) {
      throw new TypeError(
        `Cannot mount routes at /api/v1/${key}: expected a lower-case name other than ` +
          `${[...BUILT_IN].join(", ")}`,
      );
    }
  }
  const log = deps.log;
  const app = new Hono();

  app.use("/api/*", async (c, next) => {
    await next();
    // Monitoring data goes stale in seconds; no cache should hand out an old answer.
    c.header("cache-control", "no-store");
  });

  app.route("/", createDashboardRoutes());

  app.route("/api/v1", healthRoutes(deps));
  app.route("/api/v1", agentRoutes(deps));
  app.route("/api/v1", metricRoutes(deps));
  for (const [key, subApp] of mounts) app.route(`/api/v1/${key}`, subApp);
  for (const subApp of deps.rootRoutes ?? []) app.route("/", subApp);

  app.notFound((c) => {
    const code: ApiErrorCode = "not_found";
    return c.json(
      errorBody(code, `No route for ${c.req.method} ${new URL(c.req.url).pathname}`),
      404,
    );
  });

  app.onError((error, c) => {
    if (error instanceof ApiError) {
      return c.json(errorBody(error.code, error.message), error.status);
    }
    if (error instanceof HTTPException && error.status < 500) {
      const code: ApiErrorCode = error.status === 404 ? "not_found" : "bad_request";
      return c.json(errorBody(code, error.message || "Bad request"), error.status);
    }
    if (error instanceof DamagedDataError) {
      // Not a bug to hide: the answer says which stored data is damaged (health lists it too).
      log.error("api request hit damaged data", { path: new URL(c.req.url).pathname, error });
      return c.json(errorBody("internal", `Stored data is damaged: ${error.message}`), 500);
    }
    log.error("api request failed", {
      method: c.req.method,
      path: new URL(c.req.url).pathname,
      error,
      stack: error instanceof Error ? error.stack : undefined,
    });
    return c.json(errorBody("internal", "Internal server error"), 500);
  });

  return app;
}
