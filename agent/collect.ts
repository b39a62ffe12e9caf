/**
 * One collection round: every collector runs, timed and isolated. A collector that throws,
 * rejects or overruns its time limit is logged and left out of this round's batch only; it is
 * called again next round (unless its previous call is still running, then it sits that round
 * out rather than piling up calls).
 */
import type { Clock } from "../shared/clock.ts";
import type { Logger } from "../shared/log.ts";
import type { MetricBatch, MetricDataPoint } from "../shared/types.ts";
import { METRIC_CATALOG } from "../shared/catalog.ts";
import type { Collector, Sample } from "./collectors/types.ts";

export interface CollectionOptions {
  agentId: string;
  collectors: readonly Collector[];
  clock: Clock;
  log: Logger;
  /** Longest one collector may take. Default 5,000 ms. */
  collectorTimeoutMs?: number;
  /** Monotonic time source for rates. Default `performance.now`. */
  monotonicMs?: () => number;
}

interface CollectorState {
  collector: Collector;
  pending: Promise<unknown> | undefined;
  failing: boolean;
}

class CollectorTimeout extends Error {}

/**
 * Metrics derived by division (percentages, per-second rates) are sent with two decimals. More
 * digits carry no information (a rate over a measured interval is not that precise), and the
 * server's chunk storage keeps exact short decimals in about 1.5 bytes per sample against about
 * 7 for arbitrary doubles. Counters, sizes and what the kernel reports already are short.
 */
const ROUNDED_UNITS = new Set(["percent", "bytes/s", "ops/s", "packets/s"]);
const ROUNDED_METRICS = new Set(
  Object.entries(METRIC_CATALOG)
    .filter(([, info]) => ROUNDED_UNITS.has(info.unit))
    .map(([name]) => name),
);

export function wireValue(metricName: string, value: number): number {
  return ROUNDED_METRICS.has(metricName) ? Math.round(value * 100) / 100 : value;
}

export class Collection {
  readonly #agentId: string;
  readonly #clock: Clock;
  readonly #log: Logger;
  readonly #timeoutMs: number;
  readonly #monotonicMs: () => number;
  readonly #states: CollectorState[];

  constructor(options: CollectionOptions) {
    this.#agentId = options.agentId;
    this.#clock = options.clock;
    this.#log = options.log;
    this.#timeoutMs = options.collectorTimeoutMs ?? 5_000;
    this.#monotonicMs = options.monotonicMs ?? (() => performance.now());
    this.#states = options.collectors.map((collector) => ({
      collector,
      pending: undefined,
      failing: false,
    }));
  }

  /** Runs every collector once and returns the round's batch (possibly with no points). */
  async collect(): Promise<MetricBatch> {
    const timestampMs = this.#clock.now();
    const context = { monotonicMs: this.#monotonicMs() };
    const results = await Promise.all(this.#states.map((state) => this.#run(state, context)));
    const dataPoints: MetricDataPoint[] = [];
    for (const samples of results) {
      for (const sample of samples) {
        if (!Number.isFinite(sample.value)) {
          this.#log.debug("dropped a non-finite sample", { metric: sample.metricName });
          continue;
        }
        dataPoints.push({
          timestampMs,
          agentId: this.#agentId,
          metricName: sample.metricName,
          value: wireValue(sample.metricName, sample.value),
          labels: sample.labels,
        });
      }
    }
    return { agentId: this.#agentId, timestampMs, dataPoints };
  }

  async #run(
    state: CollectorState,
    context: { monotonicMs: number },
  ): Promise<{ metricName: string; value: number; labels: Record<string, string> }[]> {
    const name = state.collector.name;
    if (state.pending) {
      this.#log.warn("collector still busy with its previous round, skipped", { collector: name });
      return [];
    }
    const started = performance.now();
    let timer: ReturnType<typeof setTimeout> | undefined;
    try {
      let samples: Sample[];
      const result = state.collector.collect(context);
      if (result instanceof Promise) {
        const settled = result.finally(() => (state.pending = undefined));
        state.pending = settled;
        const timeout = new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new CollectorTimeout()), this.#timeoutMs);
        });
        samples = await Promise.race([settled, timeout]);
      } else samples = result;
      const elapsedMs = performance.now() - started;
      if (state.failing) this.#log.info("collector recovered", { collector: name });
      state.failing = false;
      this.#log.debug("collected", {
        collector: name,
        samples: samples.length,
        ms: Math.round(elapsedMs * 1000) / 1000,
      });
      return samples.map((sample) => ({
        metricName: sample.name,
        value: sample.value,
        labels: sample.labels ?? {},
      }));
    } catch (error) {
      // The first failure is a warning; repeats of it would flood the log every round.
      const level = state.failing ? "debug" : "warn";
      state.failing = true;
      const reason = error instanceof CollectorTimeout
        ? `took longer than ${this.#timeoutMs} ms`
        : error;
      this.#log[level]("collector failed, skipped this round", { collector: name, error: reason });
      return [];
    } finally {
      clearTimeout(timer);
    }
  }
}
