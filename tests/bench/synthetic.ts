/**
 * Deterministic, realistic host metrics for benchmarks and storage tests: the agent's metric
 * names (`HOST_METRICS` of shared/catalog.ts) with their labels, and values shaped like a real host's, because
 * compression results depend on them:
 * - percents with 2 decimals (1 for disk space, as df shows it), following a daily cycle;
 * - memory and disk sizes in whole KiB or 4 KiB blocks, totals constant, usage drifting;
 * - disk and network rates as counter deltas over the interval (idle most of the time, bursty);
 * - load averages with 2 decimals, smoothed like the kernel's; uptime in centiseconds.
 *
 * Every agent reports once per interval at its own phase, one batch per agent with all its
 * series (interleaved, as live agents send them), timestamps in ascending order across batches.
 */
import type { Labels, MetricDataPoint } from "../../shared/types.ts";
import { HOST_METRIC_NAMES } from "../../shared/catalog.ts";
import { Random } from "../helpers/chunk_random.ts";

export interface SyntheticOptions {
  agents: number;
  /** Series per agent; 25 cover every metric once, more add cores, mounts, devices, interfaces. */
  seriesPerAgent: number;
  intervalMs: number;
  startMs: number;
  /** Rounds run while `round * intervalMs < durationMs`; all timestamps stay below start + duration. */
  durationMs: number;
  /** Same seed, same data. Default 1. */
  seed?: number;
}

export interface SyntheticSeries {
  metricName: string;
  labels: Labels;
}

const KIB = 1024;
const GIB = 1024 ** 3;
const DAY_MS = 86_400_000;

/** `host-0007`: sortable agent ids. */
export function syntheticAgentId(index: number): string {
  return `host-${String(index).padStart(4, "0")}`;
}

const MOUNTS = ["/", "/var", "/home", "/data", "/srv", "/opt", "/boot", "/tmp"];
const DEVICES = ["sda", "nvme0n1", "sdb", "sdc", "nvme1n1", "sdd", "sde", "sdf"];
const INTERFACES = ["eth0", "eth1", "ens3", "ens4", "bond0", "wlan0", "eth2", "eth3"];
const FS_METRICS = ["disk.total", "disk.used", "disk.available", "disk.used_percent"];
const IO_METRICS = [
  "disk.read_bytes_per_sec",
  "disk.write_bytes_per_sec",
  "disk.read_ops_per_sec",
  "disk.write_ops_per_sec",
];
const NET_METRICS = [
  "network.bytes_recv",
  "network.bytes_sent",
  "network.packets_recv",
  "network.packets_sent",
];
const SINGLE_METRICS = HOST_METRIC_NAMES.filter((name) =>
  !name.startsWith("disk.") && !name.startsWith("network.") && name !== "cpu.core_usage"
);

function nameOf(list: readonly string[], index: number, prefix: string): string {
  return index < list.length ? list[index] : `${prefix}${index}`;
}

/**
 * The series of one agent, in the order the agent's collectors emit them. The first 25 are one
 * of every metric; further ones add three cores, a mount, a device and an interface, in turn.
 */
export function syntheticSeries(seriesPerAgent: number): SyntheticSeries[] {
  const chosen: { series: SyntheticSeries; order: number; instance: number }[] = [];
  const add = (metricName: string, labels: Labels, instance: number) =>
    chosen.push({
      series: { metricName, labels: Object.freeze(labels) },
      order: HOST_METRIC_NAMES.indexOf(metricName),
      instance,
    });
  const addCore = (n: number) => add("cpu.core_usage", { core: String(n) }, n);
  const addDevices = (n: number) => {
    for (const name of FS_METRICS) add(name, { mount: nameOf(MOUNTS, n, "/mnt/d") }, n);
    for (const name of IO_METRICS) add(name, { device: nameOf(DEVICES, n, "vd") }, n);
    for (const name of NET_METRICS) add(name, { interface: nameOf(INTERFACES, n, "veth") }, n);
  };
  for (const name of SINGLE_METRICS) add(name, {}, 0);
  addCore(0);
  addDevices(0);
  for (let n = 1; chosen.length < seriesPerAgent; n++) {
    for (let core = 3 * n - 2; core <= 3 * n; core++) addCore(core);
    addDevices(n);
  }
  return chosen.slice(0, seriesPerAgent)
    .sort((a, b) => a.order - b.order || a.instance - b.instance)
    .map((entry) => entry.series);
}

/** Uniform numbers in [0, 1) from `Random` (mulberry32): small, fast and good enough here. */
function random(seed: number): () => number {
  const generator = new Random(seed);
  return () => generator.next();
}

const round = (value: number, decimals: number) => {
  const factor = 10 ** decimals;
  return Math.round(value * factor) / factor;
};
const clamp = (value: number, min: number, max: number) => Math.min(max, Math.max(min, value));

