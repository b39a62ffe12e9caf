/** Types both executables speak. */

/** Labels of one series, e.g. `{ mount: "/" }`. */
export type Labels = Record<string, string>;

/** One sample of one metric as the agent collects it. */
export interface MetricDataPoint {
  timestampMs: number;
  agentId: string;
  metricName: string;
  value: number;
  labels: Labels;
}

/** Facts about the host, sent with the first batch after an agent starts. */
export interface SystemInfo {
  hostname: string;
  os: string;
  osVersion: string;
  arch: string;
  kernelVersion: string;
  cpuCores: number;
  memoryGb: number;
  diskGb: number;
}

/** What one `ReportMetrics` call carries. */
export interface MetricBatch {
  agentId: string;
  timestampMs: number;
  dataPoints: MetricDataPoint[];
  systemInfo?: SystemInfo;
}

/** Alert severities, ordered: info < warning < critical. */
export const SEVERITIES = ["info", "warning", "critical"] as const;
export type Severity = typeof SEVERITIES[number];

/** Rank of a severity for routing comparisons (`min_severity`). */
export function severityRank(severity: Severity): number {
  return SEVERITIES.indexOf(severity);
}

export function isSeverity(value: unknown): value is Severity {
  return typeof value === "string" && (SEVERITIES as readonly string[]).includes(value);
}

/** One alert raised (or resolved) by the server's alert engine. */
export interface AlertEvent {
  id: string;
  ruleName: string;
  ruleType: string;
  agentId: string;
  metricName: string;
  labels: Labels;
  severity: Severity;
  /** `firing` when raised, `resolved` when its condition cleared. */
  status: "firing" | "resolved";
  message: string;
  value: number;
  threshold: number;
  timestampMs: number;
  /** Trend prediction only: when the fitted line crosses the threshold. */
  predictedBreachMs?: number;
  /** Trend prediction only: coefficient of determination of the fit. */
  rSquared?: number;
  /** When the series started firing (the first firing event of this episode). */
  firingSinceMs?: number;
}
