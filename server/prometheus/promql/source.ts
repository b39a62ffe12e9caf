/**
 * What the PromQL evaluator reads: the stored series whose Prometheus labels match a selector,
 * and their raw samples or sample blocks over a window, counted against the query's sample
 * budget (Prometheus' `query.max-samples`).
 */
import { seriesIdentityOf } from "../../../shared/series.ts";
import type { MetricStore, SampleBlock, SeriesKey } from "../../storage/types.ts";
import { fromPromName, toPromLabels } from "../naming.ts";
import type { Matcher } from "./parse.ts";

export type PromLabels = Record<string, string>;

/** A query the data cannot answer within the limits (Prometheus' `execution` errors, 422). */
export class PromQLExecutionError extends Error {
  readonly errorType = "execution";
  constructor(message: string) {
    super(message);
    this.name = "PromQLExecutionError";
  }
}

export interface SelectedSeries {
  key: SeriesKey;
  labels: PromLabels;
}

function oxmonKey(key: SeriesKey): string {
  return seriesIdentityOf(key.agentId, key.metricName, key.labels);
}

/** Series selection and sample loading from a `MetricStore`, with the sample budget. */
export class StoreSource {
  readonly #store: MetricStore;
  readonly #maxSamples: number;
  #loaded = 0;

  constructor(store: MetricStore, maxSamples: number) {
    this.#store = store;
    this.#maxSamples = maxSamples;
  }

  /** Every stored series whose Prometheus labels satisfy all matchers. */
  select(matchers: readonly Matcher[]): SelectedSeries[] {
    const name = matchers.find((m) => m.name === "__name__" && m.type === "=");
    const agent = matchers.find((m) => m.name === "agent" && m.type === "=");
    const filter = { agentId: agent?.value };
    let keys: SeriesKey[] = [];
    if (name) {
      // The catalog name first; a sanitized name (`app.latency` → `app_latency`) needs a scan.
      keys = this.#store.listSeries({ ...filter, metricName: fromPromName(name.value) });
      if (keys.length === 0) keys = this.#store.listSeries(filter);
    } else keys = this.#store.listSeries(filter);
    const selected: SelectedSeries[] = [];
    for (const key of keys) {
      const labels = Object.fromEntries(toPromLabels(key));
      if (matchers.every((m) => m.matches(labels[m.name] ?? ""))) selected.push({ key, labels });
    }
    return selected;
  }

  #count(samples: number): void {
    this.#loaded += samples;
    if (this.#loaded > this.#maxSamples) {
      throw new PromQLExecutionError(
        "query processing would load too many samples into memory in query execution",
      );
    }
  }

  /** Raw samples in `[fromMs, toMs]` per selected series (same order). */
  raw(series: readonly SelectedSeries[], fromMs: number, toMs: number) {
    const wanted = new Map(series.map((s, i) => [oxmonKey(s.key), i]));
    const out: { timestamps: number[]; values: number[] }[] = series.map(() => ({
      timestamps: [],
      values: [],
    }));
    for (const group of groupByMetric(series)) {
      for (const found of this.#store.queryRaw({ ...group, fromMs, toMs })) {
        const index = wanted.get(oxmonKey(found));
        if (index === undefined) continue;
        this.#count(found.samples.length);
        const target = out[index];
        for (const sample of found.samples) {
          target.timestamps.push(sample.timestampMs);
          target.values.push(sample.value);
        }
      }
    }
    return out;
  }

  /** Sample blocks in `[fromMs, toMs]` per selected series (same order). */
  blocks(series: readonly SelectedSeries[], fromMs: number, toMs: number): SampleBlock[][] {
    const wanted = new Map(series.map((s, i) => [oxmonKey(s.key), i]));
    const out: SampleBlock[][] = series.map(() => []);
    for (const group of groupByMetric(series)) {
      for (const found of this.#store.queryBlocks({ ...group, fromMs, toMs })) {
        const index = wanted.get(oxmonKey(found));
        if (index === undefined) continue;
        // Counted as the number of stored blocks, not samples: that is what is read.
        this.#count(found.blocks.length);
        out[index] = found.blocks;
      }
    }
    return out;
  }
}

function groupByMetric(
  series: readonly SelectedSeries[],
): { agentId: string; metricName: string }[] {
  const seen = new Map<string, { agentId: string; metricName: string }>();
  for (const { key } of series) {
    seen.set(key.agentId + "\u0000" + key.metricName, {
      agentId: key.agentId,
      metricName: key.metricName,
    });
  }
  return [...seen.values()];
}
