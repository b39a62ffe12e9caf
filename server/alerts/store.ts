/**
 * Alert state and history in one SQLite file (e.g. `<data_dir>/alerts.db`, WAL). State holds one
 * row per firing series, written only when an alert fires, is raised again or resolves; history
 * holds every event sent. The engine hands over all changes of one `observe` or `tick` together,
 * and they are written in one transaction.
 */
import { DatabaseSync, type StatementSync } from "node:sqlite";
import type { AlertEvent, Labels, Severity } from "../../shared/types.ts";
import { openDatabase } from "../sqlite.ts";
import type { Firing, Notice } from "./_firing.ts";

/**
 * One firing alert as persisted. `seriesKey` is the series identity (`shared/series.ts`); rows
 * written before it was are re-keyed by the engine when it opens the database.
 */
export interface StoredAlertState {
  ruleName: string;
  seriesKey: string;
  agentId: string;
  metricName: string;
  labels: Labels;
  firing: Firing;
}

/** When an `agent_absent` rule last saw an agent. */
export interface AbsentSeen {
  ruleName: string;
  agentId: string;
  lastSeenMs: number;
}

export interface HistoryQuery {
  severity?: Severity;
  agentId?: string;
  ruleName?: string;
  status?: "firing" | "resolved";
  /** Inclusive, epoch ms. */
  fromMs?: number;
  /** Inclusive, epoch ms. */
  toMs?: number;
  /** Default 100. */
  limit?: number;
  /** Default 0. */
  offset?: number;
}

export interface HistoryPage {
  /** Events matching the query, newest first, `limit` at most. */
  events: AlertEvent[];
  /** How many events match the query in all, for paging. */
  total: number;
}

export interface StoreChanges {
  events: readonly AlertEvent[];
  upserts: readonly StoredAlertState[];
  deletes: readonly { ruleName: string; seriesKey: string }[];
  seen: readonly AbsentSeen[];
}

const SCHEMA = `
CREATE TABLE IF NOT EXISTS alert_history (
  seq INTEGER PRIMARY KEY,
  id TEXT NOT NULL,
  rule_name TEXT NOT NULL,
  rule_type TEXT NOT NULL,
  agent_id TEXT NOT NULL,
  metric_name TEXT NOT NULL,
  labels TEXT NOT NULL,
  severity TEXT NOT NULL,
  status TEXT NOT NULL,
  message TEXT NOT NULL,
  value REAL,
  threshold REAL,
  timestamp_ms INTEGER NOT NULL,
  predicted_breach_ms INTEGER,
  r_squared REAL,
  firing_since_ms INTEGER
);
CREATE INDEX IF NOT EXISTS alert_history_by_time ON alert_history (timestamp_ms, seq);
CREATE TABLE IF NOT EXISTS alert_state (
  rule_name TEXT NOT NULL,
  series_key TEXT NOT NULL,
  agent_id TEXT NOT NULL,
  metric_name TEXT NOT NULL,
  labels TEXT NOT NULL,
  severity TEXT NOT NULL,
  since_ms INTEGER NOT NULL,
  last_notified_ms INTEGER NOT NULL,
  value REAL,
  threshold REAL,
  message TEXT NOT NULL,
  predicted_breach_ms INTEGER,
  r_squared REAL,
  PRIMARY KEY (rule_name, series_key)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS absent_seen (
  rule_name TEXT NOT NULL,
  agent_id TEXT NOT NULL,
  last_seen_ms INTEGER NOT NULL,
  PRIMARY KEY (rule_name, agent_id)
) WITHOUT ROWID;
`;

const HISTORY_COLUMNS = "id, rule_name, rule_type, agent_id, metric_name, labels, severity, " +
  "status, message, value, threshold, timestamp_ms, predicted_breach_ms, r_squared, " +
  "firing_since_ms";

// One statement serves every filter combination: a NULL parameter disables its condition.
const HISTORY_WHERE = `WHERE (?1 IS NULL OR severity = ?1) AND (?2 IS NULL OR agent_id = ?2)
  AND (?3 IS NULL OR rule_name = ?3) AND (?4 IS NULL OR status = ?4)
  AND timestamp_ms >= ?5 AND timestamp_ms <= ?6`;

