/**
 * What every rule type implements: an evaluator per series (per agent, for `agent_absent`) fed
 * one sample at a time. The hot path only gets a verdict code; the details of an event are built
 * when one is sent. `_rule_types.ts` builds the evaluator of each rule type.
 */
import { MS_PER_DAY, MS_PER_HOUR, MS_PER_MINUTE, MS_PER_SECOND } from "../../shared/time.ts";
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
  /**
   * Adds a sample and judges the series. Samples come newer than every earlier one, except to
   * rule types that watch an agent (any sample is a sign of life). `nowMs` is the server time the
   * sample arrived, for rule types judged on the server clock.
   */
  push(timestampMs: number, value: number, nowMs: number): Verdict;
  /** Details of the latest verdict. */
  details(): VerdictDetails;
}

/** A rule type judged on the server clock as well (`agent_absent`): the tick asks it at `nowMs`. */
export interface ClockedEvaluator extends SeriesEvaluator {
  check(nowMs: number): Verdict;
}

/** Formats a number for a message without noise digits. */
export function formatNumber(value: number): string {
  if (!Number.isFinite(value)) return String(value);
  if (Number.isInteger(value)) return String(value);
  return String(Number(value.toPrecision(6)));
}

/** `300s`, `5m`, `2h`, `1d` when exact, else seconds. */
export function formatSecs(secs: number): string {
  const ms = secs * MS_PER_SECOND;
  if (secs > 0 && ms % MS_PER_DAY === 0) return `${ms / MS_PER_DAY}d`;
  if (secs > 0 && ms % MS_PER_HOUR === 0) return `${ms / MS_PER_HOUR}h`;
  if (secs > 0 && ms % MS_PER_MINUTE === 0) return `${ms / MS_PER_MINUTE}m`;
  return `${formatNumber(secs)}s`;
}
