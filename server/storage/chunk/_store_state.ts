/**
 * What the chunk store holds between calls, shared by its appender (`_append.ts`), its queries
 * (`_read.ts`), the head-log replay (`_replay.ts`), the row conversion (`_convert.ts`) and day
 * compaction (`_compact.ts`): the series catalogue, per-series state, open chunks and pending
 * late samples in memory, the head-log rows they still need, the day partitions and the rollup
 * tier files.
 */
import { isAbsolute, join } from "node:path";
import { dayName, dayNumber, dayStartMs, MS_PER_HOUR } from "../../../shared/time.ts";
import { isDamageError } from "../../quarantine.ts";
import { DamagedDataError } from "../types.ts";
import type { PartitionCache } from "../partition_cache.ts";
import type { SeriesEntry, SeriesIndex } from "../series_index.ts";
import { decodeChunk, type DecodedChunk } from "./codec.ts";
import { HeadTable } from "./_head.ts";
import type { ChunkPartition, ChunkRow, PartitionLayout } from "./_partition.ts";
import { PendingTable } from "./_pending.ts";
import { LogReferences, type WritePlan } from "./_plan.ts";
import { NO_DAY, SeriesStates } from "./_series_state.ts";
import type { RollupTiers } from "./_tiers.ts";

export class StoreState {
  readonly dataDir: string;
  readonly index: SeriesIndex;
  readonly partitions: PartitionCache<ChunkPartition>;
  readonly tiers: RollupTiers;
  readonly states = new SeriesStates();
  /** Open chunks, by head slot (`slotOf`). */
  readonly heads = new HeadTable();
  /** Late and out-of-order samples waiting to be merged. */
  readonly pending = new PendingTable();
  /** Per day number. */
  readonly #logRefs = new Map<number, LogReferences>();
  /** Layout of each day partition opened so far, by day number. */
  readonly #layouts = new Map<number, PartitionLayout>();
  /** The day being compacted: its samples wait in pending entries until it is done. */
  compactingDay: number | undefined;
  /** Clock time of the last sample written to each day since the store opened. */
  readonly lastWriteMs = new Map<number, number>();
  /** Files found damaged since open (by path): what health lists as unreadable. */
  readonly unreadable = new Map<string, { message: string; sinceMs: number }>();
  /**
   * A plan whose commit failed and waits to be retried: what it sealed and merged is no longer
   * in open chunks or pending entries and not yet in the files, so queries read it from here
   * meanwhile (`uncommittedSamples`).
   */
  uncommitted: WritePlan | undefined;

  /** The store's clock, for when damage was found. */
  readonly now: () => number;

  constructor(
    dataDir: string,
    index: SeriesIndex,
    partitions: PartitionCache<ChunkPartition>,
    tiers: RollupTiers,
    now: () => number = Date.now,
  ) {
    this.dataDir = dataDir;
    this.now = now;
    this.index = index;
    this.partitions = partitions;
    this.tiers = tiers;
    this.now = now;
    for (const entry of index.match()) this.states.add(entry, false);
  }

  /** Notes a partition's layout when it is opened (the partition cache calls this). */
  noteLayout(dayNum: number, layout: PartitionLayout): void {
    this.#layouts.set(dayNum, layout);
  }

  /**
   * The layout of a day: "day" once compacted, "hourly" otherwise (and for days without a
   * file yet). Opens the partition the first time a day is asked about.
   */
  layoutOf(dayNum: number): PartitionLayout {
    const known = this.#layouts.get(dayNum);
    if (known !== undefined) return known;
    const day = dayName(dayNum);
    if (!this.partitions.has(day)) return "hourly";
    return this.partitions.get(day).layout;
  }

  /** Whether samples of a day wait in pending entries instead of open chunks. */
  frozen(dayNum: number): boolean {
    return dayNum === this.compactingDay || this.layoutOf(dayNum) === "day";
  }

  /** The head-log rows of one day that open chunks still reference. */
  logRefs(dayNum: number): LogReferences {
    let refs = this.#logRefs.get(dayNum);
    if (!refs) this.#logRefs.set(dayNum, refs = new LogReferences());
    return refs;
  }

  /**
   * Visits the samples of a series that a failed commit sealed or merged (in no file yet), in
   * days it has not committed.
   */
  forEachUncommitted(id: number, visit: (ts: number, value: number) => void): void {
    const plan = this.uncommitted;
    if (plan === undefined) return;
    for (const day of plan.days.values()) {
      if (day.committed) continue;
      for (const chunk of day.seals) {
        if (chunk.seriesId !== id) continue;
        const { timestamps, values } = decodeChunk(chunk.data, "chunk waiting to be committed");
        for (let i = 0; i < timestamps.length; i++) visit(timestamps[i], values[i]);
      }
      for (const rewrite of day.rewrites) {
        if (rewrite.seriesId !== id) continue;
        for (let i = 0; i < rewrite.timestamps.length; i++) {
          visit(rewrite.timestamps[i], rewrite.values[i]);
        }
      }
    }
  }

  /** Clock hours of a series with samples in open chunks or pending entries (in no rollup yet). */
  liveHours(id: number): Set<number> {
    const states = this.states;
    const hours = new Set<number>();
    for (const slot of [2 * id, 2 * id + 1]) {
      if (states.headDay[slot] !== NO_DAY) hours.add(states.windowStart[slot]);
    }
    for (const entry of this.pending.ofSeries(id)) {
      if (entry.samples.size > 0) hours.add(entry.hourStart);
    }
    this.forEachUncommitted(id, (ts) => hours.add(ts - (ts % MS_PER_HOUR)));
    return hours;
  }

  /** Forgets what memory holds of days whose files are being deleted: their open chunks too. */
  forgetDays(days: readonly string[]): void {
    const dayNums = new Set(days.map((day) => dayNumber(dayStartMs(day))));
    const states = this.states;
    for (let id = 0; id < states.limit; id++) {
      for (let slot = 2 * id; slot < 2 * id + 2; slot++) {
        if (dayNums.has(states.headDay[slot])) {
          this.heads.release(slot);
          states.headDay[slot] = NO_DAY;
          states.openHeads--;
        }
      }
      if (dayNums.has(states.sealedDay[id])) states.sealedDay[id] = NO_DAY;
    }
    for (const entry of [...this.pending.all()]) {
      if (dayNums.has(entry.dayNum)) this.pending.remove(entry);
    }
    for (const dayNum of dayNums) {
      this.#logRefs.delete(dayNum);
      this.#layouts.delete(dayNum);
      this.lastWriteMs.delete(dayNum);
    }
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
      this.tiers.close();
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
