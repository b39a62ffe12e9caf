import type { SeriesKey } from "../storage/types.ts";

function labelText(labels: Record<string, string>): string {
  return Object.keys(labels).sort().map((name) => `${name}=${labels[name]}`).join(",");
}

function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** A stable response order: by agent, then metric, then labels. */
export function compareSeries(a: SeriesKey, b: SeriesKey): number {
  return compareText(a.agentId, b.agentId) || compareText(a.metricName, b.metricName) ||
    compareText(labelText(a.labels), labelText(b.labels));
}

export function sameLabels(a: Record<string, string>, b: Record<string, string>): boolean {
  const names = Object.keys(a);
  return names.length === Object.keys(b).length && names.every((name) => b[name] === a[name]);
}
