/**
 * The REST API and the dashboard as one Hono app, built from route declarations (`routes.ts`)
 * that also make the OpenAPI document at `/api/v1/openapi.json`. Routes throw `ApiError`;
 * everything reaches the single `onError`, which renders `{"error": "...", "code": "..."}`.
 */
import { Hono } from "hono";
import { HTTPException } from "hono/http-exception";
import { createDashboardRoutes } from "../dashboard/routes.ts";
import { DamagedDataError } from "../storage/types.ts";
import type { ApiDeps } from "./_deps.ts";
import { createAgentRoutes } from "./agent_routes.ts";
import { ApiError, type ApiErrorCode, errorBody } from "./errors.ts";
import { createHealthRoutes } from "./health_routes.ts";
import { createMetricRoutes } from "./metric_routes.ts";
import { type MountedRoutes, openApiDocument, openApiPath } from "./openapi.ts";
import { declaredRoutes, routeApp } from "./routes.ts";
import { ACCESS_SECURITY, accessOfRoute } from "../auth/access.ts";

export type { ApiDeps, HealthIssue, QueryLimits } from "./_deps.ts";
export { DEFAULT_QUERY_LIMITS } from "./_deps.ts";

const BUILT_IN = new Set(["health", "agents", "metrics", "whitelist", "auth", "openapi"]);
const API_BASE = "/api/v1";

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
  const rootRoutes = Object.entries(deps.rootRoutes ?? {});
  for (const [tag] of rootRoutes) {
    if (!/^[a-z][a-z0-9_-]*$/.test(tag) || BUILT_IN.has(tag) || deps.mounts?.[tag]) {
      throw new TypeError(
        `Cannot mount root routes tagged "${tag}": expected a lower-case tag other than ` +
          `${[...BUILT_IN].join(", ")} and the mount names`,
      );
    }
  }
  const log = deps.log;
  const app = new Hono();

  // First: the Host check and credentials come before anything answers.
  if (deps.auth) app.use("*", deps.auth.middleware());

  app.use("/api/*", async (c, next) => {
    await next();
    // Monitoring data goes stale in seconds; no cache should hand out an old answer.
    c.header("cache-control", "no-store");
  });

  const mounted: MountedRoutes[] = [];
  const mount = (base: string, tag: string, subApp: Hono) => {
    app.route(base, subApp);
    mounted.push({ base, tag, routes: declaredRoutes(subApp) ?? [] });
  };
  let document: Record<string, unknown> | undefined;
  if (deps.auth) mount("/", "auth", deps.auth.routes());
  mount("/", "dashboard", createDashboardRoutes());
  mount(API_BASE, "health", createHealthRoutes(deps));
  // Before the agent routes, whose `/agents/:id` would take "whitelist" for an agent id.
  if (deps.whitelist) mount(`${API_BASE}/agents/whitelist`, "whitelist", deps.whitelist);
  mount(API_BASE, "agents", createAgentRoutes(deps));
  mount(API_BASE, "metrics", createMetricRoutes(deps));
  for (const [key, subApp] of mounts) mount(`${API_BASE}/${key}`, key, subApp);
  for (const [tag, subApp] of rootRoutes) mount("/", tag, subApp);
  mount(
    API_BASE,
    "openapi",
    routeApp([{
      method: "get",
      path: "/openapi.json",
      summary: "This document",
      description: "OpenAPI 3.1, generated from the route declarations the app is built from " +
        "and, for who may call each route, from the access table (`server/auth/access.ts`).",
      responses: { 200: "the OpenAPI document" },
      handler: (c) =>
        c.json(
          document ??= openApiDocument(mounted, deps.version, {
            security: deps.auth ? ACCESS_SECURITY : undefined,
          }),
        ),
    }]),
  );
  assertEveryRouteDeclared(app, mounted);
  // A route the access table does not name would be served to admins only (default deny) and
  // documented without its scope: refuse to start instead, naming it.
  if (deps.auth) assertEveryRouteHasAccess(mounted);

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

/**
 * Throws `TypeError` naming each route the app answers that no declaration describes (a sub-app
 * built with `new Hono()` rather than `routeApp`): it would be missing from the OpenAPI document.
 */
function assertEveryRouteDeclared(app: Hono, mounted: readonly MountedRoutes[]): void {
  const declared = new Set(
    mounted.flatMap(({ base, routes }) =>
      routes.map((route) => `${route.method.toUpperCase()} ${openApiPath(base, route.path)}`)
    ),
  );
  const undeclared = app.routes
    // Middleware (`app.use`) is registered for every method; it answers nothing itself.
    .filter((route) => route.method !== "ALL")
    .map((route) => `${route.method} ${openApiPath("", route.path)}`)
    .filter((route) => !declared.has(route));
  if (undeclared.length > 0) {
    throw new TypeError(
      `Every route must be declared with routeApp() to appear in the OpenAPI document; ` +
        `not declared: ${[...new Set(undeclared)].join(", ")}`,
    );
  }
}

/** Throws `TypeError` naming each declared route the access table has no rule for. */
function assertEveryRouteHasAccess(mounted: readonly MountedRoutes[]): void {
  const missing = mounted.flatMap(({ base, routes }) =>
    routes
      .map((route) => `${route.method.toUpperCase()} ${openApiPath(base, route.path)}`)
      .filter((route) => {
        const [method, path] = route.split(" ");
        return accessOfRoute(method, path) === undefined;
      })
  );
  if (missing.length > 0) {
    throw new TypeError(
      `Every route needs a rule in the access table (server/auth/access.ts); ` +
        `none for: ${missing.join(", ")}`,
    );
  }
}
