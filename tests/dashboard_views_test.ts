// deno-lint-ignore-file no-explicit-any -- page functions reach `document` through globalThis:
// this file is type-checked without the DOM library.
/**
 * An answer that arrives after the user moved on must not be drawn into what is shown now
 * (dashboard/view.ts). The browser holds chosen API requests (Playwright routes) so that the
 * user's next step happens, every time, while a load is still under way; the rest goes to the
 * real server.
 */
import assert from "node:assert/strict";
import type { Page, Route } from "playwright-core";
import { haveChromium, launchChromium } from "./helpers/chromium.ts";
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
  name: "a load that ends after the user moved on leaves the new view alone",
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
