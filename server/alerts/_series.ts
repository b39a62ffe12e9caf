/** Series identity and rendering shared by the engine and the store. */
import type { Labels } from "../../shared/types.ts";

/**
 * A stable key for one series: agent, metric and labels sorted by name. Control characters
 * separate the parts because ids, names and label values are printable text; not NUL, which
 * SQLite text cuts short.
 */
export function seriesKey(agentId: string, metricName: string, labels: Labels): string {
  let key = agentId + "\u001f" + metricName;
  const names = Object.keys(labels);
  if (names.length === 0) return key;
  if (names.length > 1) names.sort();
  for (const name of names) key += "\u001f" + name + "\u001e" + labels[name];
  return key;
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
