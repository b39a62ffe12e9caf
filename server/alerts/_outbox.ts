/**
 * What one `observe` or `tick` changed, on its way out: events to record and send, firing state to
 * write or delete, and when watched agents were last seen. `flush` writes them all in one SQLite
 * transaction and only then hands the events to the sink, so an event is never sent that the
 * history does not hold.
 */
import type { Logger } from "../../shared/log.ts";
import type { AlertEvent } from "../../shared/types.ts";
import type { AbsentSeen, AlertStore, StoredAlertState } from "./store.ts";
import { alertKey } from "./_series.ts";

export interface OutboxOptions {
  store: AlertStore;
  log: Logger;
  /** Receives each event after it is recorded; a throw or a rejection is logged. */
  onEvent: (event: AlertEvent) => void | Promise<void>;
}

/** An agent watched by an `agent_absent` rule, read when its last-seen time is written. */
export interface SeenSource {
  readonly subject: { readonly ruleName: string; readonly agentId: string };
  readonly evaluator: { readonly lastSeenMs: number };
}

interface StateChange {
  ruleName: string;
  seriesKey: string;
  /** Absent: the row is deleted. */
  state?: StoredAlertState;
}

export class Outbox {
  readonly #store: AlertStore;
  readonly #log: Logger;
  readonly #onEvent: (event: AlertEvent) => void | Promise<void>;
  #events: AlertEvent[] = [];
  /** The latest change per state row, keyed by rule and series key. */
  #states = new Map<string, StateChange>();
  readonly #seen = new Set<SeenSource>();

  constructor(options: OutboxOptions) {
    this.#store = options.store;
    this.#log = options.log;
    this.#onEvent = options.onEvent;
  }

  event(event: AlertEvent): void {
    this.#events.push(event);
  }

  saveState(state: StoredAlertState): void {
    const { ruleName, seriesKey } = state;
    this.#states.set(alertKey(ruleName, seriesKey), { ruleName, seriesKey, state });
  }

  deleteState(ruleName: string, seriesKey: string): void {
    this.#states.set(alertKey(ruleName, seriesKey), { ruleName, seriesKey });
  }

  /** The agent's last-seen time changed; it is written by the next `flush(true)`. */
  sawAgent(source: SeenSource): void {
    this.#seen.add(source);
  }

  /**
   * Writes what is pending in one transaction, then hands the events to the sink. Last-seen times
   * are written only `withSeen` (by the tick and on close), not on every `observe`.
   */
  flush(withSeen: boolean): void {
    const seen: AbsentSeen[] = [];
    if (withSeen) {
      for (const { subject, evaluator } of this.#seen) {
        seen.push({
          ruleName: subject.ruleName,
          agentId: subject.agentId,
          lastSeenMs: evaluator.lastSeenMs,
        });
      }
    }
    if (this.#events.length === 0 && this.#states.size === 0 && seen.length === 0) return;
    if (withSeen) this.#seen.clear();
    const events = this.#events;
    const states = this.#states;
    this.#events = [];
    this.#states = new Map();
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
