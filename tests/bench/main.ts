/**
 * `deno task bench`: every benchmark figure of the project, side by side where a ratio applies,
 * printed as a table and written as JSON to `bench-results/latest.json`.
 *
 *   deno task bench            # full run (several minutes on 2 cores)
 *   deno task bench --quick    # smaller sizes, for a smoke run
 *   deno task bench --only storage,day,ingest,http,agent,alerts,dashboard,checks,prometheus,fleet
 *   deno task bench --only day --baseline ../other-checkout   # its server measured beside
 */
import { parseArgs } from "node:util";
import { benchAgent, bundleAgent, bundleVariant, type ProcessCost } from "./agent_bench.ts";
import { benchAlerts } from "./alert_bench.ts";
import { benchChecks } from "./checks_bench.ts";
import { benchChunkEngine } from "./chunk_bench.ts";
import { benchDashboard } from "./dashboard_bench.ts";
import { benchDay } from "./day_bench.ts";
import { benchHttp } from "./http_bench.ts";
import { benchIngest } from "./ingest_bench.ts";
import { benchPlainTable } from "./storage_bench.ts";
import { benchPrometheus } from "./prometheus_bench.ts";
import { benchFleet } from "./fleet_bench.ts";
import { startServer } from "./server_process.ts";
import type { MetricDataPoint } from "../../shared/types.ts";
import { reportMetrics, withClient } from "../helpers/grpc_client.ts";

const SECTIONS = [
  "storage",
  "day",
  "ingest",
  "http",
  "agent",
  "alerts",
  "dashboard",
  "checks",
  "prometheus",
  "fleet",
] as const;
const { values } = parseArgs({
  options: {
    quick: { type: "boolean", default: false },
    only: { type: "string" },
    out: { type: "string", default: "bench-results/latest.json" },
    baseline: { type: "string" },
  },
});
const only = new Set(values.only ? values.only.split(",") : SECTIONS);
for (const name of only) {
  if (!(SECTIONS as readonly string[]).includes(name)) {
    console.error(`bench: unknown section "${name}" in --only; expected ${SECTIONS.join(", ")}`);
    Deno.exit(2);
  }
}
const quick = values.quick;
const progress = (line: string) => console.error(`bench: ${line}`);
const results: Record<string, unknown> = {
  startedAt: new Date().toISOString(),
  quick,
  deno: Deno.version.deno,
  cores: navigator.hardwareConcurrency,
};
const table: [string, string, string, string][] = [];
const row = (figure: string, value: string, reference: string, target: string) =>
  table.push([figure, value, reference, target]);
const fmt = (value: number, digits = 0) =>
  value.toLocaleString("en-US", { maximumFractionDigits: digits, minimumFractionDigits: digits });

/** Runs this checkout's server program in its own process, as in production. */
function startServerProcess(engine: string, dataDir: string) {
  return startServer(
    new URL("../..", import.meta.url).pathname,
    dataDir,
    `storage_engine = "${engine}"\n[ingest]\nmax_points_per_batch = 10000\n`,
  );
}

function rssMbOf(pid: number): number {
  const status = Deno.readTextFileSync(`/proc/${pid}/status`);
  return Number(status.match(/VmRSS:\s+(\d+)/)?.[1] ?? 0) / 1024;
}

/** Loads one series at 10 s over the last 24 h through gRPC, for the HTTP query figures. */
async function loadDayOfOneSeries(port: number, agentId: string, nowMs: number) {
  const points: MetricDataPoint[] = [];
  for (let t = nowMs - 86_400_000 + 10_000; t <= nowMs; t += 10_000) {
    points.push({
      agentId,
      metricName: "cpu.usage",
      labels: {},
      timestampMs: t,
      value: 20 + (t / 10_000 % 60),
    });
  }
  await withClient(port, async (client) => {
    for (let i = 0; i < points.length; i += 1_000) {
      const batch = { agentId, timestampMs: nowMs, dataPoints: points.slice(i, i + 1_000) };
      // Like an agent, retry while the listener child restarts (it may have just died of the
      // Deno nghttp2 defect when the ingest bench's 50 clients closed their channels).
      for (let attempt = 1;; attempt++) {
        try {
          const reply = await reportMetrics(client, batch);
          if (!reply.success) {
            throw new Error(`Cannot load the HTTP bench series: ${reply.message}`);
          }
          break;
        } catch (error) {
          if (attempt >= 20) throw error;
          await new Promise((resolve) => setTimeout(resolve, 100 * attempt));
        }
      }
    }
  });
}

