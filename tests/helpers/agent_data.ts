/**
 * Deterministic agent-like data for interop tests and benches: the series an oxmon agent
 * reports (CPU per core, memory, disk per mount, network per interface, load), with values of
 * full float64 precision, short decimals and integers mixed, in gRPC batches of several rounds.
 */
import type { IMetricBatchProto, IMetricDataPointProto } from "../../shared/proto/mod.ts";
import type { Labels } from "../../shared/types.ts";
import { Random } from "./chunk_random.ts";

const SERIES: { metric: string; labels: Labels }[] = [
  { metric: "cpu.usage", labels: {} },
  ...["0", "1", "2", "3"].map((core) => ({ metric: "cpu.core_usage", labels: { core } })),
  { metric: "memory.used", labels: {} },
  { metric: "memory.used_percent", labels: {} },
  { metric: "disk.used_percent", labels: { mount: "/" } },
  { metric: "disk.used_percent", labels: { mount: "/data" } },
  { metric: "disk.read_bytes_per_sec", labels: { device: "sda" } },
  { metric: "network.bytes_recv", labels: { interface: "eth0" } },
  { metric: "network.packets_sent", labels: { interface: "eth0" } },
  { metric: "system.load_1", labels: {} },
  { metric: "system.uptime", labels: {} },
];

export const AGENT_SERIES_COUNT = SERIES.length;

/** Uniform numbers in [0, 1) from `Random` (mulberry32), as a function. */
export function seededRandom(seed: number): () => number {
  const random = new Random(seed);
  return () => random.next();
}

function value(metric: string, index: number, random: () => number): number {
  switch (metric) {
    case "memory.used":
      return 4e9 + Math.round(random() * 1e9);
    case "system.uptime":
      return 100_000 + index * 10;
    case "disk.used_percent":
      return Math.round((40 + random() * 2) * 100) / 100;
    case "system.load_1":
      return Math.round(random() * 400) / 100;
    default:
      return random() * 100;
  }
}

export interface AgentDataOptions {
  agentId: string;
  fromMs: number;
  toMs: number;
  intervalMs: number;
  /** Collection rounds per batch (an agent draining its buffer sends several). */
  roundsPerBatch: number;
  seed?: number;
}

/** Batches covering `[fromMs, toMs)`, oldest first. */
export function agentBatches(options: AgentDataOptions): IMetricBatchProto[] {
  const random = seededRandom(options.seed ?? 1);
  const batches: IMetricBatchProto[] = [];
  let points: IMetricDataPointProto[] = [];
  let rounds = 0;
  let index = 0;
  for (let ts = options.fromMs; ts < options.toMs; ts += options.intervalMs, index++) {
    for (const { metric, labels } of SERIES) {
      points.push({
        agentId: options.agentId,
        metricName: metric,
        value: value(metric, index, random),
        timestampMs: ts,
        labels,
      });
    }
    if (++rounds === options.roundsPerBatch) {
      batches.push({ agentId: options.agentId, timestampMs: ts, dataPoints: points });
      points = [];
      rounds = 0;
    }
  }
  if (points.length > 0) {
    batches.push({ agentId: options.agentId, timestampMs: options.toMs, dataPoints: points });
  }
  return batches;
}
