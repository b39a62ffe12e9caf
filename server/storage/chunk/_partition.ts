/**
 * One day of the chunk engine: a SQLite file holding sealed chunks (with count, min, max, sum
 * and the chunk's 5-minute rollup intervals in `rollup`, written with it) and the head log of
 * that day's open chunks and late samples. A separate rollup table measured 25 % more CPU per
 * sample at ingest: one more B-tree insert per chunk, at scattered keys.
 *
 * Two layouts, named in the `meta` table: "hourly" while the day is written (chunks of up to an
 * hour, codec version 1) and "day" once it is compacted (one block of the whole day per series,
 * codec version 2, its rollups moved to the tier files). A file without `meta` was written
 * before rollups existed: it reads as "hourly" with no rollups in its chunks.
 *
 * The chunk table is a rowid table with a unique index: `WITHOUT ROWID` measured 30–80% larger
 * because chunk blobs spill into overflow pages. Aggregate columns have no declared type so
 * `-0` survives (REAL affinity stores integral doubles as integers).
 */
import type { DatabaseSync, StatementSync } from "node:sqlite";
import { MS_PER_HOUR } from "../../../shared/time.ts";
import { bindNumber, openDatabase, prepareReturningArrays } from "../../sqlite.ts";

const SCHEMA = `
  CREATE TABLE IF NOT EXISTS chunks (
    series_id INTEGER NOT NULL,
    start_ts INTEGER NOT NULL,
    end_ts INTEGER NOT NULL,
    count INTEGER NOT NULL,
    min NOT NULL,
    max NOT NULL,
    sum NOT NULL,
    data BLOB NOT NULL,
    rollup BLOB
  );
  CREATE UNIQUE INDEX IF NOT EXISTS chunks_by_series ON chunks (series_id, start_ts);
  CREATE TABLE IF NOT EXISTS head_log (id INTEGER PRIMARY KEY, data BLOB NOT NULL);
  CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value NOT NULL) WITHOUT ROWID;
  CREATE TABLE IF NOT EXISTS series (
    id INTEGER PRIMARY KEY,
    agent_id TEXT NOT NULL,
    metric_name TEXT NOT NULL,
    labels TEXT NOT NULL
  );
`;

/** How a partition stores its chunks. */
export type PartitionLayout = "hourly" | "day";

/**
 * `PRAGMA user_version` of a partition whose `series` table names every series id it holds
 * (chunks and head log): the identity records `index.db` is checked against, and rebuilt from.
 * Partitions written before have 0 and are filled in from a sound `index.db` at open.
 */
export const IDENTITY_RECORDED = 1;

/** One identity record: series id, agent, metric, canonical labels JSON. */
export type SeriesRecord = [number, string, string, string];

export interface ChunkRow {
  rowid: number;
  startTs: number;
  endTs: number;
  count: number;
  min: number;
  max: number;
  sum: number;
  data: Uint8Array;
}

export interface NewChunk {
  seriesId: number;
  startTs: number;
  endTs: number;
  count: number;
  min: number;
  max: number;
  sum: number;
  data: Uint8Array;
  /** 5-minute rollup intervals of the chunk (`_rollup.ts`, origin its start's hour). */
  rollup?: Uint8Array;
}

type ChunkTuple = [number, number, number, number, number, number, number, Uint8Array];

function toRow(tuple: ChunkTuple): ChunkRow {
  const [rowid, startTs, endTs, count, min, max, sum, data] = tuple;
  return { rowid, startTs, endTs, count, min, max, sum, data };
}

export class ChunkPartition {
  readonly day: string;
  readonly path: string;
  #db: DatabaseSync;
  #insertChunk: StatementSync;
  #deleteChunk: StatementSync;
  #chunksFrom: StatementSync;
  #lastEnd: StatementSync;
  #lastChunk: StatementSync;
  #insertLog: StatementSync;
  #deleteLogBelow: StatementSync;
  #deleteLog: StatementSync;
  #readLog: StatementSync;
  #begin: StatementSync;
  #commit: StatementSync;
  #rollupsFrom: StatementSync;
  #recordSeries: StatementSync;
  /** "hourly" while written, "day" once compacted. */
  readonly layout: PartitionLayout;
  /** Whether every chunk has its rollup intervals (false for files of older versions). */
  readonly rollupsComplete: boolean;

