/** Every rule type and the evaluator that judges one series (or agent) for it. */
import type { AgentAbsentRuleConfig, AlertRuleConfig } from "./config.ts";
import type { SeriesEvaluator } from "./_evaluator.ts";
import { AgentAbsentEvaluator } from "./agent_absent.ts";
import { CertExpirationEvaluator } from "./cert_expiration.ts";
import { CheckFailedEvaluator } from "./check_failed.ts";
import { RateOfChangeEvaluator } from "./rate_of_change.ts";
import { ThresholdEvaluator } from "./threshold.ts";
import { TrendPredictionEvaluator } from "./trend_prediction.ts";

export interface EvaluatorOptions {
  /** Most samples kept in one series' window (rate of change, trend prediction). */
  maxWindowPoints: number;
}

/** A fresh evaluator for one series (one agent, for `agent_absent`) under `rule`. */
export function createEvaluator(
  rule: AgentAbsentRuleConfig,
  options: EvaluatorOptions,
): AgentAbsentEvaluator;
export function createEvaluator(rule: AlertRuleConfig, options: EvaluatorOptions): SeriesEvaluator;
export function createEvaluator(rule: AlertRuleConfig, options: EvaluatorOptions): SeriesEvaluator {
  switch (rule.type) {
    case "threshold":
      return new ThresholdEvaluator(rule);
    case "rate_of_change":
      return new RateOfChangeEvaluator(rule, options);
    case "trend_prediction":
      return new TrendPredictionEvaluator(rule, options);
    case "cert_expiration":
      return new CertExpirationEvaluator(rule);
    case "check_failed":
      return new CheckFailedEvaluator(rule);
    case "agent_absent":
      return new AgentAbsentEvaluator(rule);
  }
}
