/**
 * The life of one alert (a rule on a series): clear → firing → resolved. A breach raises it at
 * once; while it keeps breaching it is raised again only once `silence_secs` have passed (or at
 * once when its severity changes, for rule types whose severity follows the value); a clear verdict
 * resolves it with exactly one `resolved` event. A breach not yet held for `duration_secs` is the
 * evaluator's UNKNOWN verdict and never reaches here. Every change goes to the outbox.
 */
import { MS_PER_SECOND } from "../../shared/time.ts";
import type { Labels, Severity } from "../../shared/types.ts";
import { severityRank } from "../../shared/types.ts";
import {
  BREACH,
  CLEAR,
  formatSecs,
  type SeriesEvaluator,
  type Verdict,
  type VerdictDetails,
} from "./_evaluator.ts";
import type { Outbox } from "./_outbox.ts";
import type { CompiledRule } from "./_rule_index.ts";
import { formatSeries } from "./_series.ts";
import type { StoredAlertState } from "./store.ts";

/** Which alert: the rule, and the series it judges (for `agent_absent`, the rule's own metric). */
export interface AlertSubject {
  ruleName: string;
  ruleType: string;
  agentId: string;
  metricName: string;
  labels: Labels;
}

/** What one event says; the part of a firing alert that each raise replaces. */
export interface Notice {
  severity: Severity;
  message: string;
  value: number;
  threshold: number;
  predictedBreachMs?: number;
  rSquared?: number;
}

/**
 * A firing alert, as kept in memory and in the state table. Pending writes and events hold it by
 * reference, so it is replaced on each raise, never changed in place.
 */
export interface Firing {
  /** When it started firing. */
  readonly sinceMs: number;
  /** When it was last raised (it is raised again once `silence_secs` have passed). */
  readonly lastNotifiedMs: number;
  /** What the latest raise said. */
  readonly notice: Notice;
}

/** A series that is firing now. `value` and `message` are those of the latest notification. */
export interface ActiveAlert extends AlertSubject, Notice {
  /** When it started firing. */
  sinceMs: number;
  /** When it was last raised (it is raised again once `silence_secs` have passed). */
  lastNotifiedMs: number;
  /**
   * The series' newest sample judged, while `value` is the one last notified. Absent for
   * `agent_absent`, and after a restart until the series reports again.
   */
  currentValue?: number;
  /** The timestamp of `currentValue`. */
  currentAtMs?: number;
}

/** One (rule, series) pair. */
export interface Tracked {
  readonly rule: CompiledRule;
  readonly subject: AlertSubject;
  /** The series identity (`shared/series.ts`): the key of its row in the state table. */
  readonly seriesKey: string;
  /** `alertKey(rule name, seriesKey)`. */
  readonly key: string;
  readonly evaluator: SeriesEvaluator;
  firing: Firing | undefined;
  /** The newest sample judged (sample-driven rules): an active alert's current value. */
  currentValue?: number;
  currentAtMs?: number;
}

export class FiringTracker {
  readonly #active = new Map<string, Tracked>();
  readonly #outbox: Outbox;

  constructor(outbox: Outbox) {
    this.#outbox = outbox;
  }

  /** How many alerts are firing. */
  get size(): number {
    return this.#active.size;
  }

  /**
   * Takes up an alert that was firing when the engine last stopped. A row stored under another
   * key than the series' identity (written before identities were JSON, or for an agent_absent
   * rule whose metric changed since) is moved to it, so it is neither lost nor kept twice; of two
   * rows for one alert, the one raised last is kept.
   */
  restore(tracked: Tracked, state: StoredAlertState): void {
    const earlier = tracked.firing;
    const moved = state.seriesKey !== tracked.seriesKey;
    const firing = earlier && earlier.lastNotifiedMs > state.firing.lastNotifiedMs
      ? earlier
      : state.firing;
    tracked.firing = firing;
    this.#active.set(tracked.key, tracked);
    if (moved) this.#outbox.deleteState(state.ruleName, state.seriesKey);
    if (moved || earlier) this.#save(tracked, firing);
  }