  /** Ids of the series with a sealed chunk in this day (a skip scan of `chunks_by_series`). */
  sealedSeriesIds(): number[] {
    const rows = this.#db.prepare(`
  WITH RECURSIVE ids(id) AS (
    SELECT min(series_id) FROM chunks
    UNION ALL
    SELECT (SELECT series_id FROM chunks WHERE series_id > ids.id ORDER BY series_id LIMIT 1)
    FROM ids WHERE ids.id IS NOT NULL
  ) SELECT id FROM ids WHERE id IS NOT NULL
`).all() as { id: number }[];
    return rows.map((row) => row.id);
  }

  constructor(day: string, path: string, cacheSizeKib: number) {
    this.day = day;
    this.path = path;
    // The head log frees as many pages as it fills; incremental vacuum gives them back.
    this.#db = openDatabase(path, { cacheSizeKib, incrementalVacuum: true });
    try {
      const tables = new Set(
        (this.#db.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").all() as {
          name: string;
        }[]).map((row) => row.name),
      );
      this.#db.exec(SCHEMA);
      // A new file records every series it is given from its first write on.
      if (tables.size === 0) this.#db.exec(`PRAGMA user_version = ${IDENTITY_RECORDED}`);
      this.#recordSeries = this.#db.prepare(
        "INSERT OR IGNORE INTO series (id, agent_id, metric_name, labels) VALUES (?, ?, ?, ?)",
      );
      const chunkColumns = this.#db.prepare("PRAGMA table_info(chunks)").all() as {
        name: string;
      }[];
      if (!chunkColumns.some((column) => column.name === "rollup")) {
        this.#db.exec("ALTER TABLE chunks ADD COLUMN rollup BLOB");
      }
      if (!tables.has("meta")) {
        // Written by an older version (or by the row engine) when it has tables already.
        const fresh = !tables.has("chunks") && !tables.has("samples");
        const insert = this.#db.prepare("INSERT OR IGNORE INTO meta (key, value) VALUES (?, ?)");
        insert.run("layout", "hourly");
        insert.run("rollups", fresh ? 1 : 0);
      }
      const meta = new Map(
        (this.#db.prepare("SELECT key, value FROM meta").all() as { key: string; value: unknown }[])
          .map((row) => [row.key, row.value]),
      );
      const layout = meta.get("layout");
      if (layout !== "hourly" && layout !== "day") {
        throw new Error(`unknown layout ${JSON.stringify(layout)} (written by a newer oxmon?)`);
      }
      this.layout = layout;
      this.rollupsComplete = meta.get("rollups") === 1;
      const columns = "rowid, start_ts, end_ts, count, min, max, sum, data";
      this.#insertChunk = this.#db.prepare(
        "INSERT INTO chunks (series_id, start_ts, end_ts, count, min, max, sum, data, rollup) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
      );
      this.#deleteChunk = this.#db.prepare("DELETE FROM chunks WHERE rowid = ?");
      // Chunks never start before their day, and an hourly chunk never before its hour: the
      // lower bound on start_ts keeps the index scan short.
      this.#chunksFrom = prepareReturningArrays(
        this.#db,
        `SELECT ${columns} FROM chunks WHERE series_id = ? AND start_ts >= ? AND start_ts <= ? AND end_ts >= ? ORDER BY start_ts`,
      );
      this.#lastEnd = prepareReturningArrays(
        this.#db,
        "SELECT end_ts FROM chunks WHERE series_id = ? ORDER BY start_ts DESC LIMIT 1",
      );
      this.#lastChunk = prepareReturningArrays(
        this.#db,
        `SELECT ${columns} FROM chunks WHERE series_id = ? ORDER BY start_ts DESC LIMIT 1`,
      );
      this.#insertLog = this.#db.prepare("INSERT INTO head_log (data) VALUES (?)");
      this.#deleteLogBelow = this.#db.prepare("DELETE FROM head_log WHERE id < ?");
      this.#deleteLog = this.#db.prepare("DELETE FROM head_log");
      this.#readLog = prepareReturningArrays(this.#db, "SELECT id, data FROM head_log ORDER BY id");
      this.#begin = this.#db.prepare("BEGIN");
      this.#commit = this.#db.prepare("COMMIT");
      this.#rollupsFrom = prepareReturningArrays(
        this.#db,
        "SELECT start_ts, rollup FROM chunks WHERE series_id = ? AND start_ts >= ? AND start_ts <= ? ORDER BY start_ts",
      );
    } catch (error) {
      this.#db.close();
      throw new Error(`Cannot open partition ${path}: ${(error as Error).message}`, {
        cause: error,
      });
    }
  }

  get inTransaction(): boolean {
    return this.#db.isTransaction;
  }

  begin(): void {
    this.#begin.run();
  }

  commit(): void {
    this.#commit.run();
  }

  rollback(): void {
    if (this.#db.isTransaction) this.#db.exec("ROLLBACK");
  }

  insertChunk(chunk: NewChunk): void {
    this.#insertChunk.run(
      chunk.seriesId,
      chunk.startTs,
      chunk.endTs,
      chunk.count,
      bindNumber(chunk.min),
      bindNumber(chunk.max),
      bindNumber(chunk.sum),
      chunk.data,
      chunk.rollup ?? null,
    );
  }

  deleteChunk(rowid: number): void {
    this.#deleteChunk.run(rowid);
  }

  /** Chunks of a series holding samples in `[fromMs, toMs]` (at least in their span), ascending. */
  chunksOverlapping(seriesId: number, fromMs: number, toMs: number): ChunkRow[] {
    const dayStart = Date.parse(`${this.day}T00:00:00.000Z`);
    const earliest = this.layout === "day" || !Number.isFinite(fromMs)
      ? dayStart
      : Math.max(dayStart, fromMs - (fromMs % MS_PER_HOUR));
    const rows = this.#chunksFrom.all(seriesId, earliest, toMs, fromMs) as unknown as ChunkTuple[];
    return rows.map(toRow);
  }

  /**
   * Start and rollup intervals (5 minutes, from the start's clock hour) of a series' chunks
   * starting in `[fromMs, toMs]`, ascending; null for chunks without them.
   */
  rollupsBetween(
    seriesId: number,
    fromMs: number,
    toMs: number,
  ): Array<[number, Uint8Array | null]> {
    return this.#rollupsFrom.all(seriesId, fromMs, toMs) as unknown as Array<
      [number, Uint8Array | null]
    >;
  }

  /** Series with chunks in this day, ascending. */
  seriesIds(): number[] {
    const rows = prepareReturningArrays(
      this.#db,
      "SELECT DISTINCT series_id FROM chunks ORDER BY series_id",
    ).all() as unknown as [number][];
    return rows.map(([id]) => id);
  }

  /** Every chunk of a series, ascending. */
  chunksOf(seriesId: number): ChunkRow[] {
    return this.chunksOverlapping(seriesId, -Infinity, Infinity);
  }

  /** The connection, for compaction, which copies this file's other tables as they are. */
  get database(): DatabaseSync {
    return this.#db;
  }

  /** The newest sealed timestamp of a series in this day, or -Infinity. */
  lastSealedTs(seriesId: number): number {
    const row = this.#lastEnd.get(seriesId) as unknown as [number] | undefined;
    return row ? row[0] : -Infinity;
  }

  lastChunk(seriesId: number): ChunkRow | undefined {
    const row = this.#lastChunk.get(seriesId) as unknown as ChunkTuple | undefined;
    return row ? toRow(row) : undefined;
  }

  /** Appends a head-log row; returns its id. */
  appendLog(data: Uint8Array): number {
    return Number(this.#insertLog.run(data).lastInsertRowid);
  }

  /** Deletes head-log rows below `id` (every row when `id` is Infinity). */
  deleteLogBelow(id: number): void {
    if (id === Infinity) this.#deleteLog.run();
    else this.#deleteLogBelow.run(id);
  }

  readLog(): Array<[number, Uint8Array]> {
    return this.#readLog.all() as unknown as Array<[number, Uint8Array]>;
  }

  /** Records which series an id names here (inside the open transaction); kept if known. */
  recordSeries(id: number, agentId: string, metricName: string, labelsJson: string): void {
    this.#recordSeries.run(id, agentId, metricName, labelsJson);
  }

  /** Every identity record, by id. */
  seriesRecords(): SeriesRecord[] {
    const statement = prepareReturningArrays(
      this.#db,
      "SELECT id, agent_id, metric_name, labels FROM series ORDER BY id",
    );
    return statement.all() as unknown as SeriesRecord[];
  }

  /** Whether every series id held here has an identity record (see `IDENTITY_RECORDED`). */
  get identityRecorded(): boolean {
    const row = this.#db.prepare("PRAGMA user_version").get() as { user_version: number };
    return row.user_version >= IDENTITY_RECORDED;
  }

  /** Says that every series id held here now has its identity record. */
  markIdentityRecorded(): void {
    this.#db.exec(`PRAGMA user_version = ${IDENTITY_RECORDED}`);
  }

  /** Series ids of the sealed chunks (the head log's are read by whoever decodes it). */
  chunkSeriesIds(): number[] {
    const statement = prepareReturningArrays(this.#db, "SELECT DISTINCT series_id FROM chunks");
    return (statement.all() as unknown as [number][]).map(([id]) => id);
  }

  /** Whether the row engine left samples here (a `samples` table with rows). */
  hasRowSamples(): boolean {
    const table = this.#db.prepare(
      "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'samples'",
    ).get();
    if (!table) return false;
    return this.#db.prepare("SELECT 1 FROM samples LIMIT 1").get() !== undefined;
  }

  /** The row engine's samples, ordered by (series id, ts), `limit` at a time after `after`. */
  rowSamplesAfter(
    after: [number, number],
    limit: number,
  ): Array<[number, number, number]> {
    const statement = prepareReturningArrays(
      this.#db,
      "SELECT series_id, ts, value FROM samples WHERE (series_id, ts) > (?, ?) ORDER BY series_id, ts LIMIT ?",
    );
    return statement.all(after[0], after[1], limit) as unknown as Array<[number, number, number]>;
  }

  /** Drops the row engine's table once its samples live in chunks, and gives the space back. */
  dropRowSamples(): void {
    this.#db.exec("DROP TABLE IF EXISTS samples");
    this.#db.exec("VACUUM");
  }

  /** Returns free pages (left by deleted head-log rows) to the file system. */
  releaseFreePages(): void {
    this.#db.exec("PRAGMA incremental_vacuum");
  }

  integrityCheck(): string {
    const row = this.#db.prepare("PRAGMA integrity_check").get() as { integrity_check: string };
    return row.integrity_check;
  }

  close(): void {
    if (this.#db.isOpen) {
      this.rollback();
      this.#db.close();
    }
  }
}
