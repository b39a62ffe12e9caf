/** How the alert engine names and matches series; their identity is `shared/series.ts`. */
import type { Labels } from "../../shared/types.ts";

/**
 * The key of one alert: its rule name as JSON, then the series identity (`seriesIdentity`). A JSON
 * string ends where its closing quote does, so no rule name can run into the series part.
 */
export function alertKey(ruleName: string, seriesIdentity: string): string {
  return JSON.stringify(ruleName) + seriesIdentity;
}

/** Whether `labels` carries every entry of `filter`. */
export function labelsMatch(filter: readonly (readonly [string, string])[], labels: Labels) {
  for (const [name, value] of filter) {
    if (labels[name] !== value) return false;
  }
  return true;
}

/** `disk.used_percent{mount="/"}`, as people read series. */
export function formatSeries(metricName: string, labels: Labels): string {
  const names = Object.keys(labels).sort();
  if (names.length === 0) return metricName;
  return `${metricName}{${
    names.map((name) => `${name}=${JSON.stringify(labels[name])}`).join(",")
  }}`;
}

/**
 * A map keyed by series through the parts of its identity: agent id, metric name, canonical labels
 * JSON (`canonicalLabelsJson`). Each level is keyed by one raw part, so it is as unambiguous as
 * `seriesIdentity`, and a lookup per sample needs no identity string: building one per sample
 * made `observe` twice as slow.
 */
export class SeriesMap<V> {
  readonly #byAgent = new Map<string, Map<string, Map<string, V>>>();

  get(agentId: string, metricName: string, labelsJson: string): V | undefined {
    return this.#byAgent.get(agentId)?.get(metricName)?.get(labelsJson);
  }

  set(agentId: string, metricName: string, labelsJson: string, value: V): void {
    let byMetric = this.#byAgent.get(agentId);
    if (!byMetric) this.#byAgent.set(agentId, byMetric = new Map());
    let byLabels = byMetric.get(metricName);
    if (!byLabels) byMetric.set(metricName, byLabels = new Map());
    byLabels.set(labelsJson, value);
  }

  /** Removes every value `drop` returns true for. */
  sweep(drop: (value: V) => boolean): void {
    for (const [agentId, byMetric] of this.#byAgent) {
      for (const [metricName, byLabels] of byMetric) {
        for (const [labelsJson, value] of byLabels) {
          if (drop(value)) byLabels.delete(labelsJson);
        }
        if (byLabels.size === 0) byMetric.delete(metricName);
      }
      if (byMetric.size === 0) this.#byAgent.delete(agentId);
    }
  }
}
