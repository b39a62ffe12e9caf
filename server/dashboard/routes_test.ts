import assert from "node:assert/strict";
import { gunzipSync } from "node:zlib";
import { createDashboardRoutes } from "./routes.ts";

Deno.test("the dashboard shell loads its two assets from this server only", async () => {
  const app = createDashboardRoutes({ js: "console.log(1)", css: "body{margin:0}" });
  const page = await app.request("/");
  assert.equal(page.status, 200);
  assert.match(page.headers.get("content-type") ?? "", /text\/html/);
  const csp = page.headers.get("content-security-policy") ?? "";
  for (const rule of ["default-src 'none'", "script-src 'self'", "connect-src 'self'"]) {
    assert.ok(csp.includes(rule), `${rule} in ${csp}`);
  }
  const html = await page.text();
  assert.doesNotMatch(html, /https?:\/\//);
  const js = /src="(assets\/app\.[0-9a-f]{8}\.js)"/.exec(html)?.[1];
  const css = /href="(assets\/app\.[0-9a-f]{8}\.css)"/.exec(html)?.[1];
  assert.ok(js && css, html);

  const script = await app.request("/" + js);
  assert.equal(await script.text(), "console.log(1)");
  assert.match(script.headers.get("cache-control") ?? "", /immutable/);
  assert.match(script.headers.get("content-type") ?? "", /javascript/);
  const style = await app.request("/" + css, { headers: { "accept-encoding": "gzip, br" } });
  assert.equal(style.headers.get("content-encoding"), "gzip");
  assert.equal(
    new TextDecoder().decode(gunzipSync(new Uint8Array(await style.arrayBuffer()))),
    "body{margin:0}",
  );
  assert.equal((await app.request("/assets/app.00000000.js")).status, 404);
});

Deno.test("new assets get a new name, so no browser keeps a stale cached copy", async () => {
  const names = async (js: string) => {
    const html = await (await createDashboardRoutes({ js, css: "" }).request("/")).text();
    return /app\.([0-9a-f]{8})\.js/.exec(html)![1];
  };
  assert.notEqual(await names("a()"), await names("b()"));
});