type Row = Record<string, unknown>;

/** SQLite turns NaN into NULL anyway; say so explicitly and read it back as NaN. */
function finiteOrNull(value: number | undefined): number | null {
  return value !== undefined && Number.isFinite(value) ? value : null;
}

function numberOrNaN(value: unknown): number {
  return typeof value === "number" ? value : NaN;
}

function optionalNumber(value: unknown): number | undefined {
  return typeof value === "number" ? value : undefined;
}

export class AlertStore {
  readonly #db: DatabaseSync;
  readonly #insertEvent: StatementSync;
  readonly #upsertState: StatementSync;
  readonly #deleteState: StatementSync;
  readonly #upsertSeen: StatementSync;
  readonly #countHistory: StatementSync;
  readonly #selectHistory: StatementSync;
  #closed = false;

  /** Opens (creating when missing) the alert database at `path`. */
  constructor(path: string) {
    this.#db = openDatabase(path);
    try {
      this.#db.exec(
        SCHEMA,
      );
    } catch (error) {
      this.#db.close();
      throw new Error(`Cannot open alert database ${path}: ${(error as Error).message}`, {
        cause: error,
      });
    }
    this.#insertEvent = this.#db.prepare(
      `INSERT INTO alert_history (${HISTORY_COLUMNS})
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    this.#upsertState = this.#db.prepare(
      `INSERT OR REPLACE INTO alert_state (rule_name, series_key, agent_id, metric_name, labels,
         severity, since_ms, last_notified_ms, value, threshold, message, predicted_breach_ms,
         r_squared) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    this.#deleteState = this.#db.prepare(
      "DELETE FROM alert_state WHERE rule_name = ? AND series_key = ?",
    );
    this.#upsertSeen = this.#db.prepare(
      "INSERT OR REPLACE INTO absent_seen (rule_name, agent_id, last_seen_ms) VALUES (?, ?, ?)",
    );
    this.#countHistory = this.#db.prepare(
      `SELECT count(*) AS total FROM alert_history ${HISTORY_WHERE}`,
    );
    this.#selectHistory = this.#db.prepare(
      `SELECT ${HISTORY_COLUMNS} FROM alert_history ${HISTORY_WHERE}
       ORDER BY timestamp_ms DESC, seq DESC LIMIT ?7 OFFSET ?8`,
    );
  }

  /** Every persisted firing series. */
  loadStates(): StoredAlertState[] {
    const rows = this.#db.prepare("SELECT * FROM alert_state").all() as Row[];
    return rows.map((row) => {
      const notice: Notice = {
        severity: row.severity as Severity,
        message: row.message as string,
        value: numberOrNaN(row.value),
        threshold: numberOrNaN(row.threshold),
      };
      const predicted = optionalNumber(row.predicted_breach_ms);
      if (predicted !== undefined) notice.predictedBreachMs = predicted;
      const rSquared = optionalNumber(row.r_squared);
      if (rSquared !== undefined) notice.rSquared = rSquared;
      return {
        ruleName: row.rule_name as string,
        seriesKey: row.series_key as string,
        agentId: row.agent_id as string,
        metricName: row.metric_name as string,
        labels: JSON.parse(row.labels as string),
        firing: {
          sinceMs: row.since_ms as number,
          lastNotifiedMs: row.last_notified_ms as number,
          notice,
        },
      };
    });
  }

  loadAbsentSeen(): AbsentSeen[] {
    const rows = this.#db.prepare("SELECT * FROM absent_seen").all() as Row[];
    return rows.map((row) => ({
      ruleName: row.rule_name as string,
      agentId: row.agent_id as string,
      lastSeenMs: row.last_seen_ms as number,
    }));
  }

  /** Forgets state kept for rules that are no longer configured; returns how many rows. */
  dropRulesOtherThan(ruleNames: readonly string[]): number {
    const keep = JSON.stringify(ruleNames);
    let dropped = 0;
    for (const table of ["alert_state", "absent_seen"]) {
      const result = this.#db.prepare(
        `DELETE FROM ${table} WHERE rule_name NOT IN (SELECT value FROM json_each(?))`,
      ).run(keep);
      dropped += Number(result.changes);
    }
    return dropped;
  }

  /** Writes one evaluation's changes in one transaction. */
  commit(changes: StoreChanges): void {
    const { events, upserts, deletes, seen } = changes;
    if (events.length + upserts.length + deletes.length + seen.length === 0) return;
    this.#db.exec("BEGIN");
    try {
      for (const event of events) {
        this.#insertEvent.run(
          event.id,
          event.ruleName,
          event.ruleType,
          event.agentId,
          event.metricName,
          JSON.stringify(event.labels),
          event.severity,
          event.status,
          event.message,
          finiteOrNull(event.value),
          finiteOrNull(event.threshold),
          event.timestampMs,
          event.predictedBreachMs ?? null,
          finiteOrNull(event.rSquared),
          event.firingSinceMs ?? null,
        );
      }
      for (const { ruleName, seriesKey } of deletes) this.#deleteState.run(ruleName, seriesKey);
      for (const { ruleName, seriesKey, agentId, metricName, labels, firing } of upserts) {
        const { notice } = firing;
        this.#upsertState.run(
          ruleName,
          seriesKey,
          agentId,
          metricName,
          JSON.stringify(labels),
          notice.severity,
          firing.sinceMs,
          firing.lastNotifiedMs,
          finiteOrNull(notice.value),
          finiteOrNull(notice.threshold),
          notice.message,
          notice.predictedBreachMs ?? null,
          finiteOrNull(notice.rSquared),
        );
      }
      for (const { ruleName, agentId, lastSeenMs } of seen) {
        this.#upsertSeen.run(ruleName, agentId, lastSeenMs);
      }
      this.#db.exec("COMMIT");
    } catch (error) {
      this.#db.exec("ROLLBACK");
      throw error;
    }
  }

  /** Events matching `query`, newest first, with the total count for paging. */
  history(query: HistoryQuery = {}): HistoryPage {
    const filter = [
      query.severity ?? null,
      query.agentId ?? null,
      query.ruleName ?? null,
      query.status ?? null,
      query.fromMs ?? -Number.MAX_SAFE_INTEGER,
      query.toMs ?? Number.MAX_SAFE_INTEGER,
    ];
    const { total } = this.#countHistory.get(...filter) as { total: number };
    const rows = this.#selectHistory.all(
      ...filter,
      query.limit ?? 100,
      query.offset ?? 0,
    ) as Row[];
    return { total, events: rows.map(eventFromRow) };
  }

  /** Deletes history older than `cutoffMs`; returns how many events. */
  deleteHistoryBefore(cutoffMs: number): number {
    const result = this.#db.prepare("DELETE FROM alert_history WHERE timestamp_ms < ?").run(
      cutoffMs,
    );
    return Number(result.changes);
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#db.close();
  }
}

function eventFromRow(row: Row): AlertEvent {
  const event: AlertEvent = {
    id: row.id as string,
    ruleName: row.rule_name as string,
    ruleType: row.rule_type as string,
    agentId: row.agent_id as string,
    metricName: row.metric_name as string,
    labels: JSON.parse(row.labels as string),
    severity: row.severity as Severity,
    status: row.status as "firing" | "resolved",
    message: row.message as string,
    value: numberOrNaN(row.value),
    threshold: numberOrNaN(row.threshold),
    timestampMs: row.timestamp_ms as number,
  };
  const predicted = optionalNumber(row.predicted_breach_ms);
  if (predicted !== undefined) event.predictedBreachMs = predicted;
  const rSquared = optionalNumber(row.r_squared);
  if (rSquared !== undefined) event.rSquared = rSquared;
  const since = optionalNumber(row.firing_since_ms);
  if (since !== undefined) event.firingSinceMs = since;
  return event;
}
