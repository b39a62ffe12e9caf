import assert from "node:assert/strict";
import type { MiddlewareHandler } from "hono";
import { createCertRoutes } from "../certs/routes.ts";
import { openCertStore } from "../certs/store.ts";
import { createCheckRoutes } from "../checks/routes.ts";
import { ApiError } from "./errors.ts";
import { declaredRoutes, routeApp, routeParams } from "./routes.ts";

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

Deno.test("repeatable parameters and form bodies are taken only where declared", async (t) => {
  const seen: string[][] = [];
  const app = routeApp([{
    method: "post",
    path: "/series",
    summary: "Series",
    query: [
      { name: "match[]", description: "selector", repeatable: true },
      { name: "start", description: "start" },
    ],
    formParams: true,
    responses: { 200: "ok" },
    handler: (c) => {
      seen.push(routeParams(c).getAll("match[]"));
      return c.json({ start: routeParams(c).get("start") });
    },
  }]);
  app.onError((error, c) =>
    c.json({ error: error.message }, error instanceof ApiError ? error.status : 500)
  );
  const form = (body: string, query = "") =>
    app.request(`/series${query}`, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body,
    });

  await t.step("a repeatable parameter from the URL and the body", async () => {
    const response = await form("match[]=b&start=5", "?match[]=a");
    assert.equal(response.status, 200);
    assert.deepEqual(await response.json(), { start: "5" });
    assert.deepEqual(seen.at(-1)?.sort(), ["a", "b"]);
  });
  await t.step("any other parameter once, counting the URL and the body together", async () => {
    const response = await form("start=5", "?start=6");
    assert.equal(response.status, 400);
    assert.match((await response.json()).error, /"start": given more than once/);
  });
  await t.step("an undeclared parameter in the body is refused like one in the URL", async () => {
    const response = await form("match[]=a&step=1");
    assert.equal(response.status, 400);
    assert.match((await response.json()).error, /unknown parameter "step"/);
  });
  await t.step("formParams needs POST", () => {
    assert.throws(
      () =>
        routeApp([{
          method: "get",
          path: "/x",
          summary: "x",
          formParams: true,
          responses: { 200: "ok" },
          handler: (c) => c.json({}),
        }]),
      /Route GET \/x: formParams needs POST and no other body/,
    );
  });
});

Deno.test("guardWrites guards every write route of certs and checks, and no read", async () => {
  const store = openCertStore(":memory:");
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
