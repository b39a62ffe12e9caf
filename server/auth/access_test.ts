import assert from "node:assert/strict";
import { silentLogger } from "../../shared/log.ts";
import { ManualClock } from "../../shared/clock.ts";
import { createApiApp } from "../api/app.ts";
import { openApiPath } from "../api/openapi.ts";
import { declaredRoutes, routeApp } from "../api/routes.ts";
import { openTestEnv } from "../../tests/helpers/api_env.ts";
import { createCertRoutes } from "../certs/routes.ts";
import { openCertStore } from "../certs/store.ts";
import { createCheckRoutes } from "../checks/routes.ts";
import { openFullApi } from "../../tests/helpers/full_api.ts";
import { accessOfRoute, accessTable, requiredAccess, scopeOf } from "./access.ts";
import { ApiAuth } from "./api_auth.ts";
import { createHostGuard } from "./host_guard.ts";
import { requireScope, scopeRequiredBy } from "./require_scope.ts";
import { SessionStore } from "./sessions.ts";

Deno.test("the access table names exactly the routes the server declares", async () => {
  const { request, close } = await openFullApi();
  try {
    const document = await (await request("/api/v1/openapi.json")).json();
    const declared = Object.entries(document.paths as Record<string, Record<string, unknown>>)
      .flatMap(([path, methods]) => Object.keys(methods).map((m) => `${m.toUpperCase()} ${path}`))
      .sort();
    const ruled = [...accessTable().keys()].sort();
    assert.deepEqual(
      declared.filter((route) => !ruled.includes(route)),
      [],
      "declared routes without an access rule",
    );
    assert.deepEqual(
      ruled.filter((route) => !declared.includes(route)),
      [],
      "access rules for routes nobody declares",
    );
  } finally {
    await close();
  }
});

Deno.test("an app with authentication refuses to start with a route the access table lacks", async () => {
  const env = await openTestEnv();
  try {
    const auth = new ApiAuth({
      tokens: [],
      anonymousScope: "admin",
      hostAllowed: createHostGuard({ bindHost: "127.0.0.1", allowedHosts: [] }),
      sessions: new SessionStore({ ttlMs: 60_000 }),
      secureCookie: false,
      clock: new ManualClock(0),
      log: silentLogger,
    });
    const extra = routeApp([{
      method: "get",
      path: "/thing",
      summary: "A route nobody gave an access rule",
      responses: { 200: "ok" },
      handler: (c) => c.json({}),
    }]);
    assert.throws(
      () => createApiApp({ ...env.deps, auth, mounts: { extra } }),
      /access table .*none for: GET \/api\/v1\/extra\/thing$/,
    );
    // Without authentication nothing is enforced, so nothing is asked.
    createApiApp({ ...env.deps, mounts: { extra } });
  } finally {
    await env.close();
  }
});

Deno.test("requiredAccess: the stricter of overlapping rules, HEAD as GET, default deny", async (t) => {
  for (
    const [method, path, access] of [
      ["GET", "/api/v1/health", "public"],
      ["HEAD", "/", "public"],
      ["POST", "/api/v1/heartbeat/abc", "public"],
      ["GET", "/api/v1/heartbeat/abc/fail", "public"],
      ["POST", "/api/v1/write", "agent"],
      ["GET", "/api/v1/agents/web-01", "read"],
      ["GET", "/metrics", "read"],
      ["POST", "/prometheus/api/v1/query", "read"],
      ["GET", "/prometheus/api/v1/label/job/values", "read"],
      ["GET", "/api/v1/notifications/deliveries", "admin"],
      ["DELETE", "/api/v1/certs/domains/7", "admin"],
      // Both `/agents/{id}` (read) and the whitelist's rule match: the whitelist answers.
      ["GET", "/api/v1/agents/whitelist", "admin-token"],
      ["GET", "/api/v1/agents/whitelist/latest", "admin-token"],
      // No route answers these: default deny.
      ["GET", "/api/v1/new-route", "admin"],
      ["POST", "/", "admin"],
      ["OPTIONS", "/api/v1/agents", "admin"],
      ["GET", "/api/v1/agents/", "admin"],
    ] as const
  ) {
    await t.step(`${method} ${path}: ${access}`, () => {
      assert.equal(requiredAccess(method, path), access);
    });
  }
});

Deno.test("the certificate and check modules' guardWrites agree with the access table", () => {
  const store = openCertStore(":memory:");
  try {
    const guard = requireScope("admin");
    const modules = {
      "/api/v1/certs": createCertRoutes({
        store,
        checker: { check: () => Promise.reject(), checkAll: () => Promise.resolve([]) },
        clock: { now: () => 0 },
        guardWrites: guard,
      }),
      "/api/v1/checks": createCheckRoutes({
        checks: { list: () => [], runNow: () => undefined, ping: () => undefined },
        guardWrites: guard,
      }),
    };
    let guarded = 0;
    for (const [base, app] of Object.entries(modules)) {
      for (const route of declaredRoutes(app)!) {
        const where = `${route.method.toUpperCase()} ${openApiPath(base, route.path)}`;
        const access = accessOfRoute(route.method, openApiPath(base, route.path));
        const required = (route.middleware ?? []).map(scopeRequiredBy).find(Boolean);
        if (route.method !== "get") assert.equal(required, "admin", `${where} is not guarded`);
        if (required) {
          guarded++;
          assert.equal(access && scopeOf(access), required, where);
        }
      }
    }
    assert.ok(guarded >= 7, `only ${guarded} guarded routes`);
  } finally {
    store.close();
  }
});
