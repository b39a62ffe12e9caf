/**
 * What the chunk store holds between calls, shared by its appender (`_append.ts`), its queries
 * (`_read.ts`), the head-log replay (`_replay.ts`) and the row conversion (`_convert.ts`): the
 * series catalogue, per-series state and open chunks in memory, the head-log rows open chunks
 * still need, and the day partitions.
 */
import { dayNumber, dayStartMs } from "../../../shared/time.ts";
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
  /**
   * Chunks sealed by a commit that failed and waits to be retried, per series id: no longer in
   * the open chunks and not yet in the files, so queries read them from here meanwhile.
   */
  pendingSeals: Map<number, ChunkRow[]> | undefined;

  constructor(dataDir: string, index: SeriesIndex, partitions: PartitionCache<ChunkPartition>) {
    this.dataDir = dataDir;
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

/** Decodes a stored chunk; a damaged one throws an error naming its series, start and file. */
export function decodeStoredChunk(row: ChunkRow, entry: SeriesEntry, day: string): DecodedChunk {
  return decodeChunk(
    row.data,
    `chunk of ${describeSeries(entry)} starting ${
      new Date(row.startTs).toISOString()
    } in ${day}.db`,
  );
}
