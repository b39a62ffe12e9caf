/**
 * The dashboard in a real headless Chromium against the real app, row store and HTTP server.
 * Needs Debian's `chromium` package at /usr/bin/chromium; skips itself, saying so, without it.
 * Set OXMON_DASHBOARD_SCREENSHOT=/some/file.png to keep the screenshot for a look by eye.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { chromium } from "playwright-core";
import type { MetricDataPoint } from "../shared/types.ts";
import { createApiApp } from "../server/api/app.ts";
import { serveApi } from "../server/api/serve.ts";
import { openTestEnv } from "../server/api/testing.ts";
import { silentLogger } from "../shared/log.ts";
import { createAlertRoutes, openAlertEngine } from "../server/alerts/mod.ts";
import { parseServerConfig } from "../server/config.ts";

const CHROMIUM = "/usr/bin/chromium";
const haveChromium = (() => {
  try {
    return Deno.statSync(CHROMIUM).isFile;
  } catch {
    return false;
  }
})();
if (!haveChromium) {
  console.warn(`dashboard_test: skipped, ${CHROMIUM} not found (apt-get install -y chromium)`);
}

/** An hour of plausible samples at 10 s for one agent, ending at `endMs`. */
function hourOfData(agentId: string, endMs: number): MetricDataPoint[] {
  const points: MetricDataPoint[] = [];
  const add = (
    metricName: string,
    labels: Record<string, string>,
    value: (i: number) => number,
  ) => {
    for (let i = 0; i < 360; i++) {
      const timestampMs = endMs - (359 - i) * 10_000;
      points.push({ agentId, metricName, labels, timestampMs, value: value(i) });
    }
  };
  add("cpu.usage", {}, (i) => 35 + 25 * Math.sin(i / 20) + (i % 7));
  add("memory.used_percent", {}, (i) => 52 + i / 40);
  add("memory.used", {}, (i) => 8.2e9 + i * 1e6); // ends at 8.56e9 bytes = 8.0 GiB
  add("disk.used_percent", { mount: "/" }, () => 71.5);
  add("disk.used_percent", { mount: "/home" }, (i) => 40 + i / 100);
  add("network.bytes_recv", { interface: "eth0" }, (i) => 120_000 + 80_000 * Math.sin(i / 9));
  add("network.bytes_sent", { interface: "eth0" }, (i) => 30_000 + (i % 30) * 1_000);
  add("system.load_1", {}, (i) => 1.2 + Math.sin(i / 15));
  add("system.load_5", {}, (i) => 1.1 + Math.sin(i / 40) / 2);
  add("system.load_15", {}, () => 1.0);
  add("system.uptime", {}, (i) => 400_000 + i * 10);
  return points;
}

