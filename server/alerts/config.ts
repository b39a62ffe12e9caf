/**
 * `[alert]` section of the server TOML: `[[alert.rules]]` with the original oxmon keys, plus a
 * `labels` filter and the `agent_absent` rule type. Every problem is reported with its TOML path;
 * keys that do not belong to a rule's type are reported as unknown.
 */
import type { TableReader } from "../../shared/config/mod.ts";
import { compileGlob } from "../../shared/glob.ts";
import { type Labels, SEVERITIES, type Severity } from "../../shared/types.ts";

export const RULE_TYPES = [
  "threshold",
  "rate_of_change",
  "trend_prediction",
  "agent_absent",
  "cert_expiration",
  "check_failed",
] as const;
export type RuleType = typeof RULE_TYPES[number];

export const OPERATORS = [
  "greater_than",
  "less_than",
  "greater_equal",
  "less_equal",
  "equal",
  "not_equal",
] as const;
export type Operator = typeof OPERATORS[number];

/** Keys every rule type has. */
export interface RuleBase {
  name: string;
  type: RuleType;
  /** Metric name; for `agent_absent` empty means any metric. */
  metric: string;
  /** Glob over agent ids (`*`, `?`, `[...]`). */
  agentPattern: string;
  /** Only series carrying every one of these labels with exactly this value. */
  labels: Labels;
  severity: Severity;
  /** A series that keeps firing is raised again at most once per this many seconds. */
  silenceSecs: number;
}

export interface ThresholdRuleConfig extends RuleBase {
  type: "threshold";
  operator: Operator;
  value: number;
  /** Every sample across this span must breach; 0 fires on one sample. */
  durationSecs: number;
}

export interface RateOfChangeRuleConfig extends RuleBase {
  type: "rate_of_change";
  /** Percent; fires when |change| exceeds it. */
  rateThreshold: number;
  windowSecs: number;
}

export interface TrendPredictionRuleConfig extends RuleBase {
  type: "trend_prediction";
  predictThreshold: number;
  horizonSecs: number;
  minDataPoints: number;
  /** Span of samples the line is fitted to. */
  windowSecs: number;
}

export interface AgentAbsentRuleConfig extends RuleBase {
  type: "agent_absent";
  absentSecs: number;
}

export interface CertExpirationRuleConfig extends RuleBase {
  type: "cert_expiration";
  warningDays: number;
  criticalDays: number;
}

export interface CheckFailedRuleConfig extends RuleBase {
  type: "check_failed";
  /** Failed runs in a row before the rule fires. */
  consecutiveFailures: number;
  /** The failures must also span this long; 0: the count alone decides. */
  durationSecs: number;
}

export type AlertRuleConfig =
  | ThresholdRuleConfig
  | RateOfChangeRuleConfig
  | TrendPredictionRuleConfig
  | AgentAbsentRuleConfig
  | CertExpirationRuleConfig
  | CheckFailedRuleConfig;

export interface AlertConfig {
  rules: readonly AlertRuleConfig[];
}

export const DEFAULT_SILENCE_SECS = 600;
export const DEFAULT_RATE_WINDOW_SECS = 300;
export const DEFAULT_MIN_DATA_POINTS = 10;
export const CERT_METRIC = "certificate.days_until_expiry";
/** What `check_failed` judges: 1 when a check run succeeded, 0 when it failed. */
export const CHECK_UP_METRIC = "check.up";
export const DEFAULT_CONSECUTIVE_FAILURES = 3;

export function readAlertConfig(table: TableReader): AlertConfig {
  const rules: AlertRuleConfig[] = [];
  const firstPathOfName = new Map<string, string>();
  for (const rule of table.tables("rules")) {
    const parsed = readRule(rule);
    if (!parsed) continue;
    const earlier = firstPathOfName.get(parsed.name);
    if (earlier !== undefined) {
      rule.problem("name", `duplicate rule name "${parsed.name}" (also ${earlier})`);
      continue;
    }
    firstPathOfName.set(parsed.name, rule.pathOf("name"));
    rules.push(parsed);
  }
  table.finish();
  return { rules };
}

