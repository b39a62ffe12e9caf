// deno-lint-ignore-file no-explicit-any -- page functions reach `document` through globalThis:
// this file is type-checked without the DOM library.
/**
 * The dashboard at the moments a loaded machine produces now and then, made to happen every time:
 * the browser holds chosen API requests (Playwright routes) or answers them itself, so that the
 * user's next step lands mid-load, a run is stored between two requests, or a sparkline's bucket
 * boundary falls just after an agent's first report; the rest goes to the real server.
 */
import assert from "node:assert/strict";
import type { Page, Route } from "playwright-core";
import { haveChromium, launchChromium } from "./helpers/chromium.ts";
import { sparkColumns } from "./helpers/dashboard_page.ts";
import { eventually, startTestServer } from "./helpers/server_process.ts";

/** Requests to `pattern` wait in `held` until the test answers them. */
async function holdRequests(page: Page, pattern: string) {
  const held: Route[] = [];
  await page.route(pattern, (route) => {
    held.push(route);
  });
  return held;
}

/** Answers a held request; one the page has aborted meanwhile cannot be answered. */
async function answer(how: () => Promise<void>) {
  try {
    await how();
  } catch (error) {
    if (!/cancel|abort|closed|handled/i.test((error as Error).message)) throw error;
  }
}

const viewState = (page: Page) =>
  page.$eval("#view", (view: any) => ({
    ready: view.dataset.ready ?? null,
    drawn: view.dataset.drawn ?? null,
    heading: view.querySelector("h2")?.textContent ?? null,
    text: view.textContent as string,
  }));

