/**
 * One collection round: every collector runs, timed and isolated. A collector that throws,
 * rejects or overruns its time limit is logged and left out of this round's batch only; it is
 * called again next round (unless its previous call is still running, then it sits that round
 * out rather than piling up calls).
 *
 * With `selfMetrics`, each round also reports on the agent itself, as node_exporter's
 * `node_scrape_collector_success` does, so a collector that fails every round can be alerted on
 * rather than only logged: `agent.collector_success{collector}` (1 or 0; 0 also when it sat the
 * round out), `agent.collector_duration_seconds{collector}` (when it was called; up to the time
 * limit when it overran), `agent.buffer_batches` and `agent.dropped_batches_total`.
 */
import type { Clock } from "../shared/clock.ts";
import type { Logger } from "../shared/log.ts";
import { deadline, DeadlineError } from "../shared/deadline.ts";
import type { Labels, MetricBatch, MetricDataPoint } from "../shared/types.ts";
import { METRIC_CATALOG } from "../shared/catalog.ts";
import { MS_PER_SECOND } from "../shared/time.ts";
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
  /** Report the agent's own health with every round (see above). Default: not reported. */
  selfMetrics?: {
    /** The batches waiting to be sent, and how many were dropped since start. */
    buffer: { readonly size: number; readonly dropped: number };
  };
}

interface CollectorState {
  collector: Collector;
  /** `{ collector: name }`, for its self-metrics. */
  labels: Readonly<Record<string, string>>;
  pending: Promise<unknown> | undefined;
  failing: boolean;
}

/** What one collector's part of a round came to. */
interface CollectorOutcome {
  samples: Sample[];
  success: boolean;
  /** How long it ran; undefined when it was not called (still busy). */
  seconds?: number;
}

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

/** The labels of a sample without any, shared by every such point rather than one `{}` each. */
const NO_LABELS: Labels = Object.freeze({});

/**
 * Seconds since `started` (a `performance.now()`), in whole microseconds: finer is noise, and
 * short decimals are what the server stores compactly.
 */
function secondsSince(started: number): number {
  return Math.round((performance.now() - started) * 1000) / 1e6;
}

export class Collection {
  readonly #agentId: string;
  readonly #clock: Clock;
  readonly #log: Logger;
  readonly #timeoutMs: number;
  readonly #monotonicMs: () => number;
  readonly #states: CollectorState[];
  readonly #selfMetrics: CollectionOptions["selfMetrics"];

  constructor(options: CollectionOptions) {
    this.#agentId = options.agentId;
    this.#clock = options.clock;
    this.#log = options.log;
    this.#timeoutMs = options.collectorTimeoutMs ?? 5 * MS_PER_SECOND;
    this.#monotonicMs = options.monotonicMs ?? (() => performance.now());
    this.#states = options.collectors.map((collector) => ({
      collector,
      labels: Object.freeze({ collector: collector.name }),
      pending: undefined,
      failing: false,
    }));
    this.#selfMetrics = options.selfMetrics;
  }

  /** Runs every collector once and returns the round's batch (possibly with no points). */
  async collect(): Promise<MetricBatch> {
    const timestampMs = this.#clock.now();
    const context = { monotonicMs: this.#monotonicMs() };
    // Collectors that answer at once (all of Linux's after the first round) are run without a
    // promise each: a round runs every second, interpreted, and awaits cost there.
    const running: (CollectorOutcome | Promise<CollectorOutcome>)[] = [];
    let waiting = false;
    for (let i = 0; i < this.#states.length; i++) {
      const outcome = this.#run(this.#states[i], context);
      if (outcome instanceof Promise) waiting = true;
      running.push(outcome);
    }
    const outcomes = waiting ? await Promise.all(running) : running as CollectorOutcome[];
    const dataPoints: MetricDataPoint[] = [];
    const agentId = this.#agentId;
    const add = (name: string, value: number, labels: Labels | undefined) =>
      dataPoints.push({
        timestampMs,
        agentId,
        metricName: name,
        value: wireValue(name, value),
        labels: labels ?? NO_LABELS,
      });
    // Indexed loops: this runs every round, interpreted, where for-of allocates an iterator
    // result per element.
    for (let i = 0; i < outcomes.length; i++) {
      const samples = outcomes[i].samples;
      for (let j = 0; j < samples.length; j++) {
        const sample = samples[j];
        if (!Number.isFinite(sample.value)) {
          this.#log.debug("dropped a non-finite sample", { metric: sample.name });
          continue;
        }
        add(sample.name, sample.value, sample.labels);
      }
    }
    if (this.#selfMetrics) {
      for (let i = 0; i < outcomes.length; i++) {
        const outcome = outcomes[i];
        const labels = this.#states[i].labels;
        add("agent.collector_success", outcome.success ? 1 : 0, labels);
        if (outcome.seconds !== undefined) {
          add("agent.collector_duration_seconds", outcome.seconds, labels);
        }
      }
      const { buffer } = this.#selfMetrics;
      add("agent.buffer_batches", buffer.size, undefined);
      add("agent.dropped_batches_total", buffer.dropped, undefined);
    }
    return { agentId, timestampMs, dataPoints };
  }

  /** One collector's part of the round: a promise only when the collector returned one. */
  #run(
    state: CollectorState,
    context: { monotonicMs: number },
  ): CollectorOutcome | Promise<CollectorOutcome> {
    if (state.pending) {
      this.#log.warn("collector still busy with its previous round, skipped", {
        collector: state.collector.name,
      });
      return { samples: [], success: false };
    }
    const started = performance.now();
    let result;
    try {
      result = state.collector.collect(context);
    } catch (error) {
      return this.#failed(state, error, started);
    }
    if (!(result instanceof Promise)) return this.#succeeded(state, result, started);
    const settled = result.finally(() => (state.pending = undefined));
    state.pending = settled;
    return deadline(settled, this.#timeoutMs).then(
      (samples) => this.#succeeded(state, samples, started),
      (error) => this.#failed(state, error, started),
    );
  }

  #succeeded(state: CollectorState, samples: Sample[], started: number): CollectorOutcome {
    const seconds = secondsSince(started);
    const name = state.collector.name;
    if (state.failing) this.#log.info("collector recovered", { collector: name });
    state.failing = false;
    this.#log.debug("collected", { collector: name, samples: samples.length, seconds });
    return { samples, success: true, seconds };
  }

  #failed(state: CollectorState, error: unknown, started: number): CollectorOutcome {
    const seconds = secondsSince(started);
    // The first failure is a warning; repeats of it would flood the log every round.
    const level = state.failing ? "debug" : "warn";
    state.failing = true;
    const reason = error instanceof DeadlineError
      ? `took longer than ${this.#timeoutMs} ms`
      : error;
    this.#log[level]("collector failed, skipped this round", {
      collector: state.collector.name,
      error: reason,
    });
    return { samples: [], success: false, seconds };
  }
}
