import assert from "node:assert/strict";
import type { MiddlewareHandler } from "hono";
import { createCertRoutes } from "../certs/api.ts";
import { CertStore } from "../certs/store.ts";
import { createCheckRoutes } from "../checks/api.ts";
import { ApiError } from "./errors.ts";
import { declaredRoutes, routeApp } from "./routes.ts";

/** Refuses every request it sees, so a route behind it answers 401. */
const refuseAll: MiddlewareHandler = (c) =>
  Promise.resolve(c.json({ error: "no", code: "unauthorized" }, 401));

Deno.test("a route's middleware runs before its query check and handler", async () => {
  const seen: string[] = [];
  const app = routeApp([{
    method: "post",
    path: "/things",
    summary: "Add a thing",
    responses: { 200: "ok" },
    middleware: [async (_c, next) => {
      seen.push("middleware");
      await next();
    }],
    handler: (c) => {
      seen.push("handler");
      return c.json({ ok: true });
    },
  }]);
  assert.equal((await app.request("/things", { method: "POST" })).status, 200);
  assert.deepEqual(seen, ["middleware", "handler"]);
  assert.throws(
    () =>
      routeApp([{
        method: "get",
        path: "/x",
        summary: "x",
        body: { description: "b", schema: {} },
        responses: { 200: "ok" },
        handler: (c) => c.json({}),
      }]),
    /Route GET \/x: only POST, PUT and PATCH take a body/,
  );
});

Deno.test("guardWrites guards every write route of certs and checks, and no read", async () => {
  const store = new CertStore(":memory:");
  try {
    const apps = {
      certs: createCertRoutes({
        store,
        checker: { check: () => Promise.reject(), checkAll: () => Promise.resolve([]) },
        clock: { now: () => 0 },
        guardWrites: refuseAll,
      }),
      checks: createCheckRoutes({
        checks: { list: () => [], runNow: () => undefined, ping: () => undefined },
        guardWrites: refuseAll,
      }),
    };
    for (const [name, app] of Object.entries(apps)) {
      app.onError((error, c) => c.json({}, error instanceof ApiError ? error.status : 500));
      for (const route of declaredRoutes(app)!) {
        const url = route.path.replace(/:\w+/g, "x");
        const response = await app.request(url, { method: route.method.toUpperCase() });
        const where = `${name}: ${route.method.toUpperCase()} ${route.path}`;
        if (route.method === "get") assert.notEqual(response.status, 401, where);
        else assert.equal(response.status, 401, where);
      }
    }
  } finally {
    store.close();
  }
});
