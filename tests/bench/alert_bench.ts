/**
 * Alert engine throughput, two figures:
 *
 * - evaluation: samples per second through `AlertEngine.observe` with 20 rules of every type over
 *   1,000 series (100 agents × 10 series), fed in 1,000-point batches as the ingest path hands
 *   them over after each commit. Values wander so that some series fire and resolve, so the
 *   SQLite writes of real events are part of the figure.
 * - dispatch: events per second when every sample raises or resolves an alert (one rule,
 *   `silence_secs = 0`, 1,000 series alternating above and below it): the firing state machine,
 *   the SQLite transaction of each batch and the hand-over to `onEvent`.
 *
 * `deno task bench` calls `benchAlerts`. Run alone:
 * `deno run -A tests/bench/alert_bench.ts [--samples=300000] [--events=30000]`; with
 * `--baseline=DIR` (another checkout, e.g. /work/wt/base) it also runs DIR's engine in the same
 * process, alternating with this one `--runs` times (default 7), and prints the medians side by side.
 */
import { join } from "node:path";
import { parseArgs } from "node:util";
import { ManualClock } from "../../shared/clock.ts";
import type { AlertEvent, Labels, MetricDataPoint } from "../../shared/types.ts";
import type { AlertRuleConfig } from "../../server/alerts/config.ts";
import { openAlertEngine } from "../../server/alerts/engine.ts";

/** What the benchmarks need of an engine; another checkout's `openAlertEngine` fits it too. */
export type OpenEngine = (options: {
  rules: readonly AlertRuleConfig[];
  statePath: string;
  clock: ManualClock;
  onEvent: (event: AlertEvent) => void;
}) => {
  observe(points: readonly MetricDataPoint[]): void;
  tick(nowMs?: number): void;
  close(): void;
};