const tmp = await Deno.makeTempDir({ prefix: "oxmon-bench-" });
try {
  if (only.has("storage")) {
    progress("storage engines (chunk vs row) and the one-row-per-sample table");
    const storageOptions = quick
      ? { scale: 0.02, writeSamples: 100_000, queryIterations: 50, rssRounds: 30, rssAgents: 200 }
      : {};
    const engines = await benchChunkEngine({ ...storageOptions, progress });
    const plain = await benchPlainTable({ ...storageOptions, progress });
    results.storage = { ...engines, plain };
    const { chunk, row: rowEngine } = engines.storage;
    row(
      "storage write, samples/s (batches of 1,000, interleaved series)",
      `chunk ${fmt(chunk.write.samplesPerSec)} | row ${fmt(rowEngine.write.samplesPerSec)}`,
      `plain table ${fmt(plain.write.samplesPerSec)}`,
      "chunk ≥ 1,000,000",
    );
    row(
      `bytes/sample, synthetic day (scale ${chunk.day.scale}: ${chunk.day.agents} agents × ${chunk.day.seriesPerAgent} series @ 10 s)`,
      `chunk ${fmt(chunk.day.bytesPerSample, 2)} | row ${fmt(rowEngine.day.bytesPerSample, 2)}`,
      `plain table ${fmt(plain.write.bytesPerSample, 1)}; Prometheus 3.7`,
      "chunk ≤ 1.5 (compacted)",
    );
    row(
      "one series over 24 h, raw, in storage p50/p95 ms",
      `chunk ${fmt(chunk.query.raw.p50Ms, 2)}/${fmt(chunk.query.raw.p95Ms, 2)} | row ${
        fmt(rowEngine.query.raw.p50Ms, 2)
      }/${fmt(rowEngine.query.raw.p95Ms, 2)}`,
      "",
      "",
    );
    row(
      "one series over 24 h, 60 buckets, in storage p50/p95 ms",
      `chunk ${fmt(chunk.query.buckets60.p50Ms, 2)}/${fmt(chunk.query.buckets60.p95Ms, 2)} | row ${
        fmt(rowEngine.query.buckets60.p50Ms, 2)
      }/${fmt(rowEngine.query.buckets60.p95Ms, 2)}`,
      "Prometheus 2.5 (HTTP)",
      "chunk p50 ≤ 1",
    );
    row(
      `RSS with ${
        engines.rss.chunk.agents * engines.rss.chunk.seriesPerAgent
      } active series (${engines.rss.chunk.rounds} rounds), MB`,
      `chunk ${fmt(engines.rss.chunk.rssMb)} | row ${fmt(engines.rss.row.rssMb)}`,
      "",
      "≤ 512",
    );
  }

  if (only.has("day")) {
    progress("a day of host metrics over gRPC, in order and re-ordered; VictoriaMetrics beside");
    const day = await benchDay(tmp, {
      baselineDir: values.baseline,
      ...(quick ? { hosts: 2, hours: 3, querySeries: 2, queryIterations: 10 } : {}),
      progress,
    });
    results.day = day;
    const figure = (f: { samplesPerSec: number; bytesPerSample: number } | undefined) =>
      f === undefined ? "—" : `${fmt(f.samplesPerSec)}/s, ${fmt(f.bytesPerSample, 2)} B`;
    const vm = day.victoriaMetrics && "inOrder" in day.victoriaMetrics
      ? day.victoriaMetrics
      : undefined;
    const vmNote = day.victoriaMetrics && "missing" in day.victoriaMetrics
      ? `VictoriaMetrics: ${day.victoriaMetrics.missing}`
      : "";
    const label = `${day.hosts} hosts × ${day.seriesPerHost} series, ${fmt(day.samples)} samples`;
    row(
      `day over gRPC in time order (${label}): samples/s, bytes/sample`,
      `${figure(day.oxmon.inOrder)}` +
        (day.baseline ? ` | before ${figure(day.baseline.inOrder)}` : ""),
      vm ? `VictoriaMetrics import ${figure(vm.inOrder)}` : vmNote,
      "≤ 1.5 B and below VictoriaMetrics",
    );
    const ratio = day.oxmon.reordered.samplesPerSec / day.oxmon.inOrder.samplesPerSec;
    const growth = day.oxmon.reordered.bytesPerSample / day.oxmon.inOrder.bytesPerSample;
    row(
      `same batches re-ordered over 8 connections: samples/s, bytes/sample`,
      `${figure(day.oxmon.reordered)} (${fmt(ratio * 100)} % of the rate, ` +
        `${fmt((growth - 1) * 100, 1)} % more bytes)` +
        (day.baseline ? ` | before ${figure(day.baseline.reordered)}` : ""),
      vm ? `VictoriaMetrics import ${figure(vm.reordered)}` : vmNote,
      "≥ 50 % of the rate, ≤ 10 % more bytes",
    );
    const tiers = day.oxmon.inOrder.rollupBytesPerSample ?? {};
    row(
      "rollup tiers in that directory, bytes per raw sample",
      Object.entries(tiers).map(([name, bytes]) => `${name} ${fmt(bytes, 4)}`).join(", "),
      "",
      "1h < 0.02",
    );
    row(
      `one series over 30 days at 1 h step, p50 over HTTP, ms (${day.query30d.buckets} buckets)`,
      `${fmt(day.query30d.oxmonP50Ms, 2)}` +
        (day.query30d.baselineP50Ms === undefined
          ? ""
          : ` | before ${fmt(day.query30d.baselineP50Ms, 2)}`),
      day.query30d.victoriaMetricsP50Ms === undefined
        ? vmNote
        : `VictoriaMetrics ${fmt(day.query30d.victoriaMetricsP50Ms, 2)}`,
      "",
    );
    row(
      "rollup CPU per million samples, ms (as hours seal / at compaction)",
      `${fmt(day.rollupCpu.atSealMsPerMillion)} / ${fmt(day.rollupCpu.atCompactionMsPerMillion)}`,
      "",
      "",
    );
  }

  for (const engine of ["chunk", "row"]) {
    if (!only.has("ingest") && !only.has("http")) break;
    const server = await startServerProcess(engine, `${tmp}/server-${engine}`);
    try {
      if (only.has("ingest")) {
        progress(
          `end-to-end gRPC ingest into the ${engine} engine, 50 clients × 1,000-point batches`,
        );
        const batches = quick ? 4 : 20;
        const common = {
          clients: 50,
          points: 1_000,
          port: server.grpcPort,
          agentPrefix: `bench-${engine}`,
        };
        // Live agents create their series once; the steady state is what is measured. The warm-up
        // round lies just before the timed batches (a second apart) so no sample repeats.
        const firstTimestampMs = Date.now() - 60_000 - batches * 1_000;
        await benchIngest({ ...common, batches: 1, firstTimestampMs: firstTimestampMs - 1_000 });
        const ingest = await benchIngest({
          ...common,
          batches,
          firstTimestampMs,
          serverPid: server.pid,
        });
        const rssMb = rssMbOf(server.pid);
        const health = await (await fetch(`http://127.0.0.1:${server.httpPort}/api/v1/health`))
          .json();
        const restarts = health.ingest.grpc_listener_restarts;
        results[`ingest_${engine}`] = { ...ingest, serverRssMb: rssMb, listenerRestarts: restarts };
        row(
          `end-to-end gRPC ingest (${engine}), samples/s, 50 clients`,
          `${fmt(ingest.pointsPerSec)} (p50 ${fmt(ingest.latencyMs.p50, 1)} ms, ` +
            `${ingest.failedBatches} failed; CPU ms/batch: server ` +
            `${fmt(ingest.serverCpuMsPerBatch ?? 0, 2)}, listener ` +
            `${fmt(ingest.listenerCpuMsPerBatch ?? 0, 2)}, clients ` +
            `${fmt(ingest.clientCpuMsPerBatch, 2)}; server RSS ${fmt(rssMb)} MB; ` +
            `${restarts} listener restarts)`,
          "row layout 30–50k (interleaved)",
          engine === "chunk" ? "≥ 300,000" : "",
        );
      }
      if (only.has("http")) {
        progress(`REST query latency (${engine})`);
        const nowMs = Date.now();
        await loadDayOfOneSeries(server.grpcPort, "http-bench", nowMs);
        const http = await benchHttp(`http://127.0.0.1:${server.httpPort}`, {
          agent: "http-bench",
          metric: "cpu.usage",
          fromMs: nowMs - 86_400_000,
          toMs: nowMs,
          iterations: quick ? 50 : 200,
        });
        results[`http_${engine}`] = http;
        row(
          `REST one series 24 h raw (${engine}), p50/p95 ms`,
          `${fmt(http.raw.p50Ms, 2)}/${fmt(http.raw.p95Ms, 2)} (${http.raw.points} points)`,
          "",
          "",
        );
        row(
          `REST one series 24 h in 60 buckets (${engine}), p50/p95 ms`,
          `${fmt(http.buckets60.p50Ms, 2)}/${fmt(http.buckets60.p95Ms, 2)}`,
          "Prometheus 2.5",
          engine === "chunk" ? "p50 ≤ 3 (chunk), ≤ 10" : "p50 ≤ 10",
        );
      }
    } finally {
      await server.stop();
    }
  }

  if (only.has("agent")) {
    progress("the agent and node_exporter side by side, whole processes measured from outside");
    const agentRun = await benchAgent({
      ...(quick ? { secs: 20, warmupSecs: 5 } : {}),
      // The same agent as `deno task bundle` ships it, for reference: one module, not ~60.
      agents: [{ label: "agent" }, bundleVariant(await bundleAgent(tmp))],
    });
    results.agent = agentRun;
    const [agent, bundled] = agentRun.agents;
    const peer = agentRun.nodeExporter;
    const reference = (figure: (cost: ProcessCost) => string) =>
      peer ? `node_exporter ${figure(peer)}` : "node_exporter not installed";
    row(
      `agent CPU per round at a 1 s interval, ${agentRun.secs} s, ms`,
      fmt(agent.cpuMsPerRound, 2),
      reference((cost) => fmt(cost.cpuMsPerRound, 2)),
      "≤ 1",
    );
    row(
      "agent RSS, MB",
      fmt(agent.rssMb, 1),
      reference((cost) => fmt(cost.rssMb, 1)),
      "≤ 45",
    );
    row("agent child processes", String(agent.childProcesses), "", "0");
    row(
      "agent as bundled (dist/oxmon-agent.js): CPU ms per round, RSS MB",
      `${fmt(bundled.cpuMsPerRound, 2)}, ${fmt(bundled.rssMb, 1)}`,
      "",
      "",
    );
  }

  if (only.has("alerts")) {
    progress("alert evaluation, 20 rules over 1,000 series");
    const alerts = await benchAlerts(quick ? { samples: 100_000 } : {});
    results.alerts = alerts;
    row(
      `alert evaluation, samples/s (${alerts.rules} rules, ${alerts.series} series)`,
      `${fmt(alerts.samplesPerSec)} (slowest observe ${fmt(alerts.maxObserveMs, 1)} ms)`,
      "",
      "≥ ingest rate",
    );
  }
  if (only.has("dashboard")) {
    progress("dashboard: fleet summary, overview and agent page in Chromium, page weight");
    const dashboard = await benchDashboard(tmp, { agents: quick ? 200 : 1000, progress });
    results.dashboard = dashboard;
    const ms = (value: number | null) => value === null ? "no chromium" : fmt(value);
    row(
      `fleet summary call, ${dashboard.agents} agents, ms (first after start)`,
      `${fmt(dashboard.fleetCallMsP50, 1)} (${fmt(dashboard.fleetFirstCallMs)}), ` +
        `${fmt(dashboard.fleetAnswerKb)} KB`,
      "",
      "≤ 50",
    );
    row(
      `overview drawn in Chromium, ${dashboard.agents} agents, ms`,
      ms(dashboard.overviewDrawnMsP50),
      "",
      "≤ 1000",
    );
    row(
      "agent page over 24 h drawn in Chromium, ms",
      ms(dashboard.agentPage24hDrawnMsP50),
      "",
      "≤ 300",
    );
    row(
      "dashboard page weight (HTML, JS, CSS gzipped), KB",
      fmt(dashboard.pageWeightKb, 1),
      "",
      "≤ 150",
    );
  }

  if (only.has("checks")) {
    progress("1,000 HTTP checks every 30 s against local servers");
    const checks = await benchChecks({
      checks: 1000,
      intervalSecs: 30,
      durationSecs: quick ? 30 : 90,
    });
    results.checks = checks;
    row(
      `server CPU, ${fmt(checks.checks)} HTTP checks every ${checks.intervalSecs} s, %`,
      `${fmt(checks.cpuPercent, 1)} (${fmt(checks.cpuMsPerRun, 2)} ms per run)`,
      "",
      "",
    );
    row(
      "check scheduling delay p50 / p99 / max, ms",
      `${fmt(checks.delayP50Ms, 1)} / ${fmt(checks.delayP99Ms, 1)} / ${fmt(checks.delayMaxMs, 1)}`,
      "",
      "",
    );
  }

  if (only.has("prometheus")) {
    const prometheus = await benchPrometheus({
      quick,
      tmp,
      startServer: (dataDir) => startServerProcess("chunk", dataDir),
      progress,
    });
    results.prometheus = prometheus;
    const out = prometheus.remoteWriteOut;
    row(
      "remote write out to VictoriaMetrics, samples/s (one endpoint)",
      `${fmt(out.samplesPerSec)} (${fmt(out.samples)} samples, ${out.requests} requests)`,
      `VictoriaMetrics CPU ${fmt(out.victoriaMetricsCpuMsPerMillion)} ms/M`,
      "",
    );
    row("remote write out, oxmon CPU ms per million samples", fmt(out.cpuMsPerMillion), "", "");
    const into = prometheus.remoteWriteIn;
    row(
      `remote write in, samples/s (${into.clients} clients × ${into.samplesPerRequest})`,
      `${fmt(into.samplesPerSec)} (server CPU ${fmt(into.serverCpuMsPerMillion)} ms/M)`,
      "",
      "≥ 300,000",
    );
    for (const [name, figures] of Object.entries(prometheus.queryRange)) {
      row(
        `query_range 24 h @ 60 s (${name}), p50 ms over HTTP`,
        `${fmt(figures.oxmonP50Ms, 2)} (${figures.points} points)`,
        `Prometheus 2.42 ${fmt(figures.prometheusP50Ms, 2)}`,
        "",
      );
    }
  }
  if (only.has("fleet")) {
    const fleet: Record<string, unknown> = {};
    for (const agents of quick ? [100, 300] : [1_000, 3_000]) {
      progress(`fleet load: ${agents} agents, 50 points each every second`);
      const figures = await benchFleet({ agents, measureSecs: quick ? 10 : 60, progress });
      fleet[agents] = figures;
      const errors = Object.values(figures.errors).reduce((a, b) => a + b, 0);
      row(
        `fleet: ${fmt(agents)} agents × 50 points/s, errors · p50 / p99 ms`,
        `${errors} of ${fmt(figures.calls)} · ${fmt(figures.p50Ms, 1)} / ${fmt(figures.p99Ms, 1)}`,
        `CPU server ${fmt(figures.serverCpu, 2)}, listener ${fmt(figures.listenerCpu, 2)}, ` +
          `clients ${fmt(figures.clientCpu, 2)}`,
        agents >= 3_000 ? "p99 ≤ 100 ms" : "",
      );
      row(
        `fleet: ${fmt(agents)} agents, peak RSS server + listener, MB`,
        `${fmt(figures.serverRssMb)} + ${fmt(figures.listenerRssMb)}`,
        "",
        agents >= 3_000 ? "≤ 500" : "",
      );
    }
    results.fleet = fleet;
  }
} finally {
  await Deno.remove(tmp, { recursive: true });
}

results.finishedAt = new Date().toISOString();
const widths = [0, 1, 2, 3].map((i) =>
  Math.max(...[["figure", "oxmon", "reference", "target"], ...table].map((r) => r[i].length))
);
const line = (cells: string[]) => cells.map((cell, i) => cell.padEnd(widths[i])).join(" | ");
console.log(line(["figure", "oxmon", "reference", "target"]));
console.log(widths.map((w) => "-".repeat(w)).join("-|-"));
for (const r of table) console.log(line(r));
await Deno.mkdir(new URL(".", `file://${Deno.cwd()}/${values.out}`), { recursive: true });
await Deno.writeTextFile(values.out!, JSON.stringify(results, null, 2) + "\n");
console.log(`\nwrote ${values.out}`);
