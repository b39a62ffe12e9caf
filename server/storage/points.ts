/**
 * What every storage engine does the same way with incoming points and series filters, so the
 * row engine and the chunk engine agree bit for bit on identity, validation and conflicts.
 */
import type { MetricDataPoint } from "../../shared/types.ts";
import type { SeriesKey, SeriesQuery } from "./types.ts";

// The series identity lives in shared/ so the alert engine names series the same way.
export { canonicalLabelsJson, seriesIdentity } from "../../shared/series.ts";

/** Partition files are named `YYYY-MM-DD`, so timestamps stop at the end of year 9999. */
export const MAX_TIMESTAMP_MS = Date.UTC(9999, 11, 31, 23, 59, 59, 999);

const bitsView = new Float64Array(2);
const bitsWords = new Int32Array(bitsView.buffer);

/**
 * True when both numbers have the same float64 bits: `0` and `-0` differ, NaNs compare by
 * payload. `===` alone would call `0` and `-0` equal and every NaN different.
 */
export function sameFloat64Bits(a: number, b: number): boolean {
  if (a === b) return a !== 0 || 1 / a === 1 / b;
  if (a === a || b === b) return false;
  bitsView[0] = a;
  bitsView[1] = b;
  return bitsWords[0] === bitsWords[2] && bitsWords[1] === bitsWords[3];
}

function describe(value: unknown): string {
  if (typeof value === "string") return JSON.stringify(value);
  if (typeof value === "bigint") return `${value}n`;
  if (Array.isArray(value)) return "an array";
  if (value === null || typeof value !== "object") return String(value);
  return "an object";
}

/**
 * Throws a `TypeError` or `RangeError` naming the first bad field (`points[3].value`), so an
 * engine can refuse a whole write before touching any file.
 */
export function validatePoints(points: readonly MetricDataPoint[]): void {
  if (!Array.isArray(points)) {
    throw new TypeError(`Cannot write points: expected an array, got ${describe(points)}`);
  }
  for (let i = 0; i < points.length; i++) {
    const point = points[i];
    const where = `points[${i}]`;
    if (point === null || typeof point !== "object") {
      throw new TypeError(`Cannot write ${where}: expected an object, got ${describe(point)}`);
    }
    if (typeof point.agentId !== "string" || point.agentId === "") {
      throw new TypeError(
        `Cannot write ${where}.agentId: expected a non-empty string, got ${
          describe(point.agentId)
        }`,
      );
    }
    if (typeof point.metricName !== "string" || point.metricName === "") {
      throw new TypeError(
        `Cannot write ${where}.metricName: expected a non-empty string, got ${
          describe(point.metricName)
        }`,
      );
    }
    const ts = point.timestampMs;
    if (typeof ts !== "number" || !Number.isInteger(ts)) {
      throw new TypeError(
        `Cannot write ${where}.timestampMs: expected an integer, got ${describe(ts)}`,
      );
    }
    if (ts < 0 || ts > MAX_TIMESTAMP_MS) {
      throw new RangeError(
        `Cannot write ${where}.timestampMs: expected 0 to ${MAX_TIMESTAMP_MS}, got ${ts}`,
      );
    }
    if (typeof point.value !== "number") {
      throw new TypeError(
        `Cannot write ${where}.value: expected a finite number, got ${describe(point.value)}`,
      );
    }
    if (!Number.isFinite(point.value)) {
      throw new RangeError(
        `Cannot write ${where}.value: expected a finite number, got ${point.value}`,
      );
    }
    const labels = point.labels;
    if (labels === null || typeof labels !== "object" || Array.isArray(labels)) {
      throw new TypeError(
        `Cannot write ${where}.labels: expected an object, got ${describe(labels)}`,
      );
    }
    for (const key in labels) {
      if (typeof labels[key] !== "string") {
        throw new TypeError(
          `Cannot write ${where}.labels.${key}: expected a string, got ${describe(labels[key])}`,
        );
      }
    }
  }
}

/**
 * Checks a query's range: both ends integers. `fromMs > toMs` is allowed and matches nothing.
 */
export function validateRange(query: Pick<SeriesQuery, "fromMs" | "toMs">): void {
  for (const field of ["fromMs", "toMs"] as const) {
    const value = query[field];
    if (typeof value !== "number" || !Number.isSafeInteger(value)) {
      throw new TypeError(`Cannot query: ${field} must be an integer, got ${describe(value)}`);
    }
  }
}

export function validateStep(stepMs: number): void {
  if (typeof stepMs !== "number" || !Number.isSafeInteger(stepMs) || stepMs <= 0) {
    throw new RangeError(
      `Cannot query buckets: stepMs must be a positive integer, got ${describe(stepMs)}`,
    );
  }
}

/** Whether a series matches the agent, metric and label parts of a query. */
export function matchesSeries(
  key: SeriesKey,
  filter: Omit<SeriesQuery, "fromMs" | "toMs"> | undefined,
): boolean {
  if (!filter) return true;
  if (filter.agentId !== undefined && key.agentId !== filter.agentId) return false;
  if (filter.metricName !== undefined && key.metricName !== filter.metricName) return false;
  if (filter.labels) {
    for (const name in filter.labels) {
      if (!Object.hasOwn(key.labels, name) || key.labels[name] !== filter.labels[name]) {
        return false;
      }
    }
  }
  return true;
}

/** Orders series by agent, metric, then canonical labels: the order every query returns. */
export function compareSeries(
  a: { agentId: string; metricName: string; labelsJson: string },
  b: { agentId: string; metricName: string; labelsJson: string },
): number {
  if (a.agentId !== b.agentId) return a.agentId < b.agentId ? -1 : 1;
  if (a.metricName !== b.metricName) return a.metricName < b.metricName ? -1 : 1;
  if (a.labelsJson !== b.labelsJson) return a.labelsJson < b.labelsJson ? -1 : 1;
  return 0;
}