function readRule(rule: TableReader): AlertRuleConfig | undefined {
  const name = rule.string("name", { pattern: /\S/, patternHint: "a non-empty name" });
  const given = rule.accept("type");
  const type = rule.string("type", { oneOf: RULE_TYPES }) as RuleType;
  if (!(RULE_TYPES as readonly unknown[]).includes(given)) {
    // Without a known type the other keys cannot be judged; one problem is enough.
    acceptRest(rule);
    return undefined;
  }
  const metric = type === "agent_absent"
    ? rule.string("metric", { default: "" })
    : type === "cert_expiration"
    ? rule.string("metric", { default: CERT_METRIC, pattern: /\S/, patternHint: "a metric name" })
    : type === "check_failed"
    ? rule.string("metric", {
      default: CHECK_UP_METRIC,
      pattern: /\S/,
      patternHint: "a metric name",
    })
    : rule.string("metric", { pattern: /\S/, patternHint: "a metric name" });
  const agentPattern = rule.string("agent_pattern", { default: "*" });
  try {
    compileGlob(agentPattern);
  } catch {
    rule.problem("agent_pattern", `expected a glob like "web-*", got "${agentPattern}"`);
  }
  const base: RuleBase = {
    name,
    type,
    metric,
    agentPattern,
    labels: rule.stringMap("labels"),
    severity: rule.string("severity", { default: "warning", oneOf: SEVERITIES }) as Severity,
    silenceSecs: rule.integer("silence_secs", { default: DEFAULT_SILENCE_SECS, min: 0 }),
  };
  let parsed: AlertRuleConfig;
  switch (type) {
    case "threshold":
      parsed = {
        ...base,
        type,
        operator: rule.string("operator", { oneOf: OPERATORS }) as Operator,
        value: rule.number("value"),
        durationSecs: rule.integer("duration_secs", { default: 0, min: 0 }),
      };
      break;
    case "rate_of_change":
      parsed = {
        ...base,
        type,
        rateThreshold: rule.number("rate_threshold", { above: 0 }),
        windowSecs: rule.integer("window_secs", { default: DEFAULT_RATE_WINDOW_SECS, min: 1 }),
      };
      break;
    case "trend_prediction":
      parsed = {
        ...base,
        type,
        predictThreshold: rule.number("predict_threshold"),
        horizonSecs: rule.integer("horizon_secs", { min: 1 }),
        minDataPoints: rule.integer("min_data_points", {
          default: DEFAULT_MIN_DATA_POINTS,
          min: 2,
        }),
        // The original fitted over max(silence_secs, 600) seconds of samples; keep that default.
        windowSecs: rule.integer("window_secs", {
          default: Math.max(base.silenceSecs, 600),
          min: 1,
        }),
      };
      break;
    case "agent_absent":
      parsed = { ...base, type, absentSecs: rule.integer("absent_secs", { min: 1 }) };
      break;
    case "cert_expiration": {
      const warningDays = rule.number("warning_days", { default: 30 });
      const criticalDays = rule.number("critical_days", { default: 7 });
      if (criticalDays > warningDays) {
        rule.problem(
          "critical_days",
          `expected at most warning_days (${warningDays}), got ${criticalDays}`,
        );
      }
      parsed = { ...base, type, warningDays, criticalDays };
      break;
    }
    case "check_failed": {
      const durationSecs = rule.integer("duration_secs", { default: 0, min: 0 });
      parsed = {
        ...base,
        type,
        // With only a duration given, the duration alone decides.
        consecutiveFailures: rule.integer("consecutive_failures", {
          default: rule.has("duration_secs") ? 1 : DEFAULT_CONSECUTIVE_FAILURES,
          min: 1,
        }),
        durationSecs,
      };
      break;
    }
  }
  rule.finish();
  return parsed;
}

function acceptRest(rule: TableReader): void {
  for (
    const key of [
      "metric",
      "agent_pattern",
      "labels",
      "severity",
      "silence_secs",
      "operator",
      "value",
      "duration_secs",
      "rate_threshold",
      "window_secs",
      "predict_threshold",
      "horizon_secs",
      "min_data_points",
      "absent_secs",
      "warning_days",
      "critical_days",
      "consecutive_failures",
    ]
  ) rule.accept(key);
  rule.finish();
}
