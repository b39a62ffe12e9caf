/**
 * Compaction of finished days: once a past day has no open chunk, no pending sample and no
 * write for `COMPACT_QUIET_MS`, its file is rebuilt once, series by series, with one version-2
 * block per series for the whole day (`_block_codec.ts`) in a fresh SQLite file (no free pages,
 * no half-full pages of hourly rows), and its chunks' rollups move into the tier files. Measured on
 * the synthetic day of host metrics: 2.2 bytes per sample before, about 1 after.
 *
 * The work runs in steps (`step(nowMs, budgetMs)`) between writes. While a day is compacted its
 * file does not change: samples for it wait in pending entries (their head-log rows go to the
 * old file and are copied over), and merges into it wait. The new file is written beside the
 * old one (`<day>.db.compact`), synced, and renamed over it; the tier rows are written before
 * the rename. A crash before the rename leaves the old file and a stray `.compact` file, removed
 * at the next open (compaction starts over); after it, the new file. Tables this module does
 * not know are copied as they are.
 */
import type { DatabaseSync } from "node:sqlite";
import { join } from "node:path";
import type { Logger } from "../../../shared/log.ts";
import { dayName, dayNumber, MS_PER_DAY, MS_PER_MINUTE } from "../../../shared/time.ts";
import { partitionPath } from "../partition_files.ts";
import { bindNumber, openDatabase } from "../../sqlite.ts";
import { DAY_BLOCK_MAX_SAMPLES } from "./_commit.ts";
import { newChunk } from "./_new_chunk.ts";
import {
  coarsen,
  decodeIntervals,
  encodeIntervals,
  FIVE_MINUTES_MS,
  intervalsOf,
  mergeIntervals,
  ONE_HOUR_MS,
  type RollupInterval,
} from "./_rollup.ts";
import type { ChunkPartition } from "./_partition.ts";
import type { SeriesEntry } from "../series_index.ts";
import { NO_DAY } from "./_series_state.ts";
import { decodeStoredChunk, describeSeries, type StoreState } from "./_store_state.ts";
import type { TierSpec } from "./_tiers.ts";

/** A finished day is compacted once nothing was written to it for this long. */
export const COMPACT_QUIET_MS = MS_PER_MINUTE;
const TEMP_SUFFIX = ".compact";
/** After a failed compaction, the next try waits this long. */
const RETRY_AFTER_FAILURE_MS = 10 * MS_PER_MINUTE;
const COMPACT_PAGE_SIZE = 1024;

interface Job {
  dayNum: number;
  day: string;
  tempPath: string;
  db: DatabaseSync;
  insert: ReturnType<DatabaseSync["prepare"]>;
  ids: number[];
  next: number;
  tierRows: Map<TierSpec, Array<[number, number, Uint8Array]>>;
  startedMs: number;
  samples: number;
}

export interface CompactorOptions {
  log: Logger;
  /** When the store opened: days not written since count as written then. */
  openedMs: number;
}

/** Removes what an interrupted compaction left (`<day>.db.compact` and its journal). */
export function removeCompactionLeftovers(dataDir: string): void {
  for (const entry of Deno.readDirSync(dataDir)) {
    if (entry.isFile && /^\d{4}-\d{2}-\d{2}\.db\.compact(-journal|-wal|-shm)?$/.test(entry.name)) {
      Deno.removeSync(join(dataDir, entry.name));
    }
  }
}

export class DayCompactor {
  readonly #state: StoreState;
  readonly #log: Logger;
  readonly #openedMs: number;
  #job: Job | undefined;
  #retryAfterMs = -Infinity;
  /** Days compacted since the store opened. */
  compacted = 0;

  constructor(state: StoreState, options: CompactorOptions) {
    this.#state = state;
    this.#log = options.log;
    this.#openedMs = options.openedMs;
  }

