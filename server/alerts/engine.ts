/**
 * The alert engine: evaluates every rule per series (agent + metric + labels) on newly committed
 * samples, raises and resolves alerts, keeps their state and history in SQLite, and hands each
 * event to `onEvent`.
 *
 * `observe` sits on the ingest path, so it only does O(1) work per sample and matching rule: one
 * map lookup by metric name, one by series key (the rules matching a series are worked out once,
 * when the series is first seen), and an incremental evaluator per (rule, series). SQLite is
 * touched only when something fires or resolves, once per `observe` call. `tick` does what depends
 * on time alone: absent agents, and forgetting series that stopped reporting.
 */
import { type Clock, systemClock } from "../../shared/clock.ts";
import { compileGlob } from "../../shared/glob.ts";
import { type Logger, silentLogger } from "../../shared/log.ts";
import type { AlertEvent, Labels, MetricDataPoint, Severity } from "../../shared/types.ts";
import { severityRank } from "../../shared/types.ts";
import type { AgentAbsentRuleConfig, AlertRuleConfig } from "./config.ts";
import { AgentAbsentEvaluator } from "./agent_absent.ts";
import { CertExpirationEvaluator } from "./cert_expiration.ts";
import { RateOfChangeEvaluator } from "./rate_of_change.ts";
import { ThresholdEvaluator } from "./threshold.ts";
import { TrendPredictionEvaluator } from "./trend_prediction.ts";
import {
  BREACH,
  CLEAR,
  formatSecs,
  type SeriesEvaluator,
  type Verdict,
  type VerdictDetails,
} from "./_evaluator.ts";
import { formatSeries, labelsMatch, seriesKey } from "./_series.ts";
import { AlertStore, type HistoryPage, type HistoryQuery, type StoredAlertState } from "./store.ts";

export interface AlertEngineOptions {
  rules: readonly AlertRuleConfig[];
  /** SQLite file for alert state and history, e.g. `<data_dir>/alerts.db`; created if missing. */
  statePath: string;
  /** Default: the system clock. */
  clock?: Clock;
  /** Default: a silent logger. */
  log?: Logger;
  /**
   * Receives every event after it is recorded. Called synchronously from `observe`/`tick`, so it
   * should only enqueue; a throw or a rejected promise is logged and does not stop the engine.
   */
  onEvent?: (event: AlertEvent) => void | Promise<void>;
  /**
   * A series with no sample for this long (or its rule's window, if longer) is forgotten, and
   * an alert firing on it resolves ("no data"). Default 15 minutes.
   */
  staleAfterMs?: number;
  /** Most samples kept in one series' window; beyond it the oldest are dropped. Default 10,000. */
  maxWindowPoints?: number;
}

/**
 * A series that is firing now. `value` and `message` are those of the latest notification;
 * `currentValue` is the series' newest sample judged (absent for `agent_absent`, and after a
 * restart until the series reports again).
 */
export interface ActiveAlert {
  ruleName: string;
  ruleType: string;
  agentId: string;
  metricName: string;
  labels: Labels;
  severity: Severity;
  message: string;
  value: number;
  threshold: number;
  /** When it started firing. */
  sinceMs: number;
  /** When it was last raised (it is raised again once `silence_secs` have passed). */
  lastNotifiedMs: number;
  predictedBreachMs?: number;
  rSquared?: number;
  currentValue?: number;
  /** The timestamp of `currentValue`. */
  currentAtMs?: number;
}

export const DEFAULT_STALE_AFTER_MS = 15 * 60_000;
export const DEFAULT_MAX_WINDOW_POINTS = 10_000;

interface RuleRuntime {
  rule: AlertRuleConfig;
  silenceMs: number;
  /** How long a silent series is kept (and an alert on it stays firing). */
  retainMs: number;
  labelFilter: [string, string][];
  matchesAgent(agentId: string): boolean;
  /** Severity comes from the value (cert_expiration): a change is raised at once. */
  dynamicSeverity: boolean;
}

interface Firing {
  sinceMs: number;
  lastNotifiedMs: number;
  severity: Severity;
  value: number;
  threshold: number;
  message: string;
  predictedBreachMs?: number;
  rSquared?: number;
}

/** One (rule, series) pair. */
interface Tracked {
  runtime: RuleRuntime;
  /** `rule name \0 series key`: the key of `#active` and of the state table. */
  activeKey: string;
  seriesKey: string;
  agentId: string;
  metricName: string;
  labels: Labels;
  evaluator: { details(): VerdictDetails };
  firing: Firing | undefined;
}

