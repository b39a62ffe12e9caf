/**
 * Server-side checks at scale: N HTTP checks every `intervalSecs` against local servers (in
 * another process), results committed to a real chunk store through the ingest service's local
 * entry point and fed to the alert engine with a check_failed rule. Measures the checker
 * process's CPU (user + system over wall time) and the scheduling jitter: the delay from each
 * run's planned start to its actual start (p50, p99, max).
 *
 * `deno task bench --only checks`; or `deno run -A tests/bench/checks_bench.ts [checks] [secs]`.
 */
import process from "node:process";
import { join } from "node:path";
import { systemClock } from "../../shared/clock.ts";
import { silentLogger } from "../../shared/log.ts";
import type { HttpCheckSpec } from "../../shared/checks/spec.ts";
import { DEFAULT_EXPECTED_STATUS } from "../../shared/checks/config.ts";
import { ServerChecks } from "../../server/checks/service.ts";
import { openChunkStore } from "../../server/storage/chunk/engine.ts";
import { openAlertEngine } from "../../server/alerts/engine.ts";
import { checkFailed } from "../helpers/alert_harness.ts";

export interface ChecksBenchResult {
  checks: number;
  intervalSecs: number;
  durationSecs: number;
  runs: number;
  failed: number;
  cpuPercent: number;
  cpuMsPerRun: number;
  delayP50Ms: number;
  delayP99Ms: number;
  delayMaxMs: number;
}

export async function benchChecks(
  options: { checks?: number; intervalSecs?: number; durationSecs?: number } = {},
): Promise<ChecksBenchResult> {
  const checks = options.checks ?? 1000;
  const intervalSecs = options.intervalSecs ?? 30;
  const durationSecs = options.durationSecs ?? 90;
  const targets = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", new URL("./_http_targets.ts", import.meta.url).pathname, "4"],
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  const reader = targets.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let text = "";
  while (!text.includes("\n")) {
    const { value, done } = await reader.read();
    if (done) throw new Error("the HTTP targets did not start");
    text += value;
  }
  const ports = JSON.parse(text) as number[];
  const dir = await Deno.makeTempDir({ prefix: "oxmon-checks-bench-" });
  const store = openChunkStore({
    dataDir: join(dir, "data"),
    clock: systemClock,
    log: silentLogger,
  });
  const alerts = openAlertEngine({
    rules: [checkFailed()],
    statePath: join(dir, "alerts.db"),
    log: silentLogger,
  });
  const specs: HttpCheckSpec[] = Array.from({ length: checks }, (_, i) => ({
    name: `http-${i}`,
    type: "http",
    intervalSecs,
    timeoutSecs: 10,
    url: `http://127.0.0.1:${ports[i % ports.length]}/health/${i}`,
    method: "GET",
    headers: {},
    expectedStatus: DEFAULT_EXPECTED_STATUS,
    tlsVerify: true,
    followRedirects: true,
  }));
  let failed = 0;
  const service = new ServerChecks({
    config: { checks: specs, maxConcurrent: 64 },
    clock: systemClock,
    log: silentLogger,
    commit: (points) => {
      store.write(points);
      alerts.observe(points);
      failed += points.filter((p) => p.metricName === "check.up" && p.value === 0).length;
    },
    spreadMs: intervalSecs * 1000,
  });
  // One interval to warm up (first runs, JIT, connection pool), then measure.
  service.start();
  await new Promise((resolve) => setTimeout(resolve, intervalSecs * 1000));
  const runsBefore = service.stats().runs;
  const cpuBefore = process.cpuUsage();
  const wallBefore = performance.now();
  await new Promise((resolve) => setTimeout(resolve, durationSecs * 1000));
  const cpu = process.cpuUsage(cpuBefore);
  const wallMs = performance.now() - wallBefore;
  const stats = service.stats();
  const runs = stats.runs - runsBefore;
  await service.stop();
  alerts.close();
  store.close();
  targets.kill("SIGTERM");
  await targets.status;
  await reader.cancel().catch(() => {});
  await Deno.remove(dir, { recursive: true });
  const cpuMs = (cpu.user + cpu.system) / 1000;
  return {
    checks,
    intervalSecs,
    durationSecs,
    runs,
    failed,
    cpuPercent: (cpuMs / wallMs) * 100,
    cpuMsPerRun: cpuMs / Math.max(1, runs),
    delayP50Ms: stats.delayMs.p50,
    delayP99Ms: stats.delayMs.p99,
    delayMaxMs: stats.delayMs.max,
  };
}

if (import.meta.main) {
  const result = await benchChecks({
    checks: Number(Deno.args[0] ?? 1000),
    durationSecs: Number(Deno.args[1] ?? 90),
  });
  console.log(JSON.stringify(result, null, 2));
}
