/**
 * A check result as samples, so checks share storage, the API, charts and alert rules with host
 * metrics. Every sample carries the labels `check` (the check's name) and `target`.
 */
import type { MetricDataPoint } from "../types.ts";
import type { CheckResult } from "./spec.ts";

export const CHECK_UP = "check.up";
export const CHECK_DURATION = "check.duration_seconds";
export const CHECK_STATUS_CODE = "check.status_code";
export const CHECK_CERT_DAYS = "check.certificate_days_until_expiry";

/** The samples of one result, reported as `agentId`. */
export function checkResultPoints(result: CheckResult, agentId: string): MetricDataPoint[] {
  const labels = { check: result.name, target: result.target };
  const point = (metricName: string, value: number): MetricDataPoint => ({
    timestampMs: result.timestampMs,
    agentId,
    metricName,
    value,
    labels,
  });
  const points = [point(CHECK_UP, result.up ? 1 : 0)];
  // A heartbeat is pushed: there is no probe whose time could be measured.
  if (result.type !== "heartbeat") {
    points.push(point(CHECK_DURATION, Math.round(result.durationMs * 1000) / 1e6));
  }
  if (result.statusCode !== undefined) points.push(point(CHECK_STATUS_CODE, result.statusCode));
  if (result.certificateDaysLeft !== undefined) {
    points.push(point(CHECK_CERT_DAYS, result.certificateDaysLeft));
  }
  return points;
}
