// deno-lint-ignore-file no-explicit-any -- page functions reach `document` through globalThis:
// this file is type-checked without the DOM library.
/**
 * The dashboard in a real headless Chromium against the real server (gRPC listener child, chunk
 * storage, alert engine) with two real agents reporting every second on 127.0.0.1.
 * Needs Debian's `chromium` at /usr/bin/chromium; skips itself, saying so, without it.
 *
 * Every page is screenshotted in light and dark, at desktop and phone width, into
 * tests/screenshots/ (the README's screenshot is copied from there).
 */
import assert from "node:assert/strict";
import { haveChromium, launchChromium, spawnAgent, watchPage } from "./helpers/chromium.ts";
import { gotoView, linePixels, screenshots, sparkColumns } from "./helpers/dashboard_page.ts";
import { eventually, startTestServer } from "./helpers/server_process.ts";

if (!haveChromium) {
  console.warn("dashboard_test: skipped, /usr/bin/chromium not found (apt-get install chromium)");
}

const RULES = `
[[alert.rules]]
name = "web-1-busy"
type = "threshold"
metric = "cpu.usage"
agent_pattern = "web-1"
operator = "greater_equal"
value = 0.0
severity = "critical"
`;

Deno.test({
  name: "the dashboard shows the fleet, agent charts and alerts of real agents in Chromium",
  ignore: !haveChromium,
  async fn(t) {
    const dataDir = await Deno.makeTempDir({ prefix: "oxmon-dashboard-" });
    const server = await startTestServer(dataDir, `agent_interval_secs = 1\n${RULES}`);
    const agents = ["web-1", "web-2"].map((id) => spawnAgent(id, server.grpcPort));
    const browser = await launchChromium();
    const origin = server.apiUrl;
    const { page, outside, problems } = await watchPage(browser, origin);
    const metricQueries: URL[] = [];
    page.on("request", (request) => {
      const url = new URL(request.url());
      if (url.pathname === "/api/v1/metrics") metricQueries.push(url);
    });
    try {
      // Three rounds each: the first carries no rates, two more draw a line of them.
      await eventually(
        async () => {
          const { body } = await server.getJson("/api/v1/metrics?metric=network.bytes_recv");
          const series = body.series as { agent_id: string; points: unknown[] }[];
          return ["web-1", "web-2"].every((id) =>
            series.some((one) => one.agent_id === id && one.points.length >= 3)
          );
        },
        "three rounds of rates from both agents",
        30_000,
      );

      await t.step("the overview lists every agent with its values and sparklines", async () => {
        await page.goto(`${origin}/`);
        await page.waitForSelector('tr[data-agent="web-2"] canvas.spark');
        const rows = await page.$$eval(
          "table.fleet tbody tr[data-agent]",
          (trs) =>
            trs.map((tr) => ({
              agent: tr.getAttribute("data-agent"),
              status: tr.querySelector("td.status span")?.textContent,
              cpu: tr.querySelector("td.cpu .now")?.textContent,
              memory: tr.querySelector("td.memory .now")?.textContent,
              network: tr.querySelector("td.network .now")?.textContent,
              sparkPoints: tr.querySelector("td.cpu canvas")?.getAttribute("data-points"),
            })),
        );
        assert.deepEqual(rows.map((row) => [row.agent, row.status]), [
          ["web-1", "active"],
          ["web-2", "active"],
        ]);
        for (const row of rows) {
          assert.match(row.cpu ?? "", /^\d+\.\d %$/);
          assert.match(row.memory ?? "", /^\d+\.\d %$/);
          assert.match(row.network ?? "", /^↓.*\/s ↑.*\/s$/);
          assert.ok(Number(row.sparkPoints) >= 1, `sparkline of ${row.agent}`);
        }
        const firing = await page.$$eval(
          "section.firing li",
          (items) =>
            items.map((item) => [item.getAttribute("data-rule"), item.getAttribute("data-agent")]),
        );
        assert.deepEqual(firing, [["web-1-busy", "web-1"]]);

        // At 1280 px every column is on screen, the Alerts column included.
        const fit = await page.$eval(".table-wrap", (wrap: any) => {
          const last = wrap.querySelector("thead th:last-child");
          return {
            title: last.textContent,
            overflow: wrap.scrollWidth - wrap.clientWidth,
            right: last.getBoundingClientRect().right,
            edge: wrap.getBoundingClientRect().right,
          };
        });
        assert.equal(fit.title, "Alerts");
        assert.ok(fit.overflow <= 0 && fit.right <= fit.edge, JSON.stringify(fit));
        // The agents reported for seconds of the hour: their sparklines start at their first
        // sample and run across the cell (not a dot at its right edge), and the row says so.
        for (const agent of ["web-1", "web-2"]) {
          const drawn = await sparkColumns(page, `tr[data-agent="${agent}"] td.cpu canvas`);
          assert.ok(drawn.columns >= drawn.width * 0.8, `${agent}: ${JSON.stringify(drawn)}`);
          assert.match(
            await page.textContent(`tr[data-agent="${agent}"] td.status`) ?? "",
            /new: data for \d+ s/,
          );
        }
        await screenshots(page, "overview");

        // At phone width each agent is a card whose values are all on screen.
        await page.setViewportSize({ width: 390, height: 844 });
        const cells = await page.$$eval(
          'tr[data-agent="web-1"] td',
          (tds: any[]) =>
            tds.map((td) => ({
              label: td.dataset.label ?? td.className,
              left: td.getBoundingClientRect().left,
              right: td.getBoundingClientRect().right,
            })),
        );
        for (const cell of cells) {
          assert.ok(cell.left >= 0 && cell.right <= 390, JSON.stringify(cell));
        }
        assert.deepEqual(cells.map((cell) => cell.label), [
          "agent",
          "status",
          "CPU",
          "Memory",
          "Fullest disk",
          "Network",
          "Load",
          "Alerts",
        ]);
        await page.selectOption("#sort", "memory");
        assert.match(page.url(), /sort=memory&dir=desc/);
        await page.setViewportSize({ width: 1280, height: 900 });

        await page.fill("#filter", "web-[2]");
        await page.waitForFunction(() =>
          (globalThis as any).document.querySelectorAll("table.fleet tbody tr[data-agent]")
            .length === 1
        );
        assert.match(page.url(), /q=web-%5B2%5D/);
        await page.click('button[data-sort="cpu"]');
        assert.match(page.url(), /sort=cpu&dir=desc/);
      });

      await t.step("an agent page draws every chart with data", async () => {
        // A chart's x axis spans at least a minute, so three rounds of rates are a 16-pixel stub
        // of a line. The overview's step usually lasts long enough for more; when it did not (it
        // failed early, say), wait for them.
        await eventually(async () => {
          const points = async (metric: string) => {
            const { body } = await server.getJson(`/api/v1/metrics?agent=web-1&metric=${metric}`);
            const series = body.series as { points: unknown[] }[];
            return series.length ? Math.min(...series.map((one) => one.points.length)) : 0;
          };
          return await points("cpu.usage") >= 6 && await points("network.bytes_recv") >= 6;
        }, "six rounds of web-1's rates");
        await gotoView(page, `${origin}/#/agent/web-1?range=15m`);
        const charts = await page.$$eval("[data-chart]", (cards) =>
          cards.map((card) => ({
            chart: card.getAttribute("data-chart"),
            series: Number(card.getAttribute("data-series")),
            points: Number(card.getAttribute("data-points")),
            canvas: card.querySelector("canvas") !== null,
          })));
        assert.deepEqual(charts.map((c) => c.chart), [
          "cpu",
          "memory",
          "disk",
          "disk-io",
          "disk-ops",
          "network",
          "packets",
          "load",
          "uptime",
        ]);
        for (const chart of charts) {
          assert.ok(chart.canvas && chart.series >= 1 && chart.points >= 2, JSON.stringify(chart));
          assert.ok(await linePixels(page, chart.chart!) > 20, `${chart.chart} draws a line`);
        }
        const legend = await page.textContent('[data-chart="network"] .legend') ?? "";
        assert.doesNotMatch(legend, /\bifb\d|\blo\b/, "virtual interfaces are not reported");
        assert.match(await page.textContent("#sysinfo") ?? "", /cores/);
        await screenshots(page, "agent");
      });

      await t.step("per-core CPU is drawn on demand", async () => {
        await page.check("#per-core");
        await page.waitForFunction(() =>
          Number(
            (globalThis as any).document.querySelector('[data-chart="cpu"]').getAttribute(
              "data-series",
            ),
          ) > 1
        );
        assert.match(page.url(), /cores=1/);
        assert.match(await page.textContent('[data-chart="cpu"] .legend') ?? "", /core 0/);
        await page.uncheck("#per-core");
      });

      await t.step("changing the range changes the query and the URL", async () => {
        metricQueries.length = 0;
        await page.click('button[data-range="6h"]');
        await page.waitForFunction(() =>
          (globalThis as any).document.querySelector("#view").dataset.step === "30"
        );
        await eventually(() => metricQueries.length >= 9, "the charts' new queries", 5_000);
        assert.match(page.url(), /#\/agent\/web-1\?range=6h/);
        for (const query of metricQueries) {
          assert.equal(query.searchParams.get("step"), "30s");
          const span = Number(query.searchParams.get("to")) -
            Number(query.searchParams.get("from"));
          assert.equal(span, 6 * 3_600_000);
        }
        assert.equal(await page.getAttribute('button[data-range="6h"]', "aria-pressed"), "true");
      });

      await t.step("the crosshair tooltip shows values with units", async () => {
        // Only the hash changes: until the page handles it, the 6 h view is still drawn.
        await gotoView(page, `${origin}/#/agent/web-1?range=15m`);
        assert.equal(await page.getAttribute('button[data-range="15m"]', "aria-pressed"), "true");
        const over = await page.$('[data-chart="memory"] .u-over');
        const box = await over!.boundingBox();
        await page.mouse.move(box!.x + box!.width - 3, box!.y + box!.height / 2);
        await page.waitForSelector('[data-chart="memory"] .tooltip:not([hidden])');
        const tooltip = await page.textContent('[data-chart="memory"] .tooltip') ?? "";
        assert.match(tooltip, /memory: \d+\.\d %/);
        // The other charts follow the cursor: their legends show values at the same instant.
        assert.match(await page.textContent('[data-chart="load"] .legend') ?? "", /load 1 \d/);
      });

      await t.step("dragging across a chart zooms into that range", async () => {
        const over = await page.$('[data-chart="cpu"] .u-over');
        const box = (await over!.boundingBox())!;
        const y = box.y + box.height / 2;
        await page.mouse.move(box.x + box.width * 0.5, y);
        await page.mouse.down();
        await page.mouse.move(box.x + box.width * 0.9, y, { steps: 5 });
        await page.mouse.up();
        await page.waitForFunction(() => /from=.*&to=/.test(globalThis.location.hash));
        const params = new URLSearchParams(page.url().split("?")[1]);
        const span = Date.parse(params.get("to")!) - Date.parse(params.get("from")!);
        assert.ok(span > 0 && span < 15 * 60_000, `zoomed span ${span} ms`);
        // Back returns to the range before the zoom, in the URL and in the charts.
        await page.goBack();
        await page.waitForFunction(() =>
          (globalThis as any).document.querySelector('button[data-range="15m"]')
            ?.getAttribute("aria-pressed") === "true"
        );
        assert.match(page.url(), /\?range=15m$/);
      });

      await t.step("a firing rule is on the alerts page and links to its chart", async () => {
        await page.goto(`${origin}/#/alerts`);
        await page.waitForSelector('#active tr[data-rule="web-1-busy"]');
        const row = await page.$$eval(
          '#active tr[data-rule="web-1-busy"] td',
          (tds) => tds.map((td) => td.textContent),
        );
        assert.equal(row[0], "critical");
        assert.equal(row[2], "web-1");
        assert.match(row[4] ?? "", /^\d+\.\d %$/, "the value now");
        await page.waitForSelector('#history tr[data-rule="web-1-busy"][data-status="firing"]');
        await page.waitForSelector('#rules tr[data-rule="web-1-busy"]');
        await screenshots(page, "alerts");
        await page.click('#active tr[data-rule="web-1-busy"] a.chart-link');
        await page.waitForSelector("#chart-cpu.focus");
        assert.match(page.url(), /#\/agent\/web-1\?from=.*&to=.*&focus=cpu\.usage/);
        await page.waitForSelector('#view[data-drawn="true"]');
        assert.ok(await linePixels(page, "cpu") > 20, "the alert's chart has its line");
      });

      await t.step("a bad range in the URL shows a message, not a blank page", async () => {
        await gotoView(page, `${origin}/#/agent/web-1?from=yesterday&to=now`);
        assert.match(
          await page.textContent("#range-error") ?? "",
          /start time "yesterday" is not a time.*last hour/,
        );
        assert.ok(await linePixels(page, "cpu") > 20);
        await gotoView(page, `${origin}/#/nowhere`);
        assert.match(await page.textContent("#view") ?? "", /There is no page at "\/nowhere"/);
      });

      await t.step("a 401 from the API shows the sign-in state", async () => {
        const signedOut = await browser.context.newPage();
        await signedOut.route("**/api/v1/**", (route) =>
          route.fulfill({
            status: 401,
            contentType: "application/json",
            body: '{"error":"Sign-in required","code":"unauthorized"}',
          }));
        await signedOut.goto(`${origin}/`);
        await signedOut.waitForSelector("#signin");
        assert.match(await signedOut.textContent("#signin h2") ?? "", /Sign-in required/);
        await signedOut.close();
      });

      await t.step("the pages ran without console errors and fetched only from the server", () => {
        // The 401 page's console errors (failed fetches) are its own page's; this one's are clean.
        assert.deepEqual(problems, []);
        assert.deepEqual(outside, []);
      });
    } finally {
      await browser.close();
      for (const agent of agents) {
        agent.kill("SIGTERM");
        await agent.status;
      }
      await server.stop();
      await Deno.remove(dataDir, { recursive: true });
    }
  },
});
