/**
 * The dashboard sign-in in headless Chromium against the real server: a stranger is sent to the
 * form, a wrong token is refused, a right one gives an HttpOnly, SameSite=Strict session cookie
 * (no token in the URL or in storage) with which the dashboard loads its data.
 * Needs Debian's `chromium` package at /usr/bin/chromium; skips itself, saying so, without it.
 */
import assert from "node:assert/strict";
import { chromium } from "playwright-core";
import { reportMetrics, withClient } from "./helpers/grpc_client.ts";
import { startTestServer } from "./helpers/server_process.ts";

const CHROMIUM = "/usr/bin/chromium";
const haveChromium = (() => {
  try {
    return Deno.statSync(CHROMIUM).isFile;
  } catch {
    return false;
  }
})();
if (!haveChromium) {
  console.warn(`login_test: skipped, ${CHROMIUM} not found (apt-get install -y chromium)`);
}

const READ_TOKEN = "read-token-for-the-browser-0123";

Deno.test({
  name: "the dashboard sign-in form gives a session cookie the page's own requests use",
  ignore: !haveChromium,
  fn: async () => {
    const dir = await Deno.makeTempDir({ prefix: "oxmon-login-" });
    const server = await startTestServer(
      `${dir}/data`,
      `[[api_tokens]]\ntoken = "${READ_TOKEN}"\nscope = "read"\n`,
    );
    const nowMs = Date.now();
    await withClient(server.grpcPort, (client) =>
      reportMetrics(client, {
        agentId: "web-1",
        timestampMs: nowMs,
        dataPoints: [{ agentId: "web-1", metricName: "cpu.usage", value: 12, timestampMs: nowMs }],
      }));
    const profileDir = await Deno.makeTempDir({ prefix: "oxmon-chromium-" });
    const context = await chromium.launchPersistentContext(profileDir, {
      executablePath: CHROMIUM,
      headless: true,
      args: [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
      ],
    });
    try {
      const page = context.pages()[0] ?? await context.newPage();
      const base = `http://127.0.0.1:${server.httpPort}`;
      await page.goto(`${base}/`);
      assert.equal(new URL(page.url()).pathname, "/login");

      await page.fill("#token", "wrong-token-0000000000");
      await page.click("button[type=submit]");
      await page.waitForSelector(".error");
      assert.match(await page.textContent(".error") ?? "", /not accepted/);
      assert.deepEqual(await context.cookies(), []);

      await page.fill("#token", READ_TOKEN);
      await Promise.all([page.waitForURL(`${base}/`), page.click("button[type=submit]")]);
      await page.waitForSelector('tr[data-agent="web-1"]', { timeout: 10_000 });

      const cookies = await context.cookies();
      assert.equal(cookies.length, 1);
      assert.equal(cookies[0].name, "oxmon_session");
      assert.equal(cookies[0].httpOnly, true);
      assert.equal(cookies[0].sameSite, "Strict");
      assert.ok(!cookies[0].value.includes(READ_TOKEN));
      assert.ok(!page.url().includes(READ_TOKEN));
      // `document` and `localStorage` through globalThis: this file is checked without the DOM lib.
      const scriptView = await page.evaluate(() => {
        const g = globalThis as unknown as {
          document: { cookie: string };
          localStorage: { length: number };
          sessionStorage: { length: number };
        };
        return [g.document.cookie, g.localStorage.length, g.sessionStorage.length];
      });
      assert.deepEqual(scriptView, ["", 0, 0], "the session is invisible to scripts");

      // Without the cookie the same API answers 401.
      const anonymous = await fetch(`${base}/api/v1/agents`);
      assert.equal(anonymous.status, 401);
      await anonymous.body?.cancel();

      // Signing out ends the session on the server, not only in this browser.
      const session = cookies[0].value;
      await page.evaluate(async () => {
        await fetch("/logout", { method: "POST" });
      });
      const replay = await fetch(`${base}/api/v1/agents`, {
        headers: { cookie: `oxmon_session=${session}` },
      });
      assert.equal(replay.status, 401);
      await replay.body?.cancel();
    } finally {
      await context.close();
      await server.stop();
      await Deno.remove(profileDir, { recursive: true });
      await Deno.remove(dir, { recursive: true });
    }
  },
});
