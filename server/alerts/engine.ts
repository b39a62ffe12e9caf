/**
 * The alert engine: evaluates every rule per series (agent + metric + labels) on newly committed
 * samples, raises and resolves alerts, keeps their state and history in SQLite, and hands each
 * event to `onEvent`. It wires four parts:
 *
 * - the rule index (`_rule_index.ts`): which rules apply to a point;
 * - one evaluator per (rule, series) (`_rule_types.ts`), fed each new sample;
 * - the firing tracker (`_firing.ts`): raise, repeat after `silence_secs`, resolve once;
 * - the outbox (`_outbox.ts`): events and state changes, written in one transaction, then sent.
 *
 * `observe` sits on the ingest path, so it only does O(1) work per sample and matching rule: one
 * map lookup by metric name, one per part of the series identity (agent, metric, canonical labels;
 * the rules matching a series are worked out once, when the series is first seen), and an
 * incremental evaluator per (rule, series). SQLite is touched only when something fires or
 * resolves, once per `observe` call. `tick` does what depends on time alone: absent agents, and
 * forgetting series that stopped reporting.
 */
import { type Clock, systemClock } from "../../shared/clock.ts";
import { type Logger, silentLogger } from "../../shared/log.ts";
import { canonicalLabelsJson, seriesIdentity, seriesIdentityOf } from "../../shared/series.ts";
import { MS_PER_MINUTE, MS_PER_SECOND } from "../../shared/time.ts";
import type { AlertEvent, Labels, MetricDataPoint } from "../../shared/types.ts";
import type { AgentAbsentEvaluator } from "./agent_absent.ts";
import type { AlertRuleConfig } from "./config.ts";
import { BREACH, CLEAR } from "./_evaluator.ts";
import { type ActiveAlert, FiringTracker, type Tracked } from "./_firing.ts";
import { Outbox } from "./_outbox.ts";
import { type PresenceRule, RuleIndex, rulesMatching, type SampleRule } from "./_rule_index.ts";
import { createEvaluator } from "./_rule_types.ts";
import { alertKey, SeriesMap } from "./_series.ts";
import { AlertStore, type HistoryPage, type HistoryQuery, type StoredAlertState } from "./store.ts";

export type { ActiveAlert } from "./_firing.ts";

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
  /** Agent ids that `agent_absent` rules never watch (the server's own identities). */
  unwatchedAgents?: readonly string[];
}

export const DEFAULT_STALE_AFTER_MS = 15 * MS_PER_MINUTE;
export const DEFAULT_MAX_WINDOW_POINTS = 10_000;

interface SampleTracked extends Tracked {
  /** Newest sample timestamp judged; older ones (late data, retries) are skipped. */
  lastSampleMs: number;
}

/** An agent watched by an `agent_absent` rule. */
interface PresenceTracked extends Tracked {
  evaluator: AgentAbsentEvaluator;
}

interface SeriesEntry {
  /** Rules that match this series; empty for series no rule cares about. */
  tracked: SampleTracked[];
  /** Server time of the latest sample. */
  lastSeenMs: number;
  retainMs: number;
}

export class AlertEngine {
  readonly rules: readonly AlertRuleConfig[];
  readonly #store: AlertStore;
  readonly #clock: Clock;
  readonly #log: Logger;
  readonly #staleAfterMs: number;
  readonly #maxWindowPoints: number;
  readonly #index: RuleIndex;
  readonly #outbox: Outbox;
  readonly #firing: FiringTracker;
  /** Series of metrics some sample-driven rule watches. */
  readonly #series = new SeriesMap<SeriesEntry>();
  /** Per `agent_absent` rule, the agents it watches by id. */
  readonly #presence = new Map<PresenceRule, Map<string, PresenceTracked>>();
  /** Firing state loaded at start for series not seen since; attached on their first sample. */
  readonly #restored = new Map<string, { tracked: SampleTracked; restoredAtMs: number }>();
  #closed = false;

