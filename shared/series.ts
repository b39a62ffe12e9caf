/**
 * One identity for a series (agent + metric + labels), used by storage and by the alert engine
 * alike, so "the same series" means the same thing everywhere.
 *
 * Every part is JSON text: a JSON string is self-delimiting and escapes every control character,
 * so no agent id, metric name or label value can make two different series spell the same
 * identity, and no NUL ever reaches SQLite (which cuts text short at one).
 */
import type { Labels } from "./types.ts";

/**
 * Labels as JSON with sorted keys: the same labels always give the same text whatever order
 * their keys were inserted in. Built by hand because JS objects iterate integer-like keys first.
 */
export function canonicalLabelsJson(labels: Labels): string {
  const keys = Object.keys(labels);
  if (keys.length === 0) return "{}";
  keys.sort();
  let json = "{";
  for (let i = 0; i < keys.length; i++) {
    if (i > 0) json += ",";
    json += JSON.stringify(keys[i]) + ":" + JSON.stringify(labels[keys[i]]);
  }
  return json + "}";
}

/** A string naming one series unambiguously (agent ids and metric names may hold any character). */
export function seriesIdentity(agentId: string, metricName: string, labelsJson: string): string {
  return JSON.stringify(agentId) + JSON.stringify(metricName) + labelsJson;
}

/** `seriesIdentity` of labels not yet in canonical JSON. */
export function seriesIdentityOf(agentId: string, metricName: string, labels: Labels): string {
  return seriesIdentity(agentId, metricName, canonicalLabelsJson(labels));
}
