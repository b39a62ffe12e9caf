/**
 * `type = "cert_expiration"` (original oxmon): a threshold on the latest days-until-expiry value
 * with two levels: at or below `critical_days` it is critical, at or below `warning_days` a
 * warning. The rule's own `severity` key is accepted and ignored, as in the original.
 */
import type { CertExpirationRuleConfig } from "./config.ts";
import {
  BREACH,
  CLEAR,
  formatNumber,
  type SeriesEvaluator,
  type Verdict,
  type VerdictDetails,
} from "./_evaluator.ts";

export class CertExpirationEvaluator implements SeriesEvaluator {
  readonly #rule: CertExpirationRuleConfig;
  #days = NaN;

  constructor(rule: CertExpirationRuleConfig) {
    this.#rule = rule;
  }

  push(_timestampMs: number, value: number): Verdict {
    this.#days = value;
    return value <= this.#rule.warningDays ? BREACH : CLEAR;
  }

  details(): VerdictDetails {
    const days = this.#days;
    const rule = this.#rule;
    if (days <= rule.criticalDays) {
      return {
        value: days,
        threshold: rule.criticalDays,
        severity: "critical",
        condition: days <= 0
          ? `certificate expired ${formatNumber(-days)} days ago`
          : `certificate expires in ${formatNumber(days)} days (critical at ${rule.criticalDays})`,
      };
    }
    if (days <= rule.warningDays) {
      return {
        value: days,
        threshold: rule.warningDays,
        severity: "warning",
        condition: `certificate expires in ${
          formatNumber(days)
        } days (warning at ${rule.warningDays})`,
      };
    }
    return {
      value: days,
      threshold: rule.warningDays,
      condition: `certificate expires in ${formatNumber(days)} days`,
    };
  }
}
