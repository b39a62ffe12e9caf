// deno-lint-ignore-file no-explicit-any -- page functions reach `document` through globalThis:
// this file is type-checked without the DOM library.
/**
 * The checks and certificates pages in a real headless Chromium against the real server: it
 * checks a TCP port the test opens and then closes, an HTTPS server with a certificate made by
 * `openssl`, and the certificates of that server and of one whose certificate expired; a real
 * agent runs an HTTP check of its own against the server's health route.
 */
import assert from "node:assert/strict";
import { haveChromium, launchChromium, spawnAgent, watchPage } from "./helpers/chromium.ts";
import {
  gotoView,
  linePixels,
  screenshots,
  sparkColumns,
  themePixels,
} from "./helpers/dashboard_page.ts";
import { makeTestPki } from "./helpers/pki.ts";
import { eventually, startTestServer } from "./helpers/server_process.ts";
import { listenTcp, serveHttps } from "./helpers/check_targets.ts";

interface CheckJson {
  name: string;
  up: boolean | null;
}

Deno.test({
  name: "the checks page shows every check and certificate, failing first, with charts and history",
  ignore: !haveChromium,
  async fn(t) {
    const dir = await Deno.makeTempDir({ prefix: "oxmon-dashboard-checks-" });
    const pki = await makeTestPki();
    const valid = serveHttps(pki.valid);
    const expired = serveHttps(pki.expired);
    const tcp = listenTcp();
    const server = await startTestServer(
      `${dir}/data`,
      `agent_interval_secs = 1

[cert_check]
tick_secs = 1
connect_timeout_secs = 2
ca_file = "${pki.caFile}"

[[cert_check.domains]]
domain = "localhost"
port = ${valid.port}

[[cert_check.domains]]
domain = "localhost"
port = ${expired.port}

[[checks]]
name = "db"
type = "tcp"
host = "127.0.0.1"
port = ${tcp.port}
interval_secs = 1

[[checks]]
name = "web"
type = "http"
url = "https://localhost:${valid.port}/health"
tls_ca_file = "${pki.caFile}"
interval_secs = 1

[[alert.rules]]
name = "db-down"
type = "check_failed"
consecutive_failures = 1
labels = { check = "db" }
severity = "critical"
`,
    );
    await Deno.writeTextFile(
      `${dir}/agent.toml`,
      `[[checks]]
name = "api-health"
type = "http"
url = "${server.apiUrl}/api/v1/health"
interval_secs = 1
`,
    );
    const agent = spawnAgent("web-1", server.grpcPort, `${dir}/agent.toml`);
    const browser = await launchChromium();
    const origin = server.apiUrl;
    const { page, outside, problems } = await watchPage(browser, origin);
    const serverCheck = async (name: string) => {
      const { body } = await server.getJson("/api/v1/checks");
      return (body.checks as CheckJson[]).find((check) => check.name === name);
    };
    try {
      // A few runs of each with the port open, then the port closes and "db" goes down.
      await eventually(async () => {
        const { body } = await server.getJson("/api/v1/metrics?metric=check.up");
        const series = body.series as { labels: { check: string }; points: unknown[] }[];
        const runs = (name: string) =>
          series.find((one) => one.labels.check === name)?.points.length ?? 0;
        return runs("db") >= 2 && runs("web") >= 2 && runs("api-health") >= 2;
      }, "two runs of each check, the agent's included");
      await tcp.close();
      await eventually(async () => (await serverCheck("db"))?.up === false, "db down");
      await eventually(async () => {
        const { body } = await server.getJson(
          "/api/v1/metrics/latest?metric=check.up&label.check=db",
        );
        return (body.series as { value: number }[])[0]?.value === 0;
      }, "db's failed run stored");
      await eventually(async () => {
        const { body } = await server.getJson("/api/v1/certs/status");
        return body.count === 2;
      }, "both certificates checked");

      await t.step(
        "the checks page lists every check, failing first, and where it runs",
        async () => {
          await page.goto(`${origin}/#/checks`);
          await page.waitForSelector('tr[data-check="db"][data-state="down"]');
          await page.waitForSelector('tr[data-check="api-health"]');
          const rows = await page.$$eval("table.checks tbody tr", (trs: any[]) =>
            trs.map((tr) => ({
              check: tr.dataset.check,
              state: tr.querySelector("td.state b").textContent,
              message: tr.querySelector("td.state small")?.textContent ?? "",
              target: tr.querySelector("td.target").textContent,
              where: tr.querySelector("td.where").textContent,
              duration: tr.querySelector("td.duration .now").textContent,
              code: tr.querySelector("td.code").textContent,
              runs: tr.querySelector("td.runs small").textContent,
            })));
          assert.deepEqual(rows.map((row) => [row.check, row.state, row.where]), [
            ["db", "down", "server"],
            ["api-health", "up", "web-1agent"],
            ["web", "up", "server"],
          ]);
          const [db, api, web] = rows;
          assert.match(db.message, /refused/);
          const seen = JSON.stringify(rows);
          assert.equal(db.target, `127.0.0.1:${tcp.port}`, seen);
          assert.equal(web.target, `https://localhost:${valid.port}/health`, seen);
          assert.equal(web.code, "200", seen);
          assert.equal(api.code, "200", seen);
          for (const row of rows) assert.match(row.duration, /^\d+(\.\d+)? ms$/, row.check);
          assert.match(db.runs, /^\d+\.\d % up · \d+ runs/);
          assert.match(web.runs, /^100\.0 % up/);
          // The strips: db's runs went down (red, or amber in a bucket that also holds runs that
          // were up); web's are all green.
          const colors = ["--ok", "--bad", "--warn"];
          const dbStrip = await themePixels(page, 'tr[data-check="db"] canvas.strip', colors);
          assert.ok(dbStrip["--bad"] + dbStrip["--warn"] > 20, `db: ${JSON.stringify(dbStrip)}`);
          const webStrip = await themePixels(page, 'tr[data-check="web"] canvas.strip', colors);
          assert.ok(
            webStrip["--ok"] > 20 && webStrip["--bad"] + webStrip["--warn"] === 0,
            `web: ${JSON.stringify(webStrip)}`,
          );
          const line = await sparkColumns(page, 'tr[data-check="web"] td.duration canvas');
          assert.ok(line.columns >= line.width * 0.8, `web's durations: ${JSON.stringify(line)}`);
          assert.match(
            await page.textContent("#checks-summary") ?? "",
            /3 checks: 1 down, 2 up · 2 certificates: 1 invalid/,
          );
        },
      );

      await t.step(
        "certificates: the invalid one first, with why, days, issuer and expiry",
        async () => {
          await page.waitForSelector('table.certs tr[data-state="invalid"]');
          const certs = await page.$$eval("table.certs tbody tr", (trs: any[]) =>
            trs.map((tr) => ({
              port: Number(tr.dataset.port),
              state: tr.querySelector("td.state").textContent,
              days: tr.querySelector("td.days").textContent,
              why: tr.querySelector("td.why").textContent,
              issuer: tr.querySelector("td.issuer").textContent,
              expires: tr.querySelector("td.expires").textContent,
              last: tr.querySelector("td.last").textContent,
            })));
          assert.deepEqual(certs.map((c) => [c.port, c.state, c.days]), [
            [expired.port, "invalid", "-2 days"],
            [valid.port, "valid", "89 days"],
          ]);
          assert.match(certs[0].why, /certificate expired 2 days ago/);
          assert.equal(certs[1].why, "–");
          for (const cert of certs) {
            assert.match(cert.issuer, /CN=oxmon Test Root/);
            assert.match(cert.expires, /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$/);
            assert.match(cert.last, /just now|s ago/);
          }
          await screenshots(page, "checks");
        },
      );

      await t.step("the nav, a check and its charts are reached by keyboard", async () => {
        await gotoView(page, `${origin}/#/`);
        const focusedText = () =>
          page.evaluate(() => (globalThis as any).document.activeElement?.textContent ?? "");
        const tabTo = async (text: string) => {
          for (let i = 0; i < 40 && await focusedText() !== text; i++) {
            await page.keyboard.press("Tab");
          }
          assert.equal(await focusedText(), text);
          await page.keyboard.press("Enter");
        };
        await tabTo("Checks");
        await page.waitForSelector('tr[data-check="db"]');
        assert.match(page.url(), /#\/checks$/);
        // The range menu by keyboard: the last 15 minutes, in 1 s steps on the check's page.
        await page.focus("#range");
        await page.keyboard.press("Home");
        await page.waitForFunction(() => /range=15m/.test(globalThis.location.hash));
        await page.waitForSelector('tr[data-check="db"] td.runs small');
        await tabTo("db");
        await page.waitForSelector('#view[data-drawn="true"]');
        assert.match(page.url(), /#\/checks\/check\/oxmon-server\/db\?range=15m/);
        assert.match(await page.textContent("#check-title") ?? "", /db\s*down/);
        assert.match(
          await page.textContent("#check-info") ?? "",
          /tcp · 127\.0\.0\.1:\d+ · runs on the server every 1 s/,
        );
        assert.match(await page.textContent("#check-last") ?? "", /Down .*refused/);
        for (const chart of ["check-up", "check-duration"]) {
          assert.ok(await linePixels(page, chart) > 20, `${chart} draws a line`);
        }
        // A TCP check has no status code or certificate: those charts are not shown.
        assert.deepEqual(
          await page.$$eval(
            "[data-chart]:not([hidden])",
            (cards: any[]) => cards.map((card) => card.dataset.chart),
          ),
          ["check-up", "check-duration"],
        );
        const legend = await page.textContent('[data-chart="check-duration"] .legend') ?? "";
        assert.match(legend, /127\.0\.0\.1:\d+ \d+(\.\d+)? ms/);
      });

      await t.step("an HTTPS check charts its status code and certificate days", async () => {
        await gotoView(page, `${origin}/#/checks/check/oxmon-server/web?range=15m`);
        assert.match(await page.textContent("#check-last") ?? "", /Up .*HTTP 200.*89 days left/);
        for (const chart of ["check-up", "check-duration", "check-code", "check-cert"]) {
          assert.ok(await linePixels(page, chart) > 20, `${chart} draws a line`);
        }
        assert.match(await page.textContent('[data-chart="check-code"] .legend') ?? "", /200/);
        assert.match(await page.textContent('[data-chart="check-cert"] .legend') ?? "", /89 days/);
        await screenshots(page, "check");
        // An agent's check has its own page too.
        await gotoView(page, `${origin}/#/checks/check/web-1/api-health?range=15m`);
        assert.match(
          await page.textContent("#check-info") ?? "",
          /http · .*\/api\/v1\/health · runs on agent web-1/,
        );
        assert.ok(await linePixels(page, "check-up") > 20);
      });

      await t.step("a certificate's page shows its details and history", async () => {
        await page.goto(`${origin}/#/checks`);
        await page.click(`table.certs tr[data-port="${expired.port}"] td.name a`);
        await page.waitForSelector("#cert-history tbody tr");
        assert.match(page.url(), new RegExp(`#/checks/cert/localhost:${expired.port}$`));
        const facts = await page.textContent("#cert-details") ?? "";
        assert.match(facts, /invalid — certificate expired 2 days ago/);
        assert.match(facts, /CN=oxmon Test Root/);
        assert.match(facts, /SHA-256[0-9A-F:]{95}/);
        const history = await page.$$eval(
          "#cert-history tbody tr",
          (trs: any[]) => trs.map((tr) => tr.dataset.valid),
        );
        assert.ok(history.length >= 1 && history.every((v) => v === "false"), String(history));
        await gotoView(page, `${origin}/#/checks/cert/localhost:${valid.port}`);
        await page.waitForSelector("#cert-history tbody tr");
        assert.match(await page.textContent("#cert-title") ?? "", /valid/);
        assert.match(await page.textContent('[data-chart="cert-days"] .legend') ?? "", /89 days/);
        await screenshots(page, "cert");
      });

      await t.step("a failed check's alert links to the check's page", async () => {
        await page.goto(`${origin}/#/alerts`);
        await page.waitForSelector('#active tr[data-rule="db-down"]');
        const source = await page.getAttribute(
          '#active tr[data-rule="db-down"] td:nth-child(3) a',
          "href",
        );
        assert.equal(
          source,
          "#/checks",
          "oxmon-server is not an agent: its link is the checks page",
        );
        await page.click('#active tr[data-rule="db-down"] a.chart-link');
        await page.waitForFunction(() => /^#\/checks\/check\//.test(globalThis.location.hash));
        assert.match(page.url(), /#\/checks\/check\/oxmon-server\/db\?from=.*&to=/);
        await page.waitForSelector('#view[data-drawn="true"]');
        assert.ok(await linePixels(page, "check-up") > 20, "the check's runs around the alert");
      });

      await t.step("the pages ran without console errors and fetched only from the server", () => {
        assert.deepEqual(problems, []);
        assert.deepEqual(outside, []);
      });
    } finally {
      await browser.close();
      agent.kill("SIGTERM");
      await agent.status;
      await server.stop();
      await tcp.close();
      await valid.stop();
      await expired.stop();
      await pki.remove();
      await Deno.remove(dir, { recursive: true });
    }
  },
});
