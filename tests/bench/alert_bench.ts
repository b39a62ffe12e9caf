/**
 * Alert evaluation throughput: samples per second through `AlertEngine.observe` with 20 rules of
 * every type over 1,000 series (100 agents × 10 series), fed in 1,000-point batches as the ingest
 * path hands them over after each commit. Values wander so that some series fire and resolve, so
 * the SQLite writes of real events are part of the figure.
 *
 * `deno task bench` calls `benchAlerts`; run alone: `deno run -A tests/bench/alert_bench.ts
 * [--samples=300000]`.
 */
import { join } from "node:path";
import { parseArgs } from "node:util";
import { ManualClock } from "../../shared/clock.ts";
import type { Labels, MetricDataPoint } from "../../shared/types.ts";
import type { AlertRuleConfig } from "../../server/alerts/config.ts";
import { openAlertEngine } from "../../server/alerts/engine.ts";

export interface AlertBenchOptions {
  /** Samples observed in the timed part. Default 300,000. */
  samples?: number;
  /** Agents; each has 10 series. Default 100 (1,000 series). */
  agents?: number;
  /** Points per `observe` call. Default 1,000. */
  batchSize?: number;
  seed?: number;
}

export interface AlertBenchResult {
  rules: number;
  series: number;
  samples: number;
  batchSize: number;
  /** Time inside `observe` only. */
  seconds: number;
  samplesPerSec: number;
  /** Slowest single `observe` call: what one ingest commit waits at most. */
  maxObserveMs: number;
  /** One `tick` over every series and agent (median of the run). */
  tickMs: number;
  /** Events raised and resolved during the timed part. */
  events: number;
}

const SERIES: { metric: string; labels: Labels; base: number; step: number }[] = [
  { metric: "cpu.usage", labels: {}, base: 50, step: 8 },
  { metric: "memory.used_percent", labels: {}, base: 60, step: 2 },
  { metric: "load.load1", labels: {}, base: 1, step: 0.3 },
  { metric: "disk.used_percent", labels: { mount: "/" }, base: 70, step: 0.5 },
  { metric: "disk.used_percent", labels: { mount: "/data" }, base: 50, step: 0.5 },
  { metric: "disk.used_percent", labels: { mount: "/var" }, base: 40, step: 0.5 },
  { metric: "network.bytes_recv", labels: { interface: "eth0" }, base: 1e6, step: 2e5 },
  { metric: "network.bytes_sent", labels: { interface: "eth0" }, base: 5e5, step: 1e5 },
  { metric: "disk.read_bytes_per_sec", labels: { device: "sda" }, base: 2e6, step: 5e5 },
  { metric: "disk.write_bytes_per_sec", labels: { device: "sda" }, base: 3e6, step: 5e5 },
];

const common = { labels: {}, agentPattern: "*", severity: "warning", silenceSecs: 600 } as const;

/** 20 rules: 10 threshold, 4 rate of change, 4 trend prediction, 2 agent absent. */
export const BENCH_RULES: AlertRuleConfig[] = [
  ...[
    ["cpu-high", "cpu.usage", "greater_than", 90, 60, "*"],
    ["cpu-critical", "cpu.usage", "greater_equal", 98, 0, "agent-0*"],
    ["memory-high", "memory.used_percent", "greater_than", 85, 300, "*"],
    ["load-high", "load.load1", "greater_than", 4, 120, "agent-?[0-4]"],
    ["net-in-high", "network.bytes_recv", "greater_than", 3e6, 60, "*"],
    ["net-out-high", "network.bytes_sent", "greater_than", 1.5e6, 60, "*"],
    ["read-high", "disk.read_bytes_per_sec", "greater_than", 6e6, 0, "*"],
    ["write-high", "disk.write_bytes_per_sec", "greater_than", 8e6, 30, "*"],
    ["net-in-zero", "network.bytes_recv", "equal", 0, 300, "*"],
    ["memory-low", "memory.used_percent", "less_than", 5, 0, "*"],
  ].map(([name, metric, operator, value, durationSecs, agentPattern]) =>
    ({
      ...common,
      name,
      type: "threshold",
      metric,
      operator,
      value,
      durationSecs,
      agentPattern,
    }) as AlertRuleConfig
  ),
  {
    ...common,
    name: "root-full",
    type: "threshold",
    metric: "disk.used_percent",
    labels: { mount: "/" },
    operator: "greater_equal",
    value: 95,
    durationSecs: 0,
  },
  ...[
    ["cpu-jump", "cpu.usage", 50, 300],
    ["memory-spike", "memory.used_percent", 20, 300],
    ["net-in-surge", "network.bytes_recv", 200, 120],
  ].map(([name, metric, rateThreshold, windowSecs]) =>
    ({
      ...common,
      name,
      type: "rate_of_change",
      metric,
      rateThreshold,
      windowSecs,
    }) as AlertRuleConfig
  ),
  ...[
    ["disk-root-prediction", { mount: "/" }],
    ["disk-data-prediction", { mount: "/data" }],
    ["disk-var-prediction", { mount: "/var" }],
    ["disk-any-prediction", {}],
  ].map(([name, labels]) =>
    ({
      ...common,
      name,
      labels,
      type: "trend_prediction",
      metric: "disk.used_percent",
      predictThreshold: 99,
      horizonSecs: 86_400,
      minDataPoints: 10,
      windowSecs: 3600,
    }) as AlertRuleConfig
  ),
  { ...common, name: "agent-down", type: "agent_absent", metric: "", absentSecs: 120 },
  { ...common, name: "cpu-silent", type: "agent_absent", metric: "cpu.usage", absentSecs: 300 },
];

