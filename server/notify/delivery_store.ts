/**
 * The delivery record: one row per notification (one or more aggregated events) and channel,
 * saying whether it was sent, failed after its retries, was silenced, or was dropped from a full
 * queue. SQLite in WAL mode; statements are prepared once.
 */
import { DatabaseSync, type StatementSync } from "node:sqlite";
import type { Severity } from "../../shared/types.ts";
import { openDatabase } from "../sqlite.ts";

export const DELIVERY_STATUSES = ["sent", "failed", "silenced", "dropped"] as const;
export type DeliveryStatus = typeof DELIVERY_STATUSES[number];

export interface DeliveryRecord {
  id: number;
  /** When the outcome was known. */
  timeMs: number;
  channel: string;
  channelType: string;
  eventIds: string[];
  /** The highest severity among the events. */
  severity: Severity;
  status: DeliveryStatus;
  /** Send attempts made (0 when silenced or dropped). */
  attempts: number;
  /** Why the last attempt failed, or why nothing was sent. */
  error: string | null;
}

export type NewDeliveryRecord = Omit<DeliveryRecord, "id">;

export interface DeliveryQuery {
  /** Default 100. */
  limit?: number;
  /** Default 0. */
  offset?: number;
  channel?: string;
  status?: DeliveryStatus;
}

export interface DeliveryPage {
  /** Matching records in all, for paging. */
  total: number;
  /** Newest first. */
  records: DeliveryRecord[];
}

const SCHEMA = `
CREATE TABLE IF NOT EXISTS deliveries (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  time_ms INTEGER NOT NULL,
  channel TEXT NOT NULL,
  channel_type TEXT NOT NULL,
  event_ids TEXT NOT NULL,
  severity TEXT NOT NULL,
  status TEXT NOT NULL,
  attempts INTEGER NOT NULL,
  error TEXT
);
CREATE INDEX IF NOT EXISTS deliveries_by_time ON deliveries (time_ms);
CREATE INDEX IF NOT EXISTS deliveries_by_channel ON deliveries (channel, id);
CREATE INDEX IF NOT EXISTS deliveries_by_status ON deliveries (status, id);
`;

// One statement serves every filter combination: a NULL parameter matches everything.
const FILTER = "(:channel IS NULL OR channel = :channel) AND (:status IS NULL OR status = :status)";

interface Row {
  id: number;
  time_ms: number;
  channel: string;
  channel_type: string;
  event_ids: string;
  severity: Severity;
  status: DeliveryStatus;
  attempts: number;
  error: string | null;
}

/** Opens (creating if needed) the delivery record at `path`; the caller closes it. */
export function openDeliveryStore(path: string): DeliveryStore {
  return new DeliveryStore(path);
}

export class DeliveryStore {
  readonly #db: DatabaseSync;
  readonly #insert: StatementSync;
  readonly #select: StatementSync;
  readonly #count: StatementSync;
  readonly #prune: StatementSync;

  /** Opens (creating if needed) the store at `path`; `":memory:"` works too. */
  constructor(path: string) {
    this.#db = openDatabase(path);
    this.#db.exec(SCHEMA);
    this.#insert = this.#db.prepare(
      `INSERT INTO deliveries (time_ms, channel, channel_type, event_ids, severity, status,
         attempts, error) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    this.#select = this.#db.prepare(
      `SELECT * FROM deliveries WHERE ${FILTER} ORDER BY id DESC LIMIT :limit OFFSET :offset`,
    );
    this.#count = this.#db.prepare(`SELECT COUNT(*) AS total FROM deliveries WHERE ${FILTER}`);
    this.#prune = this.#db.prepare("DELETE FROM deliveries WHERE time_ms < ?");
  }

  add(record: NewDeliveryRecord): number {
    const result = this.#insert.run(
      record.timeMs,
      record.channel,
      record.channelType,
      JSON.stringify(record.eventIds),
      record.severity,
      record.status,
      record.attempts,
      record.error,
    );
    return Number(result.lastInsertRowid);
  }

  query(query: DeliveryQuery = {}): DeliveryPage {
    const filter = { channel: query.channel ?? null, status: query.status ?? null };
    const rows = this.#select.all({
      ...filter,
      limit: query.limit ?? 100,
      offset: query.offset ?? 0,
    }) as unknown as Row[];
    const { total } = this.#count.get(filter) as { total: number };
    return {
      total,
      records: rows.map((row) => ({
        id: row.id,
        timeMs: row.time_ms,
        channel: row.channel,
        channelType: row.channel_type,
        eventIds: JSON.parse(row.event_ids),
        severity: row.severity,
        status: row.status,
        attempts: row.attempts,
        error: row.error,
      })),
    };
  }

  /** Deletes records older than `beforeMs`; returns how many. */
  prune(beforeMs: number): number {
    return Number(this.#prune.run(beforeMs).changes);
  }

  close(): void {
    if (this.#db.isOpen) this.#db.close();
  }
}