Deno.test({
  name: "the dashboard draws what is current when answers come late, between runs or buckets",
  ignore: !haveChromium,
  async fn(t) {
    const dataDir = await Deno.makeTempDir({ prefix: "oxmon-dashboard-views-" });
    const server = await startTestServer(dataDir);
    const browser = await launchChromium();
    const origin = server.apiUrl;
    const problems: string[] = [];
    try {
      await t.step(
        "leaving the alerts page mid-load does not mark the next page ready",
        async () => {
          const page = await browser.context.newPage();
          page.on("pageerror", (error) => problems.push(error.message));
          const alerts = await holdRequests(page, "**/api/v1/alerts/active");
          const checks = await holdRequests(page, "**/api/v1/checks");
          await page.goto(`${origin}/#/alerts`);
          await eventually(() => alerts.length === 1, "the alerts page asked for what fires");
          await page.goto(`${origin}/#/checks`);
          await eventually(() => checks.length === 1, "the checks page asked for its checks");
          // The alerts page's refresh ended (aborted) when it was left, long before the checks page
          // asked for its checks, which it still waits for.
          const waiting = await viewState(page);
          assert.equal(waiting.heading, "Checks and certificates");
          assert.equal(waiting.ready, null, "the checks page is not ready before its checks came");
          for (const route of alerts) await answer(() => route.continue());
          await answer(() => checks[0].continue());
          await page.waitForSelector('#view[data-ready="true"]');
          assert.match((await viewState(page)).text, /No check has reported yet/);
          await page.close();
        },
      );

      await t.step("a range picked while the agent page loads is the one drawn", async () => {
        const page = await browser.context.newPage();
        page.on("pageerror", (error) => problems.push(error.message));
        // The server has never seen web-1: the page gets its answers from the test.
        const agent = await holdRequests(page, "**/api/v1/agents/web-1");
        let metricAnswers = 0;
        await page.route("**/api/v1/metrics?*", async (route) => {
          const query = new URL(route.request().url()).searchParams;
          await route.fulfill({
            contentType: "application/json",
            body: JSON.stringify({
              from: new Date(Number(query.get("from"))).toISOString(),
              to: new Date(Number(query.get("to"))).toISOString(),
              step_secs: parseInt(query.get("step")!),
              series: [],
            }),
          });
          metricAnswers++;
        });
        await page.goto(`${origin}/#/agent/web-1?range=15m`);
        // Every chart's answer is in; only the agent's details are still on their way.
        await eventually(() => agent.length === 1 && metricAnswers >= 9, "the 15 min charts");
        await page.click('button[data-range="1h"]');
        // The 15 min load ended (aborted) at the click, before the 1 h load's requests went out.
        await eventually(() => agent.length === 2 && metricAnswers >= 18, "the 1 h charts");
        const waiting = await viewState(page);
        assert.equal(waiting.drawn, null, "not drawn before the agent's details came");
        assert.doesNotMatch(waiting.text, /not known to the server/, "the 15 min load's end");
        const nowIso = new Date().toISOString();
        for (const route of agent) {
          await answer(() =>
            route.fulfill({
              contentType: "application/json",
              body: JSON.stringify({
                agent_id: "web-1",
                first_seen: nowIso,
                last_seen: nowIso,
                status: "active",
                system_info: null,
              }),
            })
          );
        }
        await page.waitForSelector('#view[data-drawn="true"]');
        const drawn = await page.$eval("#view", (view: any) => ({
          spanMs: Number(view.dataset.to) - Number(view.dataset.from),
          cpu: view.querySelector('[data-chart="cpu"]').textContent,
          info: view.querySelector("#sysinfo").textContent,
        }));
        assert.equal(drawn.spanMs, 3_600_000, "the 1 h range");
        assert.match(drawn.cpu, /This agent reports no CPU usage/);
        assert.equal(drawn.info, "No system information reported.");
        await page.close();
      });

      await t.step(
        "a check run stored between the checks page's requests keeps its row",
        async () => {
          // The page reads each metric's newest samples in a request of its own; here web-1's
          // "api" check ran at T0, and again at T1 just after the first check.up answer.
          const page = await browser.context.newPage();
          page.on("pageerror", (error) => problems.push(error.message));
          const t1 = Date.now();
          const t0 = t1 - 3_600_000;
          let upReadings = 0;
          await page.route("**/api/v1/metrics/latest?*", async (route) => {
            const metric = new URL(route.request().url()).searchParams.get("metric")!;
            const value = { "check.duration_seconds": 0.0042, "check.status_code": 200 }[metric];
            const atMs = metric === "check.up" && upReadings++ === 0 ? t0 : t1;
            const series = metric === "check.up" || value !== undefined
              ? [{
                agent_id: "web-1",
                metric,
                labels: { check: "api", target: "http://127.0.0.1:9/health" },
                unit: "",
                timestamp: new Date(atMs).toISOString(),
                value: value ?? 1,
              }]
              : [];
            await route.fulfill({
              contentType: "application/json",
              body: JSON.stringify({ series }),
            });
          });
          await page.goto(`${origin}/#/checks`);
          await page.waitForSelector('#view[data-ready="true"]');
          const row = await page.$eval('tr[data-check="api"]', (tr: any) => ({
            duration: tr.querySelector("td.duration .now").textContent,
            code: tr.querySelector("td.code").textContent,
            last: tr.querySelector("td.last").textContent,
          }));
          assert.deepEqual([row.duration, row.code], ["4.2 ms", "200"], JSON.stringify(row));
          assert.doesNotMatch(row.last, /h ago/, "the row is of run T1, not T0 an hour earlier");
          await page.close();
        },
      );

      await t.step(
        "a new agent's sparklines run across the cell at a bucket boundary",
        async () => {
          // web-9 first reported at the end of bucket 27 of 30; its first CPU rate (a round later)
          // fell into bucket 28, and the current bucket 29 has nothing yet.
          const page = await browser.context.newPage();
          page.on("pageerror", (error) => problems.push(error.message));
          const stepMs = 120_000;
          const nowMs = Date.now();
          const fromMs = (Math.floor(nowMs / stepMs) - 29) * stepMs;
          const buckets = (values: Record<number, number>) =>
            Array.from({ length: 30 }, (_, i) => values[i] ?? null);
          const agent = {
            agent_id: "web-9",
            status: "active",
            absent_since: null,
            first_seen: new Date(fromMs + 28 * stepMs - 500).toISOString(),
            last_seen: new Date(nowMs - 1_000).toISOString(),
            hostname: null,
            os: null,
            cpu_cores: 2,
            cpu: 12,
            memory: { percent: 40, used: null, total: null },
            swap_percent: null,
            disk: { percent: 50, mount: "/" },
            network: { recv: 1_000, sent: 500 },
            load: { load_1: 0.5, load_5: null, load_15: null },
            uptime_secs: 100,
            alerts: { firing: 0, severity: null },
            spark: {
              cpu: buckets({ 28: 12 }),
              memory: buckets({ 27: 40, 28: 40 }),
              disk: buckets({ 27: 50, 28: 50 }),
              network: buckets({ 28: 1_500 }),
              load: buckets({ 27: 0.5, 28: 0.5 }),
            },
          };
          await page.route("**/api/v1/fleet?*", (route) =>
            route.fulfill({
              contentType: "application/json",
              body: JSON.stringify({
                range: "1h",
                from: new Date(fromMs).toISOString(),
                to: new Date(nowMs).toISOString(),
                step_secs: stepMs / 1000,
                count: 1,
                agents: [agent],
              }),
            }));
          await page.goto(`${origin}/#/`);
          await page.waitForSelector('#view[data-ready="true"]');
          for (const column of ["cpu", "memory", "network"]) {
            const drawn = await sparkColumns(page, `tr[data-agent="web-9"] td.${column} canvas`);
            assert.ok(drawn.columns >= drawn.width * 0.8, `${column}: ${JSON.stringify(drawn)}`);
          }
          assert.match(
            await page.textContent('tr[data-agent="web-9"] td.status') ?? "",
            /new: data for/,
          );
          await page.close();
        },
      );

      await t.step("the pages ran without errors", () => {
        assert.deepEqual(problems, []);
      });
    } finally {
      await browser.close();
      await server.stop();
      await Deno.remove(dataDir, { recursive: true });
    }
  },
});
