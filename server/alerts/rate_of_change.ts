/**
 * `type = "rate_of_change"`: the percentage change across `window_secs`,
 * `(newest - base) / |base| * 100`, where the base is the oldest sample no older than
 * `window_secs` before the newest. Fires when the change exceeds `rate_threshold` in either
 * direction (strictly greater, as the original oxmon). Needs two samples in the window.
 *
 * A zero base makes the percentage undefined: `0 → 0` counts as no change, and `0 → x` is not a
 * breach (as in the original oxmon), so such a series is clear. Alert on a value leaving zero with
 * a threshold rule instead.
 */
import { MS_PER_SECOND } from "../../shared/time.ts";
import type { RateOfChangeRuleConfig } from "./config.ts";
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
import { SampleWindow } from "./_window.ts";

export class RateOfChangeEvaluator implements SeriesEvaluator {
  readonly #rule: RateOfChangeRuleConfig;
  readonly #windowMs: number;
  readonly #window: SampleWindow;
  #percent = NaN;

  constructor(rule: RateOfChangeRuleConfig, options: { maxWindowPoints: number }) {
    this.#rule = rule;
    this.#windowMs = rule.windowSecs * MS_PER_SECOND;
    this.#window = new SampleWindow(options.maxWindowPoints);
  }

  push(timestampMs: number, value: number): Verdict {
    const window = this.#window;
    window.push(timestampMs, value);
    const oldestAllowed = timestampMs - this.#windowMs;
    while (window.timeAt(0) < oldestAllowed) window.shift();
    if (window.length < 2) {
      this.#percent = NaN;
      return UNKNOWN;
    }
    const base = window.valueAt(0);
    if (base === 0) {
      this.#percent = value === 0 ? 0 : NaN;
      return CLEAR;
    }
    this.#percent = (value - base) / Math.abs(base) * 100;
    return Math.abs(this.#percent) > this.#rule.rateThreshold ? BREACH : CLEAR;
  }

  details(): VerdictDetails {
    const window = this.#window;
    const last = window.length - 1;
    const from = window.valueAt(0);
    const to = window.valueAt(last);
    const spanSecs = (window.timeAt(last) - window.timeAt(0)) / MS_PER_SECOND;
    const percent = this.#percent;
    const change = Number.isNaN(percent)
      ? "changed from 0"
      : `changed by ${percent > 0 ? "+" : ""}${formatNumber(percent)}%`;
    return {
      value: percent,
      threshold: this.#rule.rateThreshold,
      condition: `${change} (${formatNumber(from)} → ${formatNumber(to)} in ` +
        `${formatSecs(spanSecs)}; limit ±${formatNumber(this.#rule.rateThreshold)}%)`,
    };
  }
}