interface SampleTracked extends Tracked {
  evaluator: SeriesEvaluator;
  /** Newest sample timestamp judged; older ones (late data, retries) are skipped. */
  lastSampleMs: number;
  /** The value of that sample: an active alert's current value. */
  lastValue?: number;
}

interface AbsentTracked extends Tracked {
  evaluator: AgentAbsentEvaluator;
}

interface SeriesEntry {
  /** Rules that match this series; empty for series no rule cares about. */
  tracked: SampleTracked[];
  /** Server time of the latest sample. */
  lastSeenMs: number;
  retainMs: number;
}

interface AbsentRuntime extends RuleRuntime {
  rule: AgentAbsentRuleConfig;
  byAgent: Map<string, AbsentTracked>;
}

export class AlertEngine {
  readonly rules: readonly AlertRuleConfig[];
  readonly #store: AlertStore;
  readonly #clock: Clock;
  readonly #log: Logger;
  readonly #onEvent: (event: AlertEvent) => void | Promise<void>;
  readonly #staleAfterMs: number;
  readonly #maxWindowPoints: number;
  /** Sample-driven rules by metric name. */
  readonly #byMetric = new Map<string, RuleRuntime[]>();
  readonly #absentByMetric = new Map<string, AbsentRuntime[]>();
  /** Absent rules on any metric: without a label filter any point of the agent counts. */
  readonly #absentAnyPoint: AbsentRuntime[] = [];
  readonly #absentAnyLabelled: AbsentRuntime[] = [];
  readonly #absent: AbsentRuntime[] = [];
  readonly #series = new Map<string, SeriesEntry>();
  readonly #active = new Map<string, Tracked>();
  /** Firing state loaded at start for series not seen since; attached on their first sample. */
  readonly #restored = new Map<string, { tracked: SampleTracked; restoredAtMs: number }>();
  readonly #dirtySeen = new Set<AbsentTracked>();
  #pendingEvents: AlertEvent[] = [];
  #pendingStates = new Map<
    string,
    { ruleName: string; seriesKey: string; state?: StoredAlertState }
  >();
  #closed = false;

