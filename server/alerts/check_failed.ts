/**
 * `type = "check_failed"`: fires when a check (its `check.up` series) has failed for
 * `consecutive_failures` runs in a row and, with `duration_secs`, for at least that long; the
 * first successful run resolves it. The alert you want from a check without writing a threshold.
 */
import type { CheckFailedRuleConfig } from "./config.ts";
import {
  BREACH,
  CLEAR,
  formatSecs,
  type SeriesEvaluator,
  UNKNOWN,
  type Verdict,
  type VerdictDetails,
} from "./_evaluator.ts";
import { MS_PER_SECOND } from "../../shared/time.ts";

export class CheckFailedEvaluator implements SeriesEvaluator {
  readonly #rule: CheckFailedRuleConfig;
  readonly #durationMs: number;
  #failures = 0;
  #firstFailureMs = NaN;
  #lastMs = NaN;

  constructor(rule: CheckFailedRuleConfig) {
    this.#rule = rule;
    this.#durationMs = rule.durationSecs * MS_PER_SECOND;
  }

  push(timestampMs: number, value: number): Verdict {
    this.#lastMs = timestampMs;
    // check.up is 1 for a run that succeeded; anything below counts as a failure.
    if (value >= 1) {
      this.#failures = 0;
      this.#firstFailureMs = NaN;
      return CLEAR;
    }
    if (this.#failures === 0) this.#firstFailureMs = timestampMs;
    this.#failures++;
    const enough = this.#failures >= this.#rule.consecutiveFailures &&
      timestampMs - this.#firstFailureMs >= this.#durationMs;
    return enough ? BREACH : UNKNOWN;
  }

  details(): VerdictDetails {
    const rule = this.#rule;
    if (this.#failures === 0) {
      return { value: 0, threshold: rule.consecutiveFailures, condition: "is up again" };
    }
    const lasted = (this.#lastMs - this.#firstFailureMs) / MS_PER_SECOND;
    const runs = this.#failures === 1 ? "1 run" : `${this.#failures} runs in a row`;
    return {
      value: this.#failures,
      threshold: rule.consecutiveFailures,
      condition: `has failed ${runs}` + (lasted > 0 ? ` over ${formatSecs(lasted)}` : ""),
    };
  }
}
