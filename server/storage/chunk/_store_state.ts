/**
 * What the chunk store holds between calls, shared by its appender (`_append.ts`), its queries
 * (`_read.ts`), the head-log replay (`_replay.ts`) and the row conversion (`_convert.ts`): the
 * series catalogue, per-series state and open chunks in memory, the head-log rows open chunks
 * still need, and the day partitions.
 */
import { isAbsolute, join } from "node:path";
import { dayNumber, dayStartMs } from "../../../shared/time.ts";
import { isDamageError } from "../../quarantine.ts";
import { DamagedDataError } from "../types.ts";
import type { PartitionCache } from "../partition_cache.ts";
import type { SeriesEntry, SeriesIndex } from "../series_index.ts";
import { decodeChunk, type DecodedChunk } from "./codec.ts";
import { HeadTable } from "./_head.ts";
import type { ChunkPartition, ChunkRow } from "./_partition.ts";
import { LogReferences } from "./_plan.ts";
import { NO_DAY, SeriesStates } from "./_series_state.ts";

export class StoreState {
  readonly dataDir: string;
  readonly index: SeriesIndex;
  readonly partitions: PartitionCache<ChunkPartition>;
  readonly states = new SeriesStates();
  /** Open chunks, by series id. */
  readonly heads = new HeadTable();
  /** Per day number. */
  readonly #logRefs = new Map<number, LogReferences>();
  /** Files found damaged since open (by path): what health lists as unreadable. */
  readonly unreadable = new Map<string, { message: string; sinceMs: number }>();
  /**
   * Chunks sealed by a commit that failed and waits to be retried, per series id: no longer in
   * the open chunks and not yet in the files, so queries read them from here meanwhile.
   */
  pendingSeals: Map<number, ChunkRow[]> | undefined;

  /** The store's clock, for when damage was found. */
  readonly now: () => number;

  constructor(
    dataDir: string,
    index: SeriesIndex,
    partitions: PartitionCache<ChunkPartition>,
    now: () => number = Date.now,
  ) {
    this.dataDir = dataDir;
    this.now = now;
    this.index = index;
    this.partitions = partitions;
    for (const entry of index.match()) this.states.add(entry, false);
  }

  /** The head-log rows of one day that open chunks still reference. */
  logRefs(dayNum: number): LogReferences {
    let refs = this.#logRefs.get(dayNum);
    if (!refs) this.#logRefs.set(dayNum, refs = new LogReferences());
    return refs;
  }

  /** Forgets what memory holds of days whose files are being deleted: their open chunks too. */
  forgetDays(days: readonly string[]): void {
    const dayNums = new Set(days.map((day) => dayNumber(dayStartMs(day))));
    const states = this.states;
    for (let id = 0; id < states.limit; id++) {
      if (dayNums.has(states.headDay[id])) {
        this.heads.release(id);
        states.headDay[id] = NO_DAY;
        states.openHeads--;
      }
      if (dayNums.has(states.sealedDay[id])) states.sealedDay[id] = NO_DAY;
    }
    for (const dayNum of dayNums) this.#logRefs.delete(dayNum);
  }

  /**
   * Remembers damage `error` reports (a `DamagedDataError`, or SQLite's own words about a
   * partition being read, `file`), so health says so; returns the error to throw.
   */
  noteDamage(error: unknown, file?: string): unknown {
    let damaged: DamagedDataError | undefined;
    if (error instanceof DamagedDataError) damaged = error;
    else if (file !== undefined && isDamageError(error)) {
      damaged = new DamagedDataError(file, `${file}: ${(error as Error).message}`, {
        cause: error,
      });
    }
    if (damaged === undefined) return error;
    const path = isAbsolute(damaged.file) ? damaged.file : join(this.dataDir, damaged.file);
    if (!this.unreadable.has(path)) {
      this.unreadable.set(path, { message: damaged.message, sinceMs: this.now() });
    }
    return damaged;
  }

  close(): void {
    try {
      this.partitions.closeAll();
    } finally {
      this.index.close();
    }
  }
}

export function describeSeries(entry: SeriesEntry): string {
  return `series ${entry.id} (agent ${JSON.stringify(entry.agentId)}, metric ${
    JSON.stringify(entry.metricName)
  }, labels ${entry.labelsJson})`;
}

/**
 * Decodes a stored chunk; a damaged one throws a `DamagedDataError` naming its series, start
 * and file.
 */
export function decodeStoredChunk(row: ChunkRow, entry: SeriesEntry, day: string): DecodedChunk {
  try {
    return decodeChunk(
      row.data,
      `chunk of ${describeSeries(entry)} starting ${
        new Date(row.startTs).toISOString()
      } in ${day}.db`,
    );
  } catch (error) {
    throw new DamagedDataError(`${day}.db`, (error as Error).message, { cause: error });
  }
}