  /** Acts on a verdict: raise (unless silenced), resolve, or nothing. */
  judge(tracked: Tracked, verdict: Verdict, nowMs: number): void {
    const rule = tracked.rule;
    const firing = tracked.firing;
    if (verdict === BREACH) {
      const silenced = firing !== undefined && nowMs - firing.lastNotifiedMs < rule.silenceMs;
      if (silenced && !rule.dynamicSeverity) return;
      const details = tracked.evaluator.details();
      const severity = details.severity ?? rule.config.severity;
      if (silenced && severity === firing.notice.severity) return;
      this.#raise(tracked, details, severity, nowMs);
    } else if (verdict === CLEAR && firing) {
      this.#resolve(tracked, tracked.evaluator.details(), nowMs);
    }
  }

  /** Resolves a firing alert whose series has sent nothing for `silentMs`. */
  resolveForLackOfData(tracked: Tracked, silentMs: number, nowMs: number): void {
    const { value, threshold } = tracked.firing!.notice;
    const silentSecs = Math.floor(silentMs / MS_PER_SECOND);
    this.#resolve(tracked, {
      value,
      threshold,
      condition: `has had no data for ${formatSecs(silentSecs)}`,
    }, nowMs);
  }

  /** What is firing now, most severe first, then oldest first. */
  active(): ActiveAlert[] {
    const alerts: ActiveAlert[] = [];
    for (const { subject, firing, currentValue, currentAtMs } of this.#active.values()) {
      const { sinceMs, lastNotifiedMs, notice } = firing!;
      const alert: ActiveAlert = { ...subject, ...notice, sinceMs, lastNotifiedMs };
      if (currentValue !== undefined) {
        alert.currentValue = currentValue;
        alert.currentAtMs = currentAtMs;
      }
      alerts.push(alert);
    }
    return alerts.sort((a, b) =>
      severityRank(b.severity) - severityRank(a.severity) || a.sinceMs - b.sinceMs ||
      (a.ruleName < b.ruleName ? -1 : a.ruleName > b.ruleName ? 1 : 0)
    );
  }

  #raise(tracked: Tracked, details: VerdictDetails, severity: Severity, nowMs: number): void {
    const message = `${tracked.rule.config.name}: ${describe(tracked)} ${details.condition}`;
    const firing: Firing = {
      sinceMs: tracked.firing?.sinceMs ?? nowMs,
      lastNotifiedMs: nowMs,
      notice: noticeOf(severity, message, details, true),
    };
    tracked.firing = firing;
    this.#active.set(tracked.key, tracked);
    this.#emit(tracked, "firing", firing, firing.notice, nowMs);
    this.#save(tracked, firing);
  }

  #resolve(tracked: Tracked, details: VerdictDetails, nowMs: number): void {
    const firing = tracked.firing!;
    const message = `${tracked.rule.config.name} resolved: ${
      describe(tracked)
    } ${details.condition}`;
    tracked.firing = undefined;
    this.#active.delete(tracked.key);
    const notice = noticeOf(firing.notice.severity, message, details, false);
    this.#emit(tracked, "resolved", firing, notice, nowMs);
    this.#outbox.deleteState(tracked.subject.ruleName, tracked.seriesKey);
  }

  #emit(
    tracked: Tracked,
    status: "firing" | "resolved",
    firing: Firing,
    notice: Notice,
    nowMs: number,
  ): void {
    this.#outbox.event({
      id: crypto.randomUUID(),
      ...tracked.subject,
      status,
      ...notice,
      timestampMs: nowMs,
      firingSinceMs: firing.sinceMs,
    });
  }

  #save(tracked: Tracked, firing: Firing): void {
    const { ruleName, agentId, metricName, labels } = tracked.subject;
    this.#outbox.saveState({
      ruleName,
      seriesKey: tracked.seriesKey,
      agentId,
      metricName,
      labels,
      firing,
    });
  }
}

/** A notice without the optional fields the details do not carry (no `undefined` values). */
function noticeOf(
  severity: Severity,
  message: string,
  details: VerdictDetails,
  withPrediction: boolean,
): Notice {
  const { value, threshold, predictedBreachMs, rSquared } = details;
  const notice: Notice = { severity, message, value, threshold };
  if (withPrediction && predictedBreachMs !== undefined) {
    notice.predictedBreachMs = predictedBreachMs;
  }
  if (rSquared !== undefined) notice.rSquared = rSquared;
  return notice;
}

/** What a message names: the agent for rules that watch agents, else the series and its agent. */
function describe({ rule, subject }: Tracked): string {
  if (rule.perAgent) return subject.agentId;
  return `${formatSeries(subject.metricName, subject.labels)} on ${subject.agentId}`;
}