Deno.test({
  name: "the dashboard lists agents and draws charts from the API in a real browser",
  ignore: !haveChromium,
  async fn() {
    const env = await openTestEnv({ log: silentLogger, version: "1.2.3" });
    const nowMs = Date.now();
    env.clock.set(nowMs);
    env.ingest(hourOfData("web-1", nowMs - 5_000), {
      hostname: "web-1.example",
      os: "Linux",
      osVersion: "Debian 12",
      arch: "x86_64",
      kernelVersion: "6.1.0",
      cpuCores: 4,
      memoryGb: 15.6,
      diskGb: 250,
    });
    env.ingest(hourOfData("db-1", nowMs - 600_000)); // quiet for 10 min: inactive
    // A real alert engine whose rule fires on web-1's root disk (71.5 % > 70).
    const alertsDir = await Deno.makeTempDir({ prefix: "oxmon-dashboard-alerts-" });
    const alerts = openAlertEngine({
      rules: parseServerConfig(`
[[alert.rules]]
name = "root-disk"
type = "threshold"
metric = "disk.used_percent"
labels = { mount = "/" }
operator = "greater_than"
value = 70.0
severity = "critical"
`).alert.rules,
      statePath: join(alertsDir, "alerts.db"),
      clock: env.clock,
    });
    alerts.observe(hourOfData("web-1", nowMs - 5_000));
    const server = await serveApi(
      createApiApp({ ...env.deps, mounts: { alerts: createAlertRoutes({ engine: alerts }) } }),
      {
        hostname: "127.0.0.1",
        port: 0,
        log: silentLogger,
      },
    );
    const profileDir = await Deno.makeTempDir({ prefix: "oxmon-chromium-" });
    const context = await chromium.launchPersistentContext(profileDir, {
      executablePath: CHROMIUM,
      headless: true,
      viewport: { width: 1280, height: 900 },
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
      // A CSP violation or a script error shows up here; the page must run clean.
      const problems: string[] = [];
      page.on("console", (message) => {
        if (message.type() === "error") problems.push(message.text());
      });
      page.on("pageerror", (error) => problems.push(error.message));

      await page.goto(`http://127.0.0.1:${server.port}/`);
      await page.waitForSelector('[data-chart="cpu"] path.series', { timeout: 10_000 });

      const agents = await page.$$eval("#agents li", (items) =>
        items.map((item) => ({
          id: item.getAttribute("data-agent"),
          status: item.querySelector(".dot")?.className,
          selected: item.classList.contains("selected"),
        })));
      assert.deepEqual(agents, [
        { id: "db-1", status: "dot inactive", selected: true },
        { id: "web-1", status: "dot active", selected: false },
      ]);

      await page.click('#agents li[data-agent="web-1"]');
      // A function, not a string: the page's CSP forbids eval. `document` is reached through
      // globalThis because this file is type-checked without the DOM library.
      await page.waitForFunction(
        () => {
          // deno-lint-ignore no-explicit-any
          const doc = (globalThis as any).document;
          return doc.getElementById("agent-title").textContent.startsWith("web-1") &&
            doc.getElementById("sysinfo").textContent.includes("web-1.example") &&
            doc.getElementById("charts").getAttribute("data-agent") === "web-1" &&
            doc.querySelectorAll('[data-chart="disk"] path.series').length === 2;
        },
        undefined,
        { timeout: 10_000 },
      );

      const charts = await page.$$eval("[data-chart]", (cards) =>
        cards.map((card) => ({
          chart: card.getAttribute("data-chart"),
          lines: card.querySelectorAll("path.series").length,
          legend: card.querySelector(".legend")?.textContent,
        })));
      assert.deepEqual(charts, [
        { chart: "cpu", lines: 1, legend: "cpu.usage" },
        { chart: "memory", lines: 1, legend: "memory.used_percent" },
        { chart: "disk", lines: 2, legend: "mount=/mount=/home" },
        {
          chart: "network",
          lines: 2,
          legend: "interface=eth0 bytes_recvinterface=eth0 bytes_sent",
        },
        { chart: "load", lines: 3, legend: "load_1load_5load_15" },
      ]);
      // A full hour at a 60 s step draws about 60 segments, not a handful.
      const cpuPath = await page.getAttribute('[data-chart="cpu"] path.series', "d");
      assert.ok((cpuPath?.split("L").length ?? 0) >= 55, cpuPath ?? "no path");

      const rows = await page.$$eval(
        "#latest tbody tr",
        (trs) =>
          trs.map((tr) => [...tr.querySelectorAll("td")].slice(0, 3).map((td) => td.textContent)),
      );
      assert.equal(rows.length, 11);
      assert.deepEqual(rows.find((row) => row[0] === "disk.used_percent"), [
        "disk.used_percent",
        "mount=/",
        "71.5 %",
      ]);
      assert.deepEqual(rows.find((row) => row[0] === "memory.used")?.[2], "8.0 GiB");
      assert.match(await page.textContent("#meta") ?? "", /v1\.2\.3 · 2 agents · storage ok/);

      const shot = join(profileDir, "dashboard.png");
      await page.screenshot({ path: shot, fullPage: true });
      const png = await Deno.readFile(shot);
      assert.deepEqual([...png.slice(1, 4)], [0x50, 0x4e, 0x47]); // "PNG"
      const keep = Deno.env.get("OXMON_DASHBOARD_SCREENSHOT");
      if (keep) await Deno.copyFile(shot, keep);
      assert.deepEqual(problems, []);

      const firing = await page.$$eval(
        "#alerts li",
        (items) =>
          items.map((item) => [item.getAttribute("data-rule"), item.getAttribute("data-agent")]),
      );
      assert.deepEqual(firing, [["root-disk", "web-1"]]);
      assert.match(await page.textContent("#alerts li .sev") ?? "", /critical/);

      // A malformed agent link still shows the dashboard, with the first agent selected.
      const second = await context.newPage();
      const secondProblems: string[] = [];
      second.on("pageerror", (error) => secondProblems.push(error.message));
      await second.goto(`http://127.0.0.1:${server.port}/#agent=%E0%A4`);
      await second.waitForSelector('#agents li.selected[data-agent="db-1"]', { timeout: 10_000 });
      assert.deepEqual(secondProblems, []);
    } finally {
      await context.close();
      await server.shutdown();
      alerts.close();
      await env.close();
      await Deno.remove(alertsDir, { recursive: true });
      await Deno.remove(profileDir, { recursive: true });
    }
  },
});
