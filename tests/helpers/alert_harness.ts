/** Test support for the alert engine: rule builders and an engine over a temporary alerts.db. */
import { join } from "node:path";
import { ManualClock } from "../../shared/clock.ts";
import type { AlertEvent, Labels, MetricDataPoint } from "../../shared/types.ts";
import type { AlertRuleConfig, ThresholdRuleConfig } from "../../server/alerts/config.ts";
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
