/**
 * `type = "trend_prediction"`: fits a least-squares line to the samples of the last
 * `window_secs` and fires when the line crosses `predict_threshold` after the newest sample and
 * at most `horizon_secs` after it, in either direction (a rising disk or falling free memory).
 * Needs `min_data_points` samples spread over time. When the line's crossing lies in the past
 * (the value is already beyond the threshold) the prediction no longer applies and the series is
 * clear: a threshold rule is the one to report a value that is already too high.
 *
 * The fit keeps running sums (n, Σx, Σy, Σxy, Σx², Σy²) that are updated as samples enter and
 * leave the window, so a push costs O(1). x and y are taken relative to a base sample and the sums
 * are recomputed from the window (rebased) once as many samples have left as it holds, which
 * keeps cancellation error small at an amortised O(1).
 */
import { MS_PER_SECOND } from "../../shared/time.ts";
import type { TrendPredictionRuleConfig } from "./config.ts";
import {
  BREACH,
  CLEAR,
  formatNumber,
  type SeriesEvaluator,
  UNKNOWN,
  type Verdict,
  type VerdictDetails,
} from "./_evaluator.ts";
import { SampleWindow } from "./_window.ts";

/** A least-squares line `y = slope * x + intercept`, x in epoch ms. */
export interface LineFit {
  slope: number;
  /** The fitted value at `originMs`. */
  valueAtOrigin: number;
  originMs: number;
  rSquared: number;
}

export class TrendPredictionEvaluator implements SeriesEvaluator {
  readonly #rule: TrendPredictionRuleConfig;
  readonly #windowMs: number;
  readonly #horizonMs: number;
  readonly #window: SampleWindow;
  #baseMs = 0;
  #baseValue = 0;
  #sumX = 0;
  #sumY = 0;
  #sumXY = 0;
  #sumXX = 0;
  #sumYY = 0;
  #leftSinceRebase = 0;
  #fit: LineFit | undefined;
  #crossingMs = NaN;
  #lastMs = NaN;
  #lastValue = NaN;

  constructor(rule: TrendPredictionRuleConfig, options: { maxWindowPoints: number }) {
    this.#rule = rule;
    this.#windowMs = rule.windowSecs * MS_PER_SECOND;
    this.#horizonMs = rule.horizonSecs * MS_PER_SECOND;
    this.#window = new SampleWindow(Math.max(options.maxWindowPoints, rule.minDataPoints));
  }

  push(timestampMs: number, value: number): Verdict {
    const window = this.#window;
    this.#lastMs = timestampMs;
    this.#lastValue = value;
    if (window.length === 0) {
      this.#baseMs = timestampMs;
      this.#baseValue = value;
    }
    if (window.full) this.#leave();
    window.push(timestampMs, value);
    this.#add(timestampMs, value, 1);
    const oldestAllowed = timestampMs - this.#windowMs;
    while (window.timeAt(0) < oldestAllowed) this.#leave();
    if (this.#leftSinceRebase >= window.length) this.#rebase();

    this.#fit = undefined;
    this.#crossingMs = NaN;
    const n = window.length;
    if (n < this.#rule.minDataPoints) return UNKNOWN;
    const sxx = this.#sumXX - this.#sumX * this.#sumX / n;
    // All samples at one instant (or rounding to it): no line to speak of.
    if (!(sxx > 0)) return UNKNOWN;
    const sxy = this.#sumXY - this.#sumX * this.#sumY / n;
    const syy = this.#sumYY - this.#sumY * this.#sumY / n;
    const slope = sxy / sxx; // per second of x
    const intercept = (this.#sumY - slope * this.#sumX) / n;
    const rSquared = syy > 0 ? Math.min(1, Math.max(0, (slope * sxy) / syy)) : 1;
    const xNow = (timestampMs - this.#baseMs) / MS_PER_SECOND;
    this.#fit = {
      slope: slope / MS_PER_SECOND,
      valueAtOrigin: this.#baseValue + intercept + slope * xNow,
      originMs: timestampMs,
      rSquared,
    };
    if (slope === 0) return CLEAR;
    const crossingX = (this.#rule.predictThreshold - this.#baseValue - intercept) / slope;
    const crossingMs = this.#baseMs + crossingX * MS_PER_SECOND;
    this.#crossingMs = crossingMs;
    return crossingMs > timestampMs && crossingMs - timestampMs <= this.#horizonMs ? BREACH : CLEAR;
  }

  /** The line fitted at the last push, when there were enough samples. */
  fit(): LineFit | undefined {
    return this.#fit;
  }

  details(): VerdictDetails {
    const rule = this.#rule;
    const fit = this.#fit;
    const crossingMs = this.#crossingMs;
    if (!fit || Number.isNaN(crossingMs) || crossingMs <= this.#lastMs) {
      return {
        value: this.#lastValue,
        threshold: rule.predictThreshold,
        condition: `is ${formatNumber(this.#lastValue)}; no crossing of ` +
          `${formatNumber(rule.predictThreshold)} predicted`,
        rSquared: fit?.rSquared,
      };
    }
    const inSecs = Math.round((crossingMs - this.#lastMs) / MS_PER_SECOND);
    const within = crossingMs - this.#lastMs <= this.#horizonMs;
    return {
      value: this.#lastValue,
      threshold: rule.predictThreshold,
      condition: `is ${formatNumber(this.#lastValue)} and predicted to reach ` +
        `${formatNumber(rule.predictThreshold)} in ${formatDuration(inSecs)} at ` +
        `${new Date(crossingMs).toISOString()}${within ? "" : " (beyond the horizon)"} ` +
        `(R² ${fit.rSquared.toFixed(3)})`,
      predictedBreachMs: within ? Math.round(crossingMs) : undefined,
      rSquared: fit.rSquared,
    };
  }

  #add(timestampMs: number, value: number, sign: 1 | -1): void {
    const x = (timestampMs - this.#baseMs) / MS_PER_SECOND;
    const y = value - this.#baseValue;
    this.#sumX += sign * x;
    this.#sumY += sign * y;
    this.#sumXY += sign * x * y;
    this.#sumXX += sign * x * x;
    this.#sumYY += sign * y * y;
  }

  #leave(): void {
    const window = this.#window;
    this.#add(window.timeAt(0), window.valueAt(0), -1);
    window.shift();
    this.#leftSinceRebase++;
  }

  #rebase(): void {
    const window = this.#window;
    this.#baseMs = window.timeAt(0);
    this.#baseValue = window.valueAt(0);
    this.#sumX =
      this.#sumY =
      this.#sumXY =
      this.#sumXX =
      this.#sumYY =
        0;
    for (let i = 0; i < window.length; i++) this.#add(window.timeAt(i), window.valueAt(i), 1);
    this.#leftSinceRebase = 0;
  }
}

function formatDuration(secs: number): string {
  if (secs < 120) return `${secs}s`;
  if (secs < 7_200) return `${Math.round(secs / 60)}m`;
  if (secs < 172_800) return `${(secs / 3_600).toFixed(1)}h`;
  return `${(secs / 86_400).toFixed(1)}d`;
}
