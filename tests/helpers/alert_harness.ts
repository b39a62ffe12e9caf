/**
 * Test support for alerts: rule and event builders, and an engine over a temporary alerts.db.
 */
import { join } from "node:path";
import { ManualClock } from "../../shared/clock.ts";
import type { AlertEvent, Labels, MetricDataPoint } from "../../shared/types.ts";
import type {
  AgentAbsentRuleConfig,
  AlertRuleConfig,
  CheckFailedRuleConfig,
  RateOfChangeRuleConfig,
  ThresholdRuleConfig,
  TrendPredictionRuleConfig,
} from "../../server/alerts/config.ts";
import {
  type AlertEngine,
  type AlertEngineOptions,
  openAlertEngine,
} from "../../server/alerts/engine.ts";

export const T0 = Date.UTC(2026, 0, 1);

/** `high-cpu`: cpu.usage > 90 on any agent, critical, silence 300 s. */
export function threshold(overrides: Partial<ThresholdRuleConfig> = {}): ThresholdRuleConfig {
  return {
    name: "high-cpu",
    type: "threshold",
    metric: "cpu.usage",
    agentPattern: "*",
    labels: {},
    severity: "critical",
    silenceSecs: 300,
    operator: "greater_than",
    value: 90,
    durationSecs: 0,
    ...overrides,
  };
}

/** `memory-spike`: memory.used_percent rising by 20 % within 300 s, warning, silence 600 s. */
export function rateOfChange(
  overrides: Partial<RateOfChangeRuleConfig> = {},
): RateOfChangeRuleConfig {
  return {
    name: "memory-spike",
    type: "rate_of_change",
    metric: "memory.used_percent",
    agentPattern: "*",
    labels: {},
    severity: "warning",
    silenceSecs: 600,
    rateThreshold: 20,
    windowSecs: 300,
    ...overrides,
  };
}

/**
 * `disk-full-prediction`: disk.used_percent reaching 95 within a day by the trend of the last
 * hour (10 points at least), info, silence 3600 s.
 */
export function trendPrediction(
  overrides: Partial<TrendPredictionRuleConfig> = {},
): TrendPredictionRuleConfig {
  return {
    name: "disk-full-prediction",
    type: "trend_prediction",
    metric: "disk.used_percent",
    agentPattern: "*",
    labels: {},
    severity: "info",
    silenceSecs: 3600,
    predictThreshold: 95,
    horizonSecs: 86_400,
    minDataPoints: 10,
    windowSecs: 3600,
    ...overrides,
  };
}

/** `agent-down`: any agent silent for 120 s, critical, silence 600 s. */
export function agentAbsent(overrides: Partial<AgentAbsentRuleConfig> = {}): AgentAbsentRuleConfig {
  return {
    name: "agent-down",
    type: "agent_absent",
    metric: "",
    agentPattern: "*",
    labels: {},
    severity: "critical",
    silenceSecs: 600,
    absentSecs: 120,
    ...overrides,
  };
}

/** `check-down`: a check failing 3 runs in a row, critical, silence 600 s. */
export function checkFailed(overrides: Partial<CheckFailedRuleConfig> = {}): CheckFailedRuleConfig {
  return {
    name: "check-down",
    type: "check_failed",
    metric: "check.up",
    agentPattern: "*",
    labels: {},
    severity: "critical",
    silenceSecs: 600,
    consecutiveFailures: 3,
    durationSecs: 0,
    ...overrides,
  };
}

/** A firing `high-cpu` event of web-1 (cpu.usage 95 > 90, critical) at 2026-01-02 12:00 UTC. */
export function alertEvent(overrides: Partial<AlertEvent> = {}): AlertEvent {
  return {
    id: "ev-1",
    ruleName: "high-cpu",
    ruleType: "threshold",
    agentId: "web-1",
    metricName: "cpu.usage",
    labels: {},
    severity: "critical",
    status: "firing",
    message: "CPU hot",
    value: 95,
    threshold: 90,
    timestampMs: Date.UTC(2026, 0, 2, 12),
    ...overrides,
  };
}

export interface Harness {
  engine: AlertEngine;
  clock: ManualClock;
  /** Every event handed to `onEvent`, in order. */
  events: AlertEvent[];
  statePath: string;
  /** Observes one sample of `metric` from `agent` stamped with the clock's time. */
  sample(agent: string, metric: string, value: number, labels?: Labels): void;
  /** Closes the engine and opens a new one over the same file and clock. */
  reopen(options?: Partial<AlertEngineOptions>): void;
}

export interface HarnessOptions extends Partial<AlertEngineOptions> {
  /** Runs before the engine first opens, e.g. to write an alerts.db of an older version. */
  setup?: (statePath: string, clock: ManualClock) => void;
}

/** Runs `fn` with an engine over a fresh alerts.db in a temporary folder, removed afterwards. */
export async function withEngine(
  rules: AlertRuleConfig[],
  fn: (h: Harness) => void | Promise<void>,
  options: HarnessOptions = {},
): Promise<void> {
  const { setup, ...engineOptions } = options;
  const dir = await Deno.makeTempDir({ prefix: "oxmon-alerts-" });
  const statePath = join(dir, "alerts.db");
  const clock = new ManualClock(T0);
  const events: AlertEvent[] = [];
  const open = (more: Partial<AlertEngineOptions> = {}) =>
    openAlertEngine({
      rules,
      statePath,
      clock,
      onEvent: (e) => void events.push(e),
      ...engineOptions,
      ...more,
    });
  let h: Harness | undefined;
  try {
    setup?.(statePath, clock);
    h = {
      engine: open(),
      clock,
      events,
      statePath,
      sample(agentId, metricName, value, labels = {}) {
        const point: MetricDataPoint = {
          agentId,
          metricName,
          value,
          labels,
          timestampMs: clock.now(),
        };
        h!.engine.observe([point]);
      },
      reopen(more) {
        h!.engine.close();
        h!.engine = open(more);
      },
    };
    await fn(h);
  } finally {
    h?.engine.close();
    await Deno.remove(dir, { recursive: true });
  }
}

/** `status:agent` of each event, for compact assertions. */
export const statuses = (events: AlertEvent[]) => events.map((e) => `${e.status}:${e.agentId}`);