export interface AlertBenchOptions {
  /** Samples observed in the timed part. Default 300,000. */
  samples?: number;
  /** Agents; each has 10 series. Default 100 (1,000 series). */
  agents?: number;
  /** Points per `observe` call. Default 1,000. */
  batchSize?: number;
  seed?: number;
  /** Default: this checkout's `openAlertEngine`. */
  openEngine?: OpenEngine;
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
  const engine = (options.openEngine ?? openAlertEngine)({
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

export interface DispatchBenchOptions {
  /** Events raised and resolved in the timed part. Default 30,000. */
  events?: number;
  /** Default: this checkout's `openAlertEngine`. */
  openEngine?: OpenEngine;
}

export interface DispatchBenchResult {
  events: number;
  /** Time inside `observe` only. */
  seconds: number;
  eventsPerSec: number;
  /** Slowest single `observe` call (1,000 events). */
  maxObserveMs: number;
}

const DISPATCH_RULE: AlertRuleConfig = {
  ...common,
  name: "cpu-core-high",
  type: "threshold",
  metric: "cpu.core_usage",
  silenceSecs: 0,
  operator: "greater_than",
  value: 50,
  durationSecs: 0,
};

/** Every sample raises (odd rounds) or resolves (even rounds) its series' alert. */
export async function benchDispatch(
  options: DispatchBenchOptions = {},
): Promise<DispatchBenchResult> {
  const agents = 100;
  const cores = 10;
  const timedRounds = Math.max(1, Math.round((options.events ?? 30_000) / (agents * cores)));
  const warmupRounds = 10;
  const startMs = Date.UTC(2026, 0, 1);
  const dir = await Deno.makeTempDir({ prefix: "oxmon-alert-bench-" });
  const clock = new ManualClock(startMs);
  let events = 0;
  const engine = (options.openEngine ?? openAlertEngine)({
    rules: [DISPATCH_RULE],
    statePath: join(dir, "alerts.db"),
    clock,
    onEvent: () => void events++,
  });
  try {
    let seconds = 0;
    let maxObserveMs = 0;
    for (let r = 0; r < warmupRounds + timedRounds; r++) {
      if (r === warmupRounds) events = 0;
      const timestampMs = startMs + r * 10_000;
      clock.set(timestampMs);
      const points: MetricDataPoint[] = [];
      for (let a = 0; a < agents; a++) {
        const agentId = `agent-${String(a).padStart(3, "0")}`;
        for (let core = 0; core < cores; core++) {
          const labels = { core: String(core) };
          const value = r % 2 === 1 ? 99 : 1;
          points.push({ agentId, metricName: DISPATCH_RULE.metric, labels, value, timestampMs });
        }
      }
      const started = performance.now();
      engine.observe(points);
      const ms = performance.now() - started;
      if (r >= warmupRounds) {
        seconds += ms / 1000;
        maxObserveMs = Math.max(maxObserveMs, ms);
      }
    }
    return { events, seconds, eventsPerSec: events / seconds, maxObserveMs };
  } finally {
    engine.close();
    await Deno.remove(dir, { recursive: true });
  }
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

if (import.meta.main) {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      samples: { type: "string" },
      events: { type: "string" },
      baseline: { type: "string" },
      runs: { type: "string" },
    },
  });
  const samples = values.samples === undefined ? undefined : Number(values.samples);
  const dispatchEvents = values.events === undefined ? undefined : Number(values.events);
  const engines: [string, OpenEngine][] = [["this", openAlertEngine]];
  if (values.baseline !== undefined) {
    const url = new URL(`file://${join(values.baseline, "server/alerts/engine.ts")}`);
    const baseline = await import(url.href) as { openAlertEngine: OpenEngine };
    engines.unshift(["baseline", baseline.openAlertEngine]);
  }
  const runs = Number(values.runs ?? (engines.length > 1 ? 7 : 1));
  const evaluation = new Map<string, AlertBenchResult[]>(engines.map(([name]) => [name, []]));
  const dispatch = new Map<string, DispatchBenchResult[]>(engines.map(([name]) => [name, []]));
  // Alternating the engines (ABBA…) spreads the load of a shared machine, and the garbage one
  // run leaves to the next, over both.
  for (let run = 0; run < runs; run++) {
    for (const [name, openEngine] of run % 2 === 0 ? engines : [...engines].reverse()) {
      evaluation.get(name)!.push(await benchAlerts({ samples, openEngine }));
      dispatch.get(name)!.push(await benchDispatch({ events: dispatchEvents, openEngine }));
    }
  }
  const first = evaluation.get("this")![0];
  console.log(
    `alert evaluation: ${first.rules} rules over ${first.series} series, ${first.samples} ` +
      `samples in batches of ${first.batchSize}; medians of ${runs} run(s)`,
  );
  const summary: Record<string, unknown> = {};
  for (const [name] of engines) {
    const e = evaluation.get(name)!;
    const d = dispatch.get(name)!;
    const row = {
      samplesPerSec: median(e.map((r) => r.samplesPerSec)),
      maxObserveMs: median(e.map((r) => r.maxObserveMs)),
      tickMs: median(e.map((r) => r.tickMs)),
      events: median(e.map((r) => r.events)),
      dispatchEventsPerSec: median(d.map((r) => r.eventsPerSec)),
      dispatchMaxObserveMs: median(d.map((r) => r.maxObserveMs)),
    };
    summary[name] = row;
    console.log(
      `  ${name.padEnd(8)} ${Math.round(row.samplesPerSec).toLocaleString("en")} samples/s; ` +
        `slowest observe ${row.maxObserveMs.toFixed(2)} ms; tick ${row.tickMs.toFixed(2)} ms; ` +
        `${row.events} events | dispatch ${
          Math.round(row.dispatchEventsPerSec).toLocaleString("en")
        }` +
        ` events/s, slowest observe ${row.dispatchMaxObserveMs.toFixed(1)} ms`,
    );
  }
  console.log(JSON.stringify(summary));
}
