import assert from "node:assert/strict";
import { Hono } from "hono";
import type { ApiScope } from "./config.ts";
import { requireScope } from "./require_scope.ts";

/** An app granting `scope` (undefined: no auth middleware at all) to a route behind the guard. */
function app(scope: ApiScope | null | undefined): Hono {
  const app = new Hono();
  if (scope !== undefined) {
    app.use("*", async (c, next) => {
      c.set("apiScope", scope);
      await next();
    });
  }
  app.post("/write", requireScope("admin"), (c) => c.json({ ok: true }));
  app.onError((_error, c) => c.json({ error: "internal" }, 500));
  return app;
}

Deno.test("requireScope lets a reaching scope through and refuses the rest", async (t) => {
  const status = async (scope: ApiScope | null | undefined) =>
    (await app(scope).request("/write", { method: "POST" })).status;
  await t.step("admin passes", async () => assert.equal(await status("admin"), 200));
  await t.step("read is forbidden", async () => assert.equal(await status("read"), 403));
  await t.step("no credential is unauthorized", async () => {
    const response = await app(null).request("/write", { method: "POST" });
    assert.equal(response.status, 401);
    assert.match(response.headers.get("www-authenticate") ?? "", /^Bearer/);
    assert.match((await response.json()).error, /POST \/write needs the admin scope/);
  });
  await t.step("without the auth middleware it fails closed", async () => {
    assert.equal(await status(undefined), 500);
  });
  await t.step("only read and admin are scopes", () => {
    assert.throws(() => requireScope("root" as ApiScope), /Cannot require scope "root"/);
  });
});