/** One simulated host: its hardware and the state its counters and gauges carry between rounds. */
class Host {
  readonly agentId: string;
  readonly phaseMs: number;
  readonly #rand: () => number;
  readonly #series: SyntheticSeries[];
  readonly #baseLoad: number;
  readonly #dayPhase: number;
  readonly #memTotal: number;
  #memUsed: number;
  readonly #swapTotal: number;
  #swapUsed: number;
  readonly #diskTotal = new Map<string, number>();
  readonly #diskUsed = new Map<string, number>();
  readonly #traffic: number;
  readonly #bootUptimeCs: number;
  #load = [0, 0, 0];
  #cores = new Map<string, number>();

  constructor(index: number, seed: number, series: SyntheticSeries[], intervalMs: number) {
    this.agentId = syntheticAgentId(index);
    this.#rand = random(seed * 1_000_003 + index * 7919 + 17);
    const r = this.#rand;
    this.#series = series;
    this.phaseMs = Math.floor(r() * intervalMs);
    this.#baseLoad = 0.05 + r() * 0.5;
    this.#dayPhase = r() * Math.PI * 2;
    // MemTotal is reported in KiB, a little under the installed size.
    const installed = [8, 16, 32, 64][Math.floor(r() * 4)] * GIB;
    this.#memTotal = Math.floor((installed - 200 * 1024 * KIB - r() * 100 * 1024 * KIB) / KIB) *
      KIB;
    this.#memUsed = Math.floor((this.#memTotal * (0.2 + r() * 0.5)) / KIB) * KIB;
    this.#swapTotal = r() < 0.3 ? 0 : 2 * GIB;
    this.#swapUsed = this.#swapTotal === 0 ? 0 : Math.floor(r() * 50_000) * 4 * KIB;
    this.#traffic = 2_000 + r() * 500_000;
    this.#bootUptimeCs = Math.floor(r() * 90 * 86_400 * 100);
    for (const { metricName, labels } of series) {
      if (metricName === "disk.total") {
        const blocks = Math.floor((20 + r() * 2_000) * 262_144);
        this.#diskTotal.set(labels.mount, blocks * 4 * KIB);
        this.#diskUsed.set(labels.mount, Math.floor(blocks * (0.1 + r() * 0.7)) * 4 * KIB);
      }
      if (metricName === "cpu.core_usage") this.#cores.set(labels.core, 0);
    }
    if (this.#cores.size === 0) this.#cores.set("0", 0);
  }

  /** The batch of one round, all points stamped with `timestampMs`. */
  collect(timestampMs: number, startMs: number, intervalMs: number): MetricDataPoint[] {
    // The first round smooths the load averages as if the host had run for a minute.
    const elapsedMs = timestampMs - startMs < intervalMs ? 60_000 : intervalMs;
    const r = this.#rand;
    const daily = 1 + 0.35 * Math.sin((timestampMs / DAY_MS) * Math.PI * 2 + this.#dayPhase);
    const busy = clamp(this.#baseLoad * daily, 0, 1);

    let coreSum = 0;
    for (const core of this.#cores.keys()) {
      const burst = r() < 0.05 ? r() * 60 : 0;
      const usage = round(clamp(busy * 100 * (0.5 + r()) + burst, 0, 100), 2);
      this.#cores.set(core, usage);
      coreSum += usage;
    }
    const cpu = round(coreSum / this.#cores.size, 2);

    const pageDrift = Math.round((r() - 0.5 + (0.5 - this.#memUsed / this.#memTotal) * 0.2) * 5000);
    this.#memUsed = clamp(
      this.#memUsed + pageDrift * 4 * KIB,
      0.05 * this.#memTotal,
      this.#memTotal,
    );
    if (this.#swapTotal > 0 && r() < 0.02) {
      this.#swapUsed = clamp(
        this.#swapUsed + Math.round((r() - 0.45) * 256) * 4 * KIB,
        0,
        this.#swapTotal,
      );
    }
    for (const [mount, used] of this.#diskUsed) {
      const total = this.#diskTotal.get(mount)!;
      const grown = used + (r() < 0.3 ? Math.floor(r() * 64) * 4 * KIB : 0);
      this.#diskUsed.set(mount, Math.min(grown, Math.floor(total * 0.94 / 4096) * 4096));
    }

    const runnable = busy * this.#cores.size * (0.8 + r() * 0.4);
    const decay = [60_000, 300_000, 900_000].map((window) => Math.exp(-elapsedMs / window));
    this.#load = this.#load.map((load, i) => load * decay[i] + runnable * (1 - decay[i]));

    const perSecond = (delta: number) => (delta * 1000) / intervalMs;
    const points: MetricDataPoint[] = [];
    const push = (metricName: string, labels: Labels, value: number) =>
      points.push({ timestampMs, agentId: this.agentId, metricName, value, labels });

    for (const { metricName, labels } of this.#series) {
      switch (metricName) {
        case "cpu.usage":
          push(metricName, labels, cpu);
          break;
        case "cpu.core_usage":
          push(metricName, labels, this.#cores.get(labels.core)!);
          break;
        case "memory.total":
          push(metricName, labels, this.#memTotal);
          break;
        case "memory.used":
          push(metricName, labels, this.#memUsed);
          break;
        case "memory.available":
          push(metricName, labels, this.#memTotal - this.#memUsed);
          break;
        case "memory.used_percent":
          push(metricName, labels, round((this.#memUsed / this.#memTotal) * 100, 2));
          break;
        case "memory.swap_total":
          push(metricName, labels, this.#swapTotal);
          break;
        case "memory.swap_used":
          push(metricName, labels, this.#swapUsed);
          break;
        case "memory.swap_percent":
          push(
            metricName,
            labels,
            this.#swapTotal === 0 ? 0 : round((this.#swapUsed / this.#swapTotal) * 100, 2),
          );
          break;
        case "disk.total":
        case "disk.used":
        case "disk.available":
        case "disk.used_percent": {
          const total = this.#diskTotal.get(labels.mount)!;
          const used = this.#diskUsed.get(labels.mount)!;
          // ext4 keeps 5% for root: available excludes it, as statfs reports.
          const available = Math.max(0, Math.floor(total * 0.95 / 4096) * 4096 - used);
          const value = metricName === "disk.total"
            ? total
            : metricName === "disk.used"
            ? used
            : metricName === "disk.available"
            ? available
            : round((used / (used + available)) * 100, 1);
          push(metricName, labels, value);
          break;
        }
        case "disk.read_bytes_per_sec":
        case "disk.write_bytes_per_sec": {
          const idle = r() < 0.4;
          const sectors = idle ? 0 : Math.floor(r() * r() * 4000 * busy * 8) * 8;
          push(metricName, labels, perSecond(sectors * 512));
          break;
        }
        case "disk.read_ops_per_sec":
        case "disk.write_ops_per_sec": {
          const ops = r() < 0.4 ? 0 : Math.floor(r() * r() * 300 * busy * 4);
          push(metricName, labels, perSecond(ops));
          break;
        }
        case "network.bytes_recv":
        case "network.bytes_sent": {
          const bytes = Math.floor(this.#traffic * daily * (0.2 + r() * 1.6) * (intervalMs / 1000));
          push(metricName, labels, perSecond(bytes));
          break;
        }
        case "network.packets_recv":
        case "network.packets_sent": {
          const packets = Math.floor(
            (this.#traffic / 700) * daily * (0.2 + r() * 1.6) * (intervalMs / 1000),
          );
          push(metricName, labels, perSecond(packets));
          break;
        }
        case "system.load_1":
          push(metricName, labels, round(this.#load[0], 2));
          break;
        case "system.load_5":
          push(metricName, labels, round(this.#load[1], 2));
          break;
        case "system.load_15":
          push(metricName, labels, round(this.#load[2], 2));
          break;
        case "system.uptime":
          push(
            metricName,
            labels,
            (this.#bootUptimeCs + Math.floor((timestampMs - startMs) / 10)) / 100,
          );
          break;
        default:
          push(metricName, labels, round(r() * 100, 2));
      }
    }
    return points;
  }
}

function assertPositiveInteger(name: string, value: number): void {
  if (!Number.isSafeInteger(value) || value <= 0) {
    throw new RangeError(
      `Cannot generate synthetic data: ${name} must be a positive integer, got ${value}`,
    );
  }
}

/** One batch per agent per interval, in the order live agents would send them. */
export function* syntheticBatches(options: SyntheticOptions): Generator<MetricDataPoint[]> {
  const { agents, seriesPerAgent, intervalMs, startMs, durationMs, seed = 1 } = options;
  assertPositiveInteger("agents", agents);
  assertPositiveInteger("seriesPerAgent", seriesPerAgent);
  assertPositiveInteger("intervalMs", intervalMs);
  if (!Number.isSafeInteger(startMs) || startMs < 0) {
    throw new RangeError(
      `Cannot generate synthetic data: startMs must be a non-negative integer, got ${startMs}`,
    );
  }
  if (!Number.isSafeInteger(durationMs) || durationMs < 0) {
    throw new RangeError(
      `Cannot generate synthetic data: durationMs must be a non-negative integer, got ${durationMs}`,
    );
  }
  const series = syntheticSeries(seriesPerAgent);
  const hosts = Array.from({ length: agents }, (_, i) => new Host(i, seed, series, intervalMs))
    .sort((a, b) => a.phaseMs - b.phaseMs || (a.agentId < b.agentId ? -1 : 1));
  for (let roundIndex = 0; roundIndex * intervalMs < durationMs; roundIndex++) {
    for (const host of hosts) {
      const timestampMs = startMs + roundIndex * intervalMs + host.phaseMs;
      if (timestampMs >= startMs + durationMs) continue;
      yield host.collect(timestampMs, startMs, intervalMs);
    }
  }
}

/** Regroups a stream of batches into writes of `size` points (the last one may be smaller). */
export function* rebatch(
  batches: Iterable<MetricDataPoint[]>,
  size: number,
): Generator<MetricDataPoint[]> {
  let pending: MetricDataPoint[] = [];
  for (const batch of batches) {
    for (const point of batch) {
      pending.push(point);
      if (pending.length === size) {
        yield pending;
        pending = [];
      }
    }
  }
  if (pending.length > 0) yield pending;
}