  constructor(options: AlertEngineOptions) {
    this.rules = options.rules;
    this.#clock = options.clock ?? systemClock;
    this.#log = options.log ?? silentLogger;
    this.#onEvent = options.onEvent ?? (() => {});
    this.#staleAfterMs = options.staleAfterMs ?? DEFAULT_STALE_AFTER_MS;
    this.#maxWindowPoints = options.maxWindowPoints ?? DEFAULT_MAX_WINDOW_POINTS;
    if (!(this.#staleAfterMs > 0)) {
      throw new RangeError(`Cannot start the alert engine: staleAfterMs must be > 0`);
    }
    if (!Number.isInteger(this.#maxWindowPoints) || this.#maxWindowPoints < 2) {
      throw new RangeError(
        `Cannot start the alert engine: maxWindowPoints must be an integer >= 2`,
      );
    }
    const runtimes = new Map<string, RuleRuntime>();
    for (const rule of options.rules) {
      const runtime = this.#runtime(rule);
      runtimes.set(rule.name, runtime);
      if (rule.type === "agent_absent") {
        const absent: AbsentRuntime = { ...runtime, rule, byAgent: new Map() };
        this.#absent.push(absent);
        runtimes.set(rule.name, absent);
        if (rule.metric !== "") pushTo(this.#absentByMetric, rule.metric, absent);
        else if (runtime.labelFilter.length === 0) this.#absentAnyPoint.push(absent);
        else this.#absentAnyLabelled.push(absent);
      } else pushTo(this.#byMetric, rule.metric, runtime);
    }
    this.#store = new AlertStore(options.statePath);
    try {
      this.#restore(runtimes);
    } catch (error) {
      this.#store.close();
      throw error;
    }
  }

  /**
   * Judges newly committed samples. Never throws: a failure is logged, so ingest goes on.
   * Samples not newer than the last one judged for their series are skipped.
   */
  observe(points: readonly MetricDataPoint[]): void {
    if (this.#closed || points.length === 0) return;
    const nowMs = this.#clock.now();
    let previousAgent: string | undefined;
    let failures = 0;
    let firstError: unknown;
    for (const point of points) {
      try {
        // Batches come grouped by agent, and within one call the time is the same: an
        // agent-wide absent rule needs to see each run of an agent's points only once.
        if (point.agentId !== previousAgent) {
          previousAgent = point.agentId;
          for (const runtime of this.#absentAnyPoint) this.#sawAgent(runtime, point, nowMs);
        }
        this.#observePoint(point, nowMs);
      } catch (error) {
        failures++;
        firstError ??= error;
      }
    }
    if (failures > 0) {
      this.#log.error("alert evaluation failed", { points: failures, error: firstError });
    }
    this.#flush(false);
  }

  /** Time-driven work: absent agents, series gone silent. Run it every few seconds. */
  tick(nowMs: number = this.#clock.now()): void {
    if (this.#closed) return;
    try {
      for (const runtime of this.#absent) {
        for (const tracked of runtime.byAgent.values()) {
          const verdict = tracked.evaluator.check(nowMs);
          if (verdict === BREACH || tracked.firing) this.#judge(tracked, verdict, nowMs);
        }
      }
      for (const [key, entry] of this.#series) {
        const silentMs = nowMs - entry.lastSeenMs;
        if (silentMs <= entry.retainMs) continue;
        for (const tracked of entry.tracked) {
          if (tracked.firing) this.#resolveForLackOfData(tracked, silentMs, nowMs);
        }
        this.#series.delete(key);
      }
      for (const [key, { tracked, restoredAtMs }] of this.#restored) {
        const silentMs = nowMs - restoredAtMs;
        if (silentMs <= tracked.runtime.retainMs) continue;
        this.#resolveForLackOfData(tracked, silentMs, nowMs);
        this.#restored.delete(key);
      }
    } catch (error) {
      this.#log.error("alert tick failed", { error });
    }
    this.#flush(true);
  }

  /** What is firing now, most severe first, then oldest first. */
  active(): ActiveAlert[] {
    const alerts: ActiveAlert[] = [];
    for (const tracked of this.#active.values()) {
      const firing = tracked.firing!;
      const alert: ActiveAlert = {
        ruleName: tracked.runtime.rule.name,
        ruleType: tracked.runtime.rule.type,
        agentId: tracked.agentId,
        metricName: tracked.metricName,
        labels: tracked.labels,
        severity: firing.severity,
        message: firing.message,
        value: firing.value,
        threshold: firing.threshold,
        sinceMs: firing.sinceMs,
        lastNotifiedMs: firing.lastNotifiedMs,
      };
      if (firing.predictedBreachMs !== undefined) {
        alert.predictedBreachMs = firing.predictedBreachMs;
      }
      if (firing.rSquared !== undefined) alert.rSquared = firing.rSquared;
      const sampled = tracked as Partial<SampleTracked>;
      if (sampled.lastValue !== undefined) {
        alert.currentValue = sampled.lastValue;
        alert.currentAtMs = sampled.lastSampleMs;
      }
      alerts.push(alert);
    }
    return alerts.sort((a, b) =>
      severityRank(b.severity) - severityRank(a.severity) || a.sinceMs - b.sinceMs ||
      (a.ruleName < b.ruleName ? -1 : a.ruleName > b.ruleName ? 1 : 0)
    );
  }

  /** Recorded events, newest first, with the total for paging. */
  history(query: HistoryQuery = {}): HistoryPage {
    return this.#store.history(query);
  }

  /** Deletes recorded events older than `cutoffMs` (for the retention task); returns how many. */
  deleteHistoryBefore(cutoffMs: number): number {
    return this.#store.deleteHistoryBefore(cutoffMs);
  }

  /** Records when absent-watched agents were last seen and closes the database. */
  close(): void {
    if (this.#closed) return;
    this.#flush(true);
    this.#closed = true;
    this.#store.close();
  }

  #runtime(rule: AlertRuleConfig): RuleRuntime {
    const pattern = compileGlob(rule.agentPattern);
    const matches = new Map<string, boolean>();
    const windowSecs = rule.type === "threshold"
      ? rule.durationSecs
      : rule.type === "rate_of_change" || rule.type === "trend_prediction"
      ? rule.windowSecs
      : 0;
    return {
      rule,
      silenceMs: rule.silenceSecs * 1000,
      retainMs: Math.max(this.#staleAfterMs, windowSecs * 1000),
      labelFilter: Object.entries(rule.labels),
      dynamicSeverity: rule.type === "cert_expiration",
      matchesAgent(agentId) {
        let match = matches.get(agentId);
        if (match === undefined) {
          match = pattern(agentId);
          matches.set(agentId, match);
        }
        return match;
      },
    };
  }

  #newEvaluator(rule: AlertRuleConfig): SeriesEvaluator {
    const options = { maxWindowPoints: this.#maxWindowPoints };
    switch (rule.type) {
      case "threshold":
        return new ThresholdEvaluator(rule);
      case "rate_of_change":
        return new RateOfChangeEvaluator(rule, options);
      case "trend_prediction":
        return new TrendPredictionEvaluator(rule, options);
      case "cert_expiration":
        return new CertExpirationEvaluator(rule);
      case "agent_absent":
        throw new TypeError(`Cannot evaluate agent_absent rule "${rule.name}" per sample`);
    }
  }

  #restore(runtimes: Map<string, RuleRuntime>): void {
    const nowMs = this.#clock.now();
    const dropped = this.#store.dropRulesOtherThan([...runtimes.keys()]);
    if (dropped > 0) {
      this.#log.info("dropped alert state of rules no longer configured", { dropped });
    }
    const states = this.#store.loadStates();
    const firing = new Set(states.map((state) => activeKeyOf(state.ruleName, state.agentId)));
    for (const seen of this.#store.loadAbsentSeen()) {
      const runtime = runtimes.get(seen.ruleName);
      if (runtime?.rule.type !== "agent_absent") continue;
      // The server saw nothing while it was down: an agent not already absent gets a full
      // absent_secs from start-up, or every restart after a long outage would page for every
      // agent, and resolve seconds later. One already firing keeps its real last-seen time.
      const key = activeKeyOf(seen.ruleName, seen.agentId);
      const lastSeenMs = firing.has(key) ? seen.lastSeenMs : Math.max(seen.lastSeenMs, nowMs);
      this.#absentTracked(runtime as AbsentRuntime, seen.agentId, lastSeenMs);
    }
    for (const state of states) {
      const runtime = runtimes.get(state.ruleName);
      if (!runtime) continue;
      const firing: Firing = {
        sinceMs: state.sinceMs,
        lastNotifiedMs: state.lastNotifiedMs,
        severity: state.severity,
        value: state.value,
        threshold: state.threshold,
        message: state.message,
        predictedBreachMs: state.predictedBreachMs,
        rSquared: state.rSquared,
      };
      let tracked: Tracked;
      if (runtime.rule.type === "agent_absent") {
        // Normally its last-seen row exists; without it, assume the silence that raised it.
        const absent = runtime as AbsentRuntime;
        const silentSince = state.sinceMs - absent.rule.absentSecs * 1000;
        tracked = this.#absentTracked(absent, state.agentId, silentSince);
      } else {
        const sampleTracked: SampleTracked = {
          runtime,
          activeKey: activeKeyOf(runtime.rule.name, state.seriesKey),
          seriesKey: state.seriesKey,
          agentId: state.agentId,
          metricName: state.metricName,
          labels: state.labels,
          evaluator: this.#newEvaluator(runtime.rule),
          lastSampleMs: -Infinity,
          firing: undefined,
        };
        this.#restored.set(sampleTracked.activeKey, {
          tracked: sampleTracked,
          restoredAtMs: nowMs,
        });
        tracked = sampleTracked;
      }
      tracked.firing = firing;
      this.#active.set(tracked.activeKey, tracked);
    }
    if (this.#active.size > 0) {
      this.#log.info("alert state restored", { firing: this.#active.size });
    }
  }

  #absentTracked(runtime: AbsentRuntime, agentId: string, lastSeenMs: number): AbsentTracked {
    let tracked = runtime.byAgent.get(agentId);
    if (!tracked) {
      tracked = {
        runtime,
        activeKey: activeKeyOf(runtime.rule.name, agentId),
        seriesKey: agentId,
        agentId,
        metricName: runtime.rule.metric,
        labels: runtime.rule.labels,
        evaluator: new AgentAbsentEvaluator(runtime.rule, lastSeenMs),
        firing: undefined,
      };
      runtime.byAgent.set(agentId, tracked);
    }
    return tracked;
  }

  #observePoint(point: MetricDataPoint, nowMs: number): void {
    for (const runtime of this.#absentAnyLabelled) this.#sawAgent(runtime, point, nowMs);
    const absent = this.#absentByMetric.get(point.metricName);
    if (absent) { for (const runtime of absent) this.#sawAgent(runtime, point, nowMs); }

    const runtimes = this.#byMetric.get(point.metricName);
    if (!runtimes) return;
    const key = seriesKey(point.agentId, point.metricName, point.labels);
    let entry = this.#series.get(key);
    if (!entry) entry = this.#trackSeries(key, point, runtimes, nowMs);
    entry.lastSeenMs = nowMs;
    const timestampMs = point.timestampMs;
    for (const tracked of entry.tracked) {
      if (timestampMs <= tracked.lastSampleMs) continue;
      tracked.lastSampleMs = timestampMs;
      tracked.lastValue = point.value;
      const verdict = tracked.evaluator.push(timestampMs, point.value);
      if (verdict === BREACH || (verdict === CLEAR && tracked.firing)) {
        this.#judge(tracked, verdict, nowMs);
      }
    }
  }

  #sawAgent(runtime: AbsentRuntime, point: MetricDataPoint, nowMs: number): void {
    if (!runtime.matchesAgent(point.agentId)) return;
    if (runtime.labelFilter.length > 0 && !labelsMatch(runtime.labelFilter, point.labels)) return;
    const tracked = this.#absentTracked(runtime, point.agentId, -Infinity);
    if (tracked.evaluator.lastSeenMs < nowMs) {
      tracked.evaluator.seen(nowMs);
      this.#dirtySeen.add(tracked);
    }
    if (tracked.firing) this.#judge(tracked, CLEAR, nowMs);
  }

  #trackSeries(
    key: string,
    point: MetricDataPoint,
    runtimes: readonly RuleRuntime[],
    nowMs: number,
  ): SeriesEntry {
    const tracked: SampleTracked[] = [];
    let retainMs = this.#staleAfterMs;
    let labels: Labels | undefined;
    for (const runtime of runtimes) {
      if (!runtime.matchesAgent(point.agentId)) continue;
      if (!labelsMatch(runtime.labelFilter, point.labels)) continue;
      const activeKey = activeKeyOf(runtime.rule.name, key);
      const restored = this.#restored.get(activeKey);
      if (restored) this.#restored.delete(activeKey);
      labels ??= { ...point.labels };
      tracked.push(
        restored?.tracked ?? {
          runtime,
          activeKey,
          seriesKey: key,
          agentId: point.agentId,
          metricName: point.metricName,
          labels,
          evaluator: this.#newEvaluator(runtime.rule),
          lastSampleMs: -Infinity,
          firing: undefined,
        },
      );
      retainMs = Math.max(retainMs, runtime.retainMs);
    }
    const entry: SeriesEntry = { tracked, lastSeenMs: nowMs, retainMs };
    this.#series.set(key, entry);
    return entry;
  }

  #judge(tracked: Tracked, verdict: Verdict, nowMs: number): void {
    const runtime = tracked.runtime;
    const firing = tracked.firing;
    if (verdict === BREACH) {
      const silenced = firing !== undefined && nowMs - firing.lastNotifiedMs < runtime.silenceMs;
      if (silenced && !runtime.dynamicSeverity) return;
      const details = tracked.evaluator.details();
      const severity = details.severity ?? runtime.rule.severity;
      if (silenced && severity === firing.severity) return;
      this.#raise(tracked, details, severity, nowMs);
    } else if (verdict === CLEAR && firing) {
      this.#resolve(tracked, tracked.evaluator.details(), nowMs);
    }
  }

  #raise(tracked: Tracked, details: VerdictDetails, severity: Severity, nowMs: number): void {
    const rule = tracked.runtime.rule;
    const sinceMs = tracked.firing?.sinceMs ?? nowMs;
    const firing: Firing = {
      sinceMs,
      lastNotifiedMs: nowMs,
      severity,
      value: details.value,
      threshold: details.threshold,
      message: `${rule.name}: ${subjectOf(tracked)} ${details.condition}`,
    };
    if (details.predictedBreachMs !== undefined) {
      firing.predictedBreachMs = details.predictedBreachMs;
    }
    if (details.rSquared !== undefined) firing.rSquared = details.rSquared;
    tracked.firing = firing;
    this.#active.set(tracked.activeKey, tracked);
    this.#queue(tracked, "firing", firing, nowMs);
    this.#pendingStates.set(tracked.activeKey, {
      ruleName: rule.name,
      seriesKey: tracked.seriesKey,
      state: {
        ruleName: rule.name,
        seriesKey: tracked.seriesKey,
        agentId: tracked.agentId,
        metricName: tracked.metricName,
        labels: tracked.labels,
        ...firing,
      },
    });
  }

  #resolve(tracked: Tracked, details: VerdictDetails, nowMs: number): void {
    const firing = tracked.firing!;
    const rule = tracked.runtime.rule;
    tracked.firing = undefined;
    this.#active.delete(tracked.activeKey);
    this.#queue(tracked, "resolved", {
      ...firing,
      value: details.value,
      threshold: details.threshold,
      message: `${rule.name} resolved: ${subjectOf(tracked)} ${details.condition}`,
      predictedBreachMs: undefined,
      rSquared: details.rSquared,
    }, nowMs);
    this.#pendingStates.set(tracked.activeKey, {
      ruleName: rule.name,
      seriesKey: tracked.seriesKey,
    });
  }

  #resolveForLackOfData(tracked: Tracked, silentMs: number, nowMs: number): void {
    const firing = tracked.firing!;
    this.#resolve(tracked, {
      value: firing.value,
      threshold: firing.threshold,
      condition: `has had no data for ${formatSecs(Math.floor(silentMs / 1000))}`,
    }, nowMs);
  }

  #queue(tracked: Tracked, status: "firing" | "resolved", firing: Firing, nowMs: number): void {
    const event: AlertEvent = {
      id: crypto.randomUUID(),
      ruleName: tracked.runtime.rule.name,
      ruleType: tracked.runtime.rule.type,
      agentId: tracked.agentId,
      metricName: tracked.metricName,
      labels: tracked.labels,
      severity: firing.severity,
      status,
      message: firing.message,
      value: firing.value,
      threshold: firing.threshold,
      timestampMs: nowMs,
      firingSinceMs: firing.sinceMs,
    };
    if (firing.predictedBreachMs !== undefined) event.predictedBreachMs = firing.predictedBreachMs;
    if (firing.rSquared !== undefined) event.rSquared = firing.rSquared;
    this.#pendingEvents.push(event);
  }

  /**
   * Writes what the last `observe`/`tick` changed in one transaction, then hands the events to
   * the sink. Last-seen times of absent-watched agents are written only with `withSeen` (by the
   * tick and on close), not on every `observe`.
   */
  #flush(withSeen: boolean): void {
    const seen = withSeen
      ? [...this.#dirtySeen].map((tracked) => ({
        ruleName: tracked.runtime.rule.name,
        agentId: tracked.agentId,
        lastSeenMs: tracked.evaluator.lastSeenMs,
      }))
      : [];
    if (this.#pendingEvents.length === 0 && this.#pendingStates.size === 0 && seen.length === 0) {
      return;
    }
    if (withSeen) this.#dirtySeen.clear();
    const events = this.#pendingEvents;
    const states = this.#pendingStates;
    this.#pendingEvents = [];
    this.#pendingStates = new Map();
    const upserts: StoredAlertState[] = [];
    const deletes: { ruleName: string; seriesKey: string }[] = [];
    for (const change of states.values()) {
      if (change.state) upserts.push(change.state);
      else deletes.push(change);
    }
    try {
      this.#store.commit({ events, upserts, deletes, seen });
    } catch (error) {
      this.#log.error("cannot record alert events", { error, events: events.length });
    }
    for (const event of events) this.#deliver(event);
  }

  #deliver(event: AlertEvent): void {
    this.#log.info(event.status === "firing" ? "alert firing" : "alert resolved", {
      rule: event.ruleName,
      agent_id: event.agentId,
      severity: event.severity,
      message: event.message,
    });
    try {
      const result = this.#onEvent(event);
      if (result instanceof Promise) {
        result.catch((error) =>
          this.#log.error("alert event sink failed", { error, id: event.id })
        );
      }
    } catch (error) {
      this.#log.error("alert event sink failed", { error, id: event.id });
    }
  }
}

/** Opens the alert engine over `statePath`, restoring what was firing when it last stopped. */
export function openAlertEngine(options: AlertEngineOptions): AlertEngine {
  return new AlertEngine(options);
}

function activeKeyOf(ruleName: string, key: string): string {
  return ruleName + "\u001f" + key;
}

function subjectOf(tracked: Tracked): string {
  if (tracked.runtime.rule.type === "agent_absent") return tracked.agentId;
  return `${formatSeries(tracked.metricName, tracked.labels)} on ${tracked.agentId}`;
}

function pushTo<T>(map: Map<string, T[]>, key: string, value: T): void {
  const list = map.get(key);
  if (list) list.push(value);
  else map.set(key, [value]);
}
