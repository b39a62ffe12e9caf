/**
 * `type = "threshold"`: fires when every sample across `duration_secs` breaches the bound, and
 * the breaching samples actually span `duration_secs` (a lone breaching sample does not stand
 * for five minutes). `duration_secs = 0` fires on one breaching sample. One sample that does not
 * breach clears the series.
 *
 * Only the start of the current run of breaching samples is kept: "every sample in
 * [t - duration, t] breaches and data reaches back to t - duration" is the same as "the run of
 * breaching samples ending at t started at or before t - duration", so a window costs O(1).
 */
import { MS_PER_SECOND } from "../../shared/time.ts";
import type { Operator, ThresholdRuleConfig } from "./config.ts";
import {
  BREACH,
  CLEAR,
  formatNumber,
  formatSecs,
  type SeriesEvaluator,
  UNKNOWN,
  type Verdict,
  type VerdictDetails,
} from "./_evaluator.ts";

const COMPARE: Record<Operator, (value: number, bound: number) => boolean> = {
  greater_than: (value, bound) => value > bound,
  less_than: (value, bound) => value < bound,
  greater_equal: (value, bound) => value >= bound,
  less_equal: (value, bound) => value <= bound,
  equal: (value, bound) => value === bound,
  not_equal: (value, bound) => value !== bound,
};

export const OPERATOR_SYMBOL: Record<Operator, string> = {
  greater_than: ">",
  less_than: "<",
  greater_equal: ">=",
  less_equal: "<=",
  equal: "==",
  not_equal: "!=",
};

export class ThresholdEvaluator implements SeriesEvaluator {
  readonly #rule: ThresholdRuleConfig;
  readonly #breaches: (value: number, bound: number) => boolean;
  readonly #durationMs: number;
  #runStartMs = NaN;
  #lastMs = NaN;
  #lastValue = NaN;

  constructor(rule: ThresholdRuleConfig) {
    this.#rule = rule;
    this.#breaches = COMPARE[rule.operator];
    this.#durationMs = rule.durationSecs * MS_PER_SECOND;
  }

  push(timestampMs: number, value: number): Verdict {
    this.#lastMs = timestampMs;
    this.#lastValue = value;
    if (!this.#breaches(value, this.#rule.value)) {
      this.#runStartMs = NaN;
      return CLEAR;
    }
    if (Number.isNaN(this.#runStartMs)) this.#runStartMs = timestampMs;
    return timestampMs - this.#runStartMs >= this.#durationMs ? BREACH : UNKNOWN;
  }

  details(): VerdictDetails {
    const rule = this.#rule;
    const breaching = !Number.isNaN(this.#runStartMs);
    const lasted = breaching && rule.durationSecs > 0
      ? ` for ${formatSecs((this.#lastMs - this.#runStartMs) / MS_PER_SECOND)}`
      : "";
    return {
      value: this.#lastValue,
      threshold: rule.value,
      condition: breaching
        ? `is ${formatNumber(this.#lastValue)} ${OPERATOR_SYMBOL[rule.operator]} ` +
          `${formatNumber(rule.value)}${lasted}`
        : `is ${formatNumber(this.#lastValue)}`,
    };
  }
}