  constructor(options: AlertEngineOptions) {
    this.rules = options.rules;
    this.#clock = options.clock ?? systemClock;
    this.#log = options.log ?? silentLogger;
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
    this.#index = new RuleIndex(options.rules, {
      staleAfterMs: this.#staleAfterMs,
      unwatchedAgents: new Set(options.unwatchedAgents ?? []),
    });
    this.#store = new AlertStore(options.statePath);
    this.#outbox = new Outbox({
      store: this.#store,
      log: this.#log,
      onEvent: options.onEvent ?? (() => {}),
    });
    this.#firing = new FiringTracker(this.#outbox);
    try {
      this.#restore();
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
          for (const rule of this.#index.presenceOnAnyPoint) this.#sawAgent(rule, point, nowMs);
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
    this.#outbox.flush(false);
  }

  /** Time-driven work: absent agents, series gone silent. Run it every few seconds. */
  tick(nowMs: number = this.#clock.now()): void {
    if (this.#closed) return;
    try {
      for (const agents of this.#presence.values()) {
        for (const tracked of agents.values()) {
          const verdict = tracked.evaluator.check(nowMs);
          if (verdict === BREACH || tracked.firing) this.#firing.judge(tracked, verdict, nowMs);
        }
      }
      this.#series.sweep((entry) => {
        const silentMs = nowMs - entry.lastSeenMs;
        if (silentMs <= entry.retainMs) return false;
        for (const tracked of entry.tracked) {
          if (tracked.firing) this.#firing.resolveForLackOfData(tracked, silentMs, nowMs);
        }
        return true;
      });
      for (const [key, { tracked, restoredAtMs }] of this.#restored) {
        const silentMs = nowMs - restoredAtMs;
        if (silentMs <= tracked.rule.retainMs) continue;
        this.#firing.resolveForLackOfData(tracked, silentMs, nowMs);
        this.#restored.delete(key);
      }
    } catch (error) {
      this.#log.error("alert tick failed", { error });
    }
    this.#outbox.flush(true);
  }

  /** What is firing now, most severe first, then oldest first. */
  active(): ActiveAlert[] {
    return this.#firing.active();
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
    this.#outbox.flush(true);
    this.#closed = true;
    this.#store.close();
  }

  /**
   * Takes up what was firing when the engine last stopped, under each series' identity: rows
   * stored under an older key are re-keyed (by the firing tracker) and written before it returns.
   */
  #restore(): void {
    const nowMs = this.#clock.now();
    const dropped = this.#store.dropRulesOtherThan(this.#index.names());
    if (dropped > 0) {
      this.#log.info("dropped alert state of rules no longer configured", { dropped });
    }
    const states = this.#store.loadStates();
    const firing = new Set(states.map((state) => JSON.stringify([state.ruleName, state.agentId])));
    for (const seen of this.#store.loadAbsentSeen()) {
      const rule = this.#index.presenceRule(seen.ruleName);
      if (!rule) continue;
      // The server saw nothing while it was down: an agent not already absent gets a full
      // absent_secs from start-up, or every restart after a long outage would page for every
      // agent, and resolve seconds later. One already firing keeps its real last-seen time.
      const isFiring = firing.has(JSON.stringify([seen.ruleName, seen.agentId]));
      this.#presenceTracked(rule, seen.agentId, isFiring ? seen.lastSeenMs : nowMs);
    }
    for (const state of states) {
      const tracked = this.#restoredTracked(state, nowMs);
      if (tracked) this.#firing.restore(tracked, state);
    }
    if (this.#firing.size > 0) {
      this.#log.info("alert state restored", { firing: this.#firing.size });
    }
    this.#outbox.flush(false);
  }

  /** The tracker a stored firing alert belongs to; none when its rule is no longer configured. */
  #restoredTracked(state: StoredAlertState, nowMs: number): Tracked | undefined {
    const presence = this.#index.presenceRule(state.ruleName);
    if (presence) {
      // Normally its last-seen row exists; without it, assume the silence that raised it.
      const silentSinceMs = state.firing.sinceMs - presence.config.absentSecs * MS_PER_SECOND;
      return this.#presenceTracked(presence, state.agentId, silentSinceMs);
    }
    const rule = this.#index.sampleRule(state.ruleName);
    if (!rule) return undefined;
    const { agentId, metricName, labels } = state;
    const seriesKey = seriesIdentityOf(agentId, metricName, labels);
    const known = this.#restored.get(alertKey(rule.config.name, seriesKey));
    if (known) return known.tracked;
    const tracked = this.#sampleTracked(rule, agentId, metricName, labels, seriesKey);
    this.#restored.set(tracked.key, { tracked, restoredAtMs: nowMs });
    return tracked;
  }

  #observePoint(point: MetricDataPoint, nowMs: number): void {
    for (const rule of this.#index.presenceOnLabelledPoint) this.#sawAgent(rule, point, nowMs);
    const presence = this.#index.presenceRulesOn(point.metricName);
    if (presence) { for (const rule of presence) this.#sawAgent(rule, point, nowMs); }

    const rules = this.#index.sampleRulesOn(point.metricName);
    if (!rules) return;
    const labelsJson = canonicalLabelsJson(point.labels);
    let entry = this.#series.get(point.agentId, point.metricName, labelsJson);
    if (!entry) entry = this.#trackSeries(point, labelsJson, rules, nowMs);
    entry.lastSeenMs = nowMs;
    const timestampMs = point.timestampMs;
    for (const tracked of entry.tracked) {
      if (timestampMs <= tracked.lastSampleMs) continue;
      tracked.lastSampleMs = timestampMs;
      tracked.currentValue = point.value;
      tracked.currentAtMs = timestampMs;
      const verdict = tracked.evaluator.push(timestampMs, point.value, nowMs);
      if (verdict === BREACH || (verdict === CLEAR && tracked.firing)) {
        this.#firing.judge(tracked, verdict, nowMs);
      }
    }
  }

  /** A point that is a sign of life for `rule` if its agent and labels match. */
  #sawAgent(rule: PresenceRule, point: MetricDataPoint, nowMs: number): void {
    if (!rule.matches(point.agentId, point.labels)) return;
    const tracked = this.#presenceTracked(rule, point.agentId, -Infinity);
    if (tracked.evaluator.lastSeenMs < nowMs) {
      tracked.evaluator.push(point.timestampMs, point.value, nowMs);
      this.#outbox.sawAgent(tracked);
    }
    if (tracked.firing) this.#firing.judge(tracked, CLEAR, nowMs);
  }

  #trackSeries(
    point: MetricDataPoint,
    labelsJson: string,
    candidates: readonly SampleRule[],
    nowMs: number,
  ): SeriesEntry {
    const { agentId, metricName } = point;
    const key = seriesIdentity(agentId, metricName, labelsJson);
    const tracked: SampleTracked[] = [];
    let retainMs = this.#staleAfterMs;
    let labels: Labels | undefined;
    for (const rule of rulesMatching(candidates, point)) {
      const restoredKey = alertKey(rule.config.name, key);
      const restored = this.#restored.get(restoredKey);
      if (restored) this.#restored.delete(restoredKey);
      labels ??= { ...point.labels };
      tracked.push(
        restored?.tracked ?? this.#sampleTracked(rule, agentId, metricName, labels, key),
      );
      retainMs = Math.max(retainMs, rule.retainMs);
    }
    const entry: SeriesEntry = { tracked, lastSeenMs: nowMs, retainMs };
    this.#series.set(agentId, metricName, labelsJson, entry);
    return entry;
  }

  #sampleTracked(
    rule: SampleRule,
    agentId: string,
    metricName: string,
    labels: Labels,
    seriesKey: string,
  ): SampleTracked {
    const { name, type } = rule.config;
    return {
      rule,
      subject: { ruleName: name, ruleType: type, agentId, metricName, labels },
      seriesKey,
      key: alertKey(name, seriesKey),
      evaluator: createEvaluator(rule.config, { maxWindowPoints: this.#maxWindowPoints }),
      firing: undefined,
      lastSampleMs: -Infinity,
    };
  }

  /** The agent's tracker under `rule`; a new one counts as last seen at `lastSeenMs`. */
  #presenceTracked(rule: PresenceRule, agentId: string, lastSeenMs: number): PresenceTracked {
    let agents = this.#presence.get(rule);
    if (!agents) this.#presence.set(rule, agents = new Map());
    let tracked = agents.get(agentId);
    if (!tracked) {
      const { name, type, metric, labels } = rule.config;
      const seriesKey = seriesIdentityOf(agentId, metric, labels);
      const evaluator = createEvaluator(rule.config, { maxWindowPoints: this.#maxWindowPoints });
      evaluator.seen(lastSeenMs);
      tracked = {
        rule,
        subject: { ruleName: name, ruleType: type, agentId, metricName: metric, labels },
        seriesKey,
        key: alertKey(name, seriesKey),
        evaluator,
        firing: undefined,
      };
      agents.set(agentId, tracked);
    }
    return tracked;
  }
}

/** Opens the alert engine over `statePath`, restoring what was firing when it last stopped. */
export function openAlertEngine(options: AlertEngineOptions): AlertEngine {
  return new AlertEngine(options);
}
