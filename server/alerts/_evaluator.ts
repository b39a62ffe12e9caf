/**
 * What every sample-driven rule type implements: a per-series evaluator fed one sample at a time.
 * The hot path only gets a verdict code; the details of an event are built when one is sent.
 */
import type { Severity } from "../../shared/types.ts";

/** Not enough data to judge (too few samples, window not yet spanned): the state is kept. */
export const UNKNOWN = 0;
/** The condition does not hold: a firing series resolves. */
export const CLEAR = 1;
/** The condition holds: the series fires (or keeps firing). */
export const BREACH = 2;
export type Verdict = typeof UNKNOWN | typeof CLEAR | typeof BREACH;

/** Details of the latest verdict for an event. */
export interface VerdictDetails {
  /** The number compared with `threshold` (the sample, a percent change, …). */
  value: number;
  threshold: number;
  /** Why it fires, e.g. `is 95 > 90 for 300s`; why it is clear, e.g. `is 42`. */
  condition: string;
  /** Set by rule types whose severity depends on the value. */
  severity?: Severity;
  predictedBreachMs?: number;
  rSquared?: number;
}

export interface SeriesEvaluator {
  /** Adds a sample newer than every earlier one and judges the series. */
  push(timestampMs: number, value: number): Verdict;
  /** Details of the verdict the last `push` returned. */
  details(): VerdictDetails;
}

/** Formats a number for a message without noise digits. */
export function formatNumber(value: number): string {
  if (!Number.isFinite(value)) return String(value);
  if (Number.isInteger(value)) return String(value);
  return String(Number(value.toPrecision(6)));
}

/** `300s`, `5m`, `2h`, `1d` when exact, else seconds. */
export function formatSecs(secs: number): string {
  if (secs > 0 && secs % 86_400 === 0) return `${secs / 86_400}d`;
  if (secs > 0 && secs % 3_600 === 0) return `${secs / 3_600}h`;
  if (secs > 0 && secs % 60 === 0) return `${secs / 60}m`;
  return `${formatNumber(secs)}s`;
}