  /** Past days not compacted yet, ascending. */
  pendingDays(nowMs: number): string[] {
    const today = dayNumber(nowMs);
    return this.#state.partitions.days().filter((day) => {
      const dayNum = dayNumber(Date.parse(day));
      return dayNum < today && this.#state.layoutOf(dayNum) === "hourly";
    });
  }

  /** Compacts for about `budgetMs`; returns whether work is left (a day half done or ready). */
  step(nowMs: number, budgetMs: number): boolean {
    const started = performance.now();
    if (nowMs < this.#retryAfterMs) return false;
    if (this.#job === undefined) {
      const dayNum = this.#nextDay(nowMs);
      if (dayNum === undefined) return false;
      this.#start(dayNum);
    }
    const job = this.#job!;
    try {
      while (job.next < job.ids.length && performance.now() - started < budgetMs) {
        this.#compactSeries(job, job.ids[job.next++]);
      }
      if (job.next < job.ids.length) return true;
      this.#finish(job);
      return this.#nextDay(nowMs) !== undefined;
    } catch (error) {
      // The day stays as it was; a disk that is full or a damaged chunk should not make every
      // maintenance round fail the same way.
      this.abort();
      this.#retryAfterMs = nowMs + RETRY_AFTER_FAILURE_MS;
      throw new Error(
        `Cannot compact ${job.day}.db (trying again in ${
          RETRY_AFTER_FAILURE_MS / 60_000
        } minutes): ${(error as Error).message}`,
        { cause: error },
      );
    }
  }

  /** Drops a compaction in progress (the day stays as it was). */
  abort(): void {
    const job = this.#job;
    if (job === undefined) return;
    this.#job = undefined;
    this.#state.compactingDay = undefined;
    if (job.db.isOpen) job.db.close();
    for (const suffix of ["", "-journal"]) {
      try {
        Deno.removeSync(job.tempPath + suffix);
      } catch (error) {
        if (!(error instanceof Deno.errors.NotFound)) throw error;
      }
    }
  }

  /** The oldest past day ready to compact: quiet, nothing open or pending. */
  #nextDay(nowMs: number): number | undefined {
    const state = this.#state;
    const today = dayNumber(nowMs);
    const busy = new Set<number>();
    const { states } = state;
    if (states.openHeads > 0) {
      for (let slot = 0; slot < 2 * states.limit; slot++) {
        if (states.headDay[slot] !== NO_DAY) busy.add(states.headDay[slot]);
      }
    }
    for (const entry of state.pending.all()) busy.add(entry.dayNum);
    for (const day of state.partitions.days()) {
      const dayNum = dayNumber(Date.parse(day));
      if (dayNum >= today || busy.has(dayNum)) continue;
      const lastWrite = state.lastWriteMs.get(dayNum) ?? this.#openedMs;
      if (lastWrite + COMPACT_QUIET_MS > nowMs) continue;
      if (state.layoutOf(dayNum) !== "hourly") continue;
      return dayNum;
    }
    return undefined;
  }

  #start(dayNum: number): void {
    const state = this.#state;
    const day = dayName(dayNum);
    const old = state.partitions.get(day);
    const tempPath = partitionPath(state.dataDir, day) + TEMP_SUFFIX;
    removeCompactionLeftovers(state.dataDir);
    // Built once and synced before it replaces anything: no syncs while building.
    // 1 KiB pages: a day block (8 KB) spills into overflow pages that SQLite fills up, and
    // the part left in the leaf pages is small, so little is wasted around it (measured on
    // the synthetic day: 3 % over the blocks' bytes, 8 % with 4 KiB pages).
    const db = openDatabase(tempPath, {
      pageSize: COMPACT_PAGE_SIZE,
      incrementalVacuum: true,
      unsynced: true,
    });
    try {
      const schema = old.database.prepare(
        "SELECT sql FROM sqlite_master WHERE sql IS NOT NULL AND name NOT LIKE 'sqlite_%' ORDER BY type DESC",
      ).all() as { sql: string }[];
      // The identity-record marker (`IDENTITY_RECORDED`) and anything else kept there.
      const { user_version: userVersion } = old.database.prepare("PRAGMA user_version").get() as {
        user_version: number;
      };
      db.exec(`PRAGMA user_version = ${Number(userVersion)}`);
      db.exec("BEGIN");
      for (const { sql } of schema) db.exec(sql);
      const insert = db.prepare(
        "INSERT INTO chunks (series_id, start_ts, end_ts, count, min, max, sum, data) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
      );
      state.compactingDay = dayNum;
      this.#job = {
        dayNum,
        day,
        tempPath,
        db,
        insert,
        ids: old.seriesIds(),
        next: 0,
        tierRows: new Map(state.tiers.tiers.map((tier) => [tier, []])),
        startedMs: performance.now(),
        samples: 0,
      };
    } catch (error) {
      if (db.isOpen) db.close();
      Deno.removeSync(tempPath);
      throw error;
    }
  }

  #compactSeries(job: Job, id: number): void {
    const state = this.#state;
    const entry = state.states.entries[id];
    // Chunks of a series index.db no longer knows are kept as they are.
    const old = state.partitions.get(job.day);
    const rows = old.chunksOf(id);
    if (entry === undefined) {
      for (const row of rows) {
        job.insert.run(
          id,
          row.startTs,
          row.endTs,
          row.count,
          bindNumber(row.min),
          bindNumber(row.max),
          bindNumber(row.sum),
          row.data,
        );
      }
      return;
    }
    const { timestamps, values } = this.#samplesOf(old, entry);
    if (timestamps.length === 0) return;
    job.samples += timestamps.length;
    const pieces = Math.ceil(timestamps.length / DAY_BLOCK_MAX_SAMPLES);
    const size = Math.ceil(timestamps.length / pieces);
    for (let start = 0; start < timestamps.length; start += size) {
      const end = Math.min(timestamps.length, start + size);
      const chunk = newChunk(
        id,
        timestamps.slice(start, end),
        values.slice(start, end),
        end - start,
        { block: true },
      );
      job.insert.run(
        id,
        chunk.startTs,
        chunk.endTs,
        chunk.count,
        bindNumber(chunk.min),
        bindNumber(chunk.max),
        bindNumber(chunk.sum),
        chunk.data,
      );
    }
    for (const [tier, data] of this.#tierRows(old, entry, job.dayNum, timestamps, values)) {
      job.tierRows.get(tier)!.push([job.dayNum, id, data]);
    }
  }

  /**
   * A series' rows of one day in each tier: from the rollups its chunks got as they were
   * sealed, or, for a day written by a version without rollups, from its samples (`samples`
   * gives them when the caller has them in hand).
   */
  #tierRows(
    partition: ChunkPartition,
    entry: SeriesEntry,
    dayNum: number,
    timestamps?: ArrayLike<number>,
    values?: ArrayLike<number>,
  ): Array<[TierSpec, Uint8Array]> {
    const tiers = this.#state.tiers.tiers;
    if (tiers.length === 0) return [];
    const dayStart = dayNum * MS_PER_DAY;
    let fine: RollupInterval[];
    const built = partition.rollupsComplete ? chunkRollups(partition, entry) : undefined;
    if (built !== undefined) {
      // The rollups built as the day's chunks were sealed.
      fine = tiers[0].resolutionMs === FIVE_MINUTES_MS
        ? built
        : coarsen(built, tiers[0].resolutionMs);
    } else {
      // Written by a version without rollups: built now, from the samples.
      if (timestamps === undefined || values === undefined) {
        const samples = this.#samplesOf(partition, entry);
        timestamps = samples.timestamps;
        values = samples.values;
      }
      fine = intervalsOf(timestamps, values!, timestamps.length, tiers[0].resolutionMs);
    }
    const rows: Array<[TierSpec, Uint8Array]> = [];
    for (const tier of tiers) {
      const intervals = tier === tiers[0] ? fine : coarsen(fine, tier.resolutionMs);
      if (intervals.length === 0) continue;
      rows.push([tier, encodeIntervals(dayStart, tier.resolutionMs, intervals, tier.packing)]);
    }
    return rows;
  }

  /** Every sample of a series in a partition, ascending. */
  #samplesOf(
    partition: ChunkPartition,
    entry: SeriesEntry,
  ): { timestamps: number[]; values: number[] } {
    const timestamps: number[] = [];
    const values: number[] = [];
    for (const row of partition.chunksOf(entry.id)) {
      const decoded = decodeStoredChunk(row, entry, partition.day);
      for (let i = 0; i < decoded.timestamps.length; i++) {
        if (timestamps.length > 0 && decoded.timestamps[i] <= timestamps[timestamps.length - 1]) {
          throw new Error(`chunks of ${describeSeries(entry)} in ${partition.day}.db overlap`);
        }
        timestamps.push(decoded.timestamps[i]);
        values.push(decoded.values[i]);
      }
    }
    return { timestamps, values };
  }

  /**
   * Writes the tier rows of a day that was never compacted, before its partition is deleted
   * (retention can reach a day the store had no chance to compact, e.g. after a long stop).
   */
  moveRollups(day: string): void {
    const state = this.#state;
    const dayNum = dayNumber(Date.parse(day));
    if (state.tiers.tiers.length === 0 || state.layoutOf(dayNum) === "day") return;
    const partition = state.partitions.get(day);
    const byTier = new Map<TierSpec, Array<[number, number, Uint8Array]>>();
    for (const id of partition.seriesIds()) {
      const entry = state.states.entries[id];
      if (entry === undefined) continue;
      for (const [tier, data] of this.#tierRows(partition, entry, dayNum)) {
        let rows = byTier.get(tier);
        if (!rows) byTier.set(tier, rows = []);
        rows.push([dayNum, id, data]);
      }
    }
    for (const [tier, rows] of byTier) state.tiers.put(tier, rows);
  }

  #finish(job: Job): void {
    const state = this.#state;
    const { db, day } = job;
    const old = state.partitions.get(day);
    // Rollups first: until the rename the old file answers, and a retry writes them again.
    for (const [tier, rows] of job.tierRows) {
      rows.sort((a, b) => a[1] - b[1]);
      state.tiers.put(tier, rows);
    }
    const oldPath = old.path;
    db.exec(`ATTACH DATABASE '${oldPath.replaceAll("'", "''")}' AS old`);
    const tables = db.prepare(
      "SELECT name FROM old.sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name NOT IN ('chunks', 'rollups', 'meta')",
    ).all() as { name: string }[];
    for (const { name } of tables) {
      const quoted = `"${name.replaceAll('"', '""')}"`;
      db.exec(`INSERT INTO main.${quoted} SELECT * FROM old.${quoted}`);
    }
    db.exec(
      "INSERT OR REPLACE INTO main.meta (key, value) VALUES ('layout', 'day'), ('rollups', 1)",
    );
    db.exec("COMMIT");
    db.exec("DETACH DATABASE old");
    db.close();
    const file = Deno.openSync(job.tempPath, { read: true, write: true });
    try {
      file.syncSync();
    } finally {
      file.close();
    }
    // The old connection checkpoints and removes its -wal and -shm as it closes.
    state.partitions.close(day);
    Deno.renameSync(job.tempPath, oldPath);
    syncDirectory(state.dataDir);
    state.noteLayout(job.dayNum, "day");
    state.compactingDay = undefined;
    this.#job = undefined;
    this.compacted++;
    this.#log.info("chunk store compacted a finished day", {
      day,
      series: job.ids.length,
      samples: job.samples,
      ms: Math.round(performance.now() - job.startedMs),
    });
  }
}

/**
 * The 5-minute intervals of a series' day, merged from its chunks' rollups; undefined when a
 * chunk has none.
 */
function chunkRollups(partition: ChunkPartition, entry: SeriesEntry): RollupInterval[] | undefined {
  const lists: RollupInterval[][] = [];
  for (const [startTs, data] of partition.rollupsBetween(entry.id, -Infinity, Infinity)) {
    if (data === null) return undefined;
    const hour = startTs - (startTs % ONE_HOUR_MS);
    const where = `chunk at ${new Date(startTs).toISOString()} of ${
      describeSeries(entry)
    } in ${partition.day}.db`;
    lists.push(decodeIntervals(data, hour, FIVE_MINUTES_MS, where));
  }
  return mergeIntervals(lists.flat(), []);
}

/** Makes a rename durable; file systems that cannot sync a directory are left to themselves. */
function syncDirectory(path: string): void {
  try {
    const dir = Deno.openSync(path, { read: true });
    try {
      dir.syncSync();
    } finally {
      dir.close();
    }
  } catch {
    // Not supported here (some platforms refuse to open a directory).
  }
}
