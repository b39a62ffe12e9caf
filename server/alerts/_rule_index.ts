/**
 * Which rules apply to a point: each rule compiled once (agent glob with a per-agent cache, label
 * filter, silence and retention in ms), indexed by metric name, so the engine does one map lookup
 * per sample to find the rules of its metric and matches agent and labels once per new series.
 *
 * Sample-driven rules judge a series; `agent_absent` rules take any matching point as a sign of
 * life of its agent, so they are indexed by how wide they listen: one metric, any metric with a
 * label filter, or any point at all.
 */
import { compileGlob } from "../../shared/glob.ts";
import { MS_PER_DAY, MS_PER_SECOND } from "../../shared/time.ts";
import type { Labels, MetricDataPoint } from "../../shared/types.ts";
import type { AgentAbsentRuleConfig, AlertRuleConfig } from "./config.ts";
import { labelsMatch } from "./_series.ts";

/** Every rule type judged on samples of one series. */
export type SampleRuleConfig = Exclude<AlertRuleConfig, AgentAbsentRuleConfig>;

export interface CompiledRule<R extends AlertRuleConfig = AlertRuleConfig> {
  readonly config: R;
  readonly silenceMs: number;
  /** How long a silent series is kept (and an alert on it stays firing). */
  readonly retainMs: number;
  /** Severity comes from the value (cert_expiration): a change is raised at once. */
  readonly dynamicSeverity: boolean;
  /** The rule watches an agent rather than one series (agent_absent). */
  readonly perAgent: boolean;
  /** Whether the point's agent matches `agent_pattern` and its labels carry the rule's `labels`. */
  matches(agentId: string, labels: Labels): boolean;
}

export type SampleRule = CompiledRule<SampleRuleConfig>;
export type PresenceRule = CompiledRule<AgentAbsentRuleConfig>;

export interface RuleIndexOptions {
  /** The least time a silent series is kept (the engine's `staleAfterMs`). */
  staleAfterMs: number;
  /**
   * Agent ids no `agent_absent` rule watches: the server's own identities (`cert-checker`,
   * `oxmon-server`), whose samples come when a check is due, not every few seconds.
   */
  unwatchedAgents?: ReadonlySet<string>;
}

/**
 * How long a silent `check_failed` series is kept (and its alert stays firing): a check may run
 * only once a day, and "no data" between two runs must not resolve its alert.
 */
export const CHECK_SERIES_RETAIN_MS = 2 * MS_PER_DAY;

export class RuleIndex {
  /** `agent_absent` rules with no metric and no label filter: any point of the agent counts. */
  readonly presenceOnAnyPoint: readonly PresenceRule[];
  /** `agent_absent` rules with no metric but a label filter: any point carrying those labels. */
  readonly presenceOnLabelledPoint: readonly PresenceRule[];
  readonly #presenceByMetric = new Map<string, PresenceRule[]>();
  readonly #sampleByMetric = new Map<string, SampleRule[]>();
  readonly #byName = new Map<string, SampleRule | PresenceRule>();

  constructor(rules: readonly AlertRuleConfig[], options: RuleIndexOptions) {
    const anyPoint: PresenceRule[] = [];
    const labelled: PresenceRule[] = [];
    for (const config of rules) {
      if (config.type === "agent_absent") {
        const rule = compile(config, options.staleAfterMs, options.unwatchedAgents);
        if (config.metric !== "") pushTo(this.#presenceByMetric, config.metric, rule);
        else if (Object.keys(config.labels).length === 0) anyPoint.push(rule);
        else labelled.push(rule);
        this.#byName.set(config.name, rule);
      } else {
        const rule = compile(config, options.staleAfterMs);
        pushTo(this.#sampleByMetric, config.metric, rule);
        this.#byName.set(config.name, rule);
      }
    }
    this.presenceOnAnyPoint = anyPoint;
    this.presenceOnLabelledPoint = labelled;
  }

  /** Names of every configured rule. */
  names(): string[] {
    return [...this.#byName.keys()];
  }

  /** The sample-driven rule of that name, if one is configured. */
  sampleRule(name: string): SampleRule | undefined {
    const rule = this.#byName.get(name);
    return rule && !isPresence(rule) ? rule : undefined;
  }

  /** The `agent_absent` rule of that name, if one is configured. */
  presenceRule(name: string): PresenceRule | undefined {
    const rule = this.#byName.get(name);
    return rule && isPresence(rule) ? rule : undefined;
  }

  /** Sample-driven rules on this metric (agent and labels still to match); none: undefined. */
  sampleRulesOn(metricName: string): readonly SampleRule[] | undefined {
    return this.#sampleByMetric.get(metricName);
  }

  /** `agent_absent` rules watching this metric (agent and labels still to match). */
  presenceRulesOn(metricName: string): readonly PresenceRule[] | undefined {
    return this.#presenceByMetric.get(metricName);
  }
}

/** The rules of `candidates` that apply to the point's series. */
export function rulesMatching<R extends CompiledRule>(
  candidates: readonly R[],
  point: MetricDataPoint,
): R[] {
  return candidates.filter((rule) => rule.matches(point.agentId, point.labels));
}

function isPresence(rule: SampleRule | PresenceRule): rule is PresenceRule {
  return rule.config.type === "agent_absent";
}

function compile<R extends AlertRuleConfig>(
  config: R,
  staleAfterMs: number,
  unwatchedAgents?: ReadonlySet<string>,
): CompiledRule<R> {
  const pattern = compileGlob(config.agentPattern);
  const agentMatches = new Map<string, boolean>();
  const labelFilter = Object.entries(config.labels);
  const windowSecs = config.type === "threshold"
    ? config.durationSecs
    : config.type === "rate_of_change" || config.type === "trend_prediction"
    ? config.windowSecs
    : config.type === "check_failed"
    ? config.durationSecs
    : 0;
  const leastRetainMs = config.type === "check_failed"
    ? Math.max(staleAfterMs, CHECK_SERIES_RETAIN_MS)
    : staleAfterMs;
  return {
    config,
    silenceMs: config.silenceSecs * MS_PER_SECOND,
    retainMs: Math.max(leastRetainMs, windowSecs * MS_PER_SECOND),
    dynamicSeverity: config.type === "cert_expiration",
    perAgent: config.type === "agent_absent",
    matches(agentId, labels) {
      let match = agentMatches.get(agentId);
      if (match === undefined) {
        match = pattern(agentId) && !unwatchedAgents?.has(agentId);
        agentMatches.set(agentId, match);
      }
      return match && labelsMatch(labelFilter, labels);
    },
  };
}

function pushTo<T>(map: Map<string, T[]>, key: string, value: T): void {
  const list = map.get(key);
  if (list) list.push(value);
  else map.set(key, [value]);
}