function random(seed: number): () => number {
  let state = seed >>> 0 || 1;
  return () => {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    return (state >>> 0) / 2 ** 32;
  };
}

/** `rounds` rounds of one sample per series, 10 s apart, as 1,000-point batches. */
function makeRounds(agents: number, rounds: number, startMs: number, seed: number) {
  const next = random(seed);
  const values = new Float64Array(agents * SERIES.length);
  for (let a = 0; a < agents; a++) {
    for (let s = 0; s < SERIES.length; s++) values[a * SERIES.length + s] = SERIES[s].base;
  }
  const out: MetricDataPoint[][] = [];
  for (let r = 0; r < rounds; r++) {
    const timestampMs = startMs + r * 10_000;
    const points: MetricDataPoint[] = [];
    for (let a = 0; a < agents; a++) {
      const agentId = `agent-${String(a).padStart(3, "0")}`;
      for (let s = 0; s < SERIES.length; s++) {
        const i = a * SERIES.length + s;
        const { base, step } = SERIES[s];
        // A random walk pulled back towards its base: excursions cross thresholds now and then.
        values[i] = Math.max(0, values[i] + (next() - 0.5) * step + (base - values[i]) * 0.05);
        points.push({
          agentId,
          metricName: SERIES[s].metric,
          labels: SERIES[s].labels,
          value: values[i],
          timestampMs,
        });
      }
    }
    out.push(points);
  }
  return out;
}

export async function benchAlerts(options: AlertBenchOptions = {}): Promise<AlertBenchResult> {
  const agents = options.agents ?? 100;
  const batchSize = options.batchSize ?? 1000;
  const seriesCount = agents * SERIES.length;
  const timedRounds = Math.max(1, Math.round((options.samples ?? 300_000) / seriesCount));
  const warmupRounds = 60;
  const startMs = Date.UTC(2026, 0, 1);
  const rounds = makeRounds(agents, warmupRounds + timedRounds, startMs, options.seed ?? 42);
  const dir = await Deno.makeTempDir({ prefix: "oxmon-alert-bench-" });
  const clock = new ManualClock(startMs);
  let events = 0;
  const engine = openAlertEngine({
    rules: BENCH_RULES,
    statePath: join(dir, "alerts.db"),
    clock,
    onEvent: () => void events++,
  });
  try {
    let seconds = 0;
    let maxObserveMs = 0;
    let samples = 0;
    const tickMs: number[] = [];
    for (let r = 0; r < rounds.length; r++) {
      const timed = r >= warmupRounds;
      if (r === warmupRounds) events = 0;
      const points = rounds[r];
      clock.set(points[0].timestampMs);
      for (let offset = 0; offset < points.length; offset += batchSize) {
        const batch = points.slice(offset, offset + batchSize);
        const started = performance.now();
        engine.observe(batch);
        const ms = performance.now() - started;
        if (timed) {
          seconds += ms / 1000;
          maxObserveMs = Math.max(maxObserveMs, ms);
          samples += batch.length;
        }
      }
      const started = performance.now();
      engine.tick(clock.now());
      if (timed) tickMs.push(performance.now() - started);
    }
    tickMs.sort((a, b) => a - b);
    return {
      rules: BENCH_RULES.length,
      series: seriesCount,
      samples,
      batchSize,
      seconds,
      samplesPerSec: samples / seconds,
      maxObserveMs,
      tickMs: tickMs[Math.floor(tickMs.length / 2)],
      events,
    };
  } finally {
    engine.close();
    await Deno.remove(dir, { recursive: true });
  }
}

if (import.meta.main) {
  const { values } = parseArgs({ args: Deno.args, options: { samples: { type: "string" } } });
  const result = await benchAlerts({
    samples: values.samples === undefined ? undefined : Number(values.samples),
  });
  console.log(
    `alert evaluation: ${result.rules} rules over ${result.series} series\n` +
      `  ${result.samples} samples in ${result.seconds.toFixed(3)} s = ` +
      `${Math.round(result.samplesPerSec).toLocaleString("en")} samples/s\n` +
      `  slowest observe (${result.batchSize} points): ${result.maxObserveMs.toFixed(2)} ms; ` +
      `tick: ${result.tickMs.toFixed(2)} ms; events: ${result.events}`,
  );
  console.log(JSON.stringify(result));
}
