/**
 * The chunk store's queries. A series' samples are in three places: sealed chunks (day by day),
 * its two open chunks, and its pending entries (and, while a failed commit waits to be
 * retried, what that commit sealed); each sample in exactly one of them. Raw answers gather
 * them all and sort when the memory ones were not in order.
 *
 * Buckets are aggregated with `BucketStats` (exact, order-free), from raw samples or from
 * rollup intervals where those cover whole intervals of the step (`_read_rollups.ts`).
 */
import { dayStartMs, MS_PER_DAY, MS_PER_HOUR } from "../../../shared/time.ts";
import type {
  BlockSeries,
  BucketedSeries,
  LatestSample,
  RawSeries,
  Sample,
  SeriesQuery,
} from "../types.ts";
import { type SeriesEntry, seriesKeyOf } from "../series_index.ts";
import { BucketAccumulator } from "../bucket_stats.ts";
import type { ChunkRow } from "./_partition.ts";
import { BlockCollector } from "./_blocks.ts";
import { NO_DAY } from "./_series_state.ts";
import { decodeStoredChunk, type StoreState } from "./_store_state.ts";
import { RollupPlanner } from "./_read_rollups.ts";

/** The read side of `MetricStore`, for queries already validated. */
export class ChunkReader {
  readonly #state: StoreState;

  constructor(state: StoreState) {
    this.#state = state;
  }

  queryRaw(query: SeriesQuery): RawSeries[] {
    const { fromMs, toMs } = query;
    if (fromMs > toMs) return [];
    const state = this.#state;
    const days = state.partitions.daysOverlapping(fromMs, toMs);
    const result: RawSeries[] = [];
    for (const entry of state.index.match(query)) {
      const samples: Sample[] = [];
      let ordered = true;
      let previous = -Infinity;
      forEachSample(state, entry, days, fromMs, toMs, (timestampMs, value) => {
        if (timestampMs < previous) ordered = false;
        previous = timestampMs;
        samples.push({ timestampMs, value });
      });
      if (!ordered) samples.sort((a, b) => a.timestampMs - b.timestampMs);
      if (samples.length > 0) result.push({ ...seriesKeyOf(entry), samples });
    }
    state.partitions.evictIdle();
    return result;
  }

  queryBuckets(query: SeriesQuery, stepMs: number): BucketedSeries[] {
    const { fromMs, toMs } = query;
    if (fromMs > toMs) return [];
    const state = this.#state;
    const planner = new RollupPlanner(state, fromMs, toMs, stepMs);
    const result: BucketedSeries[] = [];
    for (const entry of state.index.match(query)) {
      const buckets = new BucketAccumulator(fromMs, stepMs);
      for (const part of planner.parts(entry)) {
        if (part.kind === "intervals") {
          for (const interval of part.intervals) buckets.addStats(interval.startMs, interval.stats);
        } else {
          forEachSample(state, entry, part.days, part.fromMs, part.toMs, (ts, value) => {
            buckets.add(ts, value);
          });
        }
      }
      if (buckets.size > 0) result.push({ ...seriesKeyOf(entry), buckets: buckets.finish() });
    }
    state.partitions.evictIdle();
    return result;
  }

  /**
   * Sealed chunks inside the range, undecoded with their statistics, and the other samples in
   * blocks between them. A chunk whose hours also have samples in open chunks or pending
   * entries is decoded and merged with those, so blocks never overlap.
   */
  queryBlocks(query: SeriesQuery): BlockSeries[] {
    const { fromMs, toMs } = query;
    if (fromMs > toMs) return [];
    const state = this.#state;
    const days = state.partitions.daysOverlapping(fromMs, toMs);
    const result: BlockSeries[] = [];
    for (const entry of state.index.match(query)) {
      const live = state.liveHours(entry.id);
      const whole: Array<{ row: ChunkRow; day: string }> = [];
      const loose: Array<[number, number]> = [];
      for (const day of days) {
        for (const row of chunksOf(state, day, entry.id, fromMs, toMs)) {
          if (row.startTs >= fromMs && row.endTs <= toMs && !touches(live, row)) {
            whole.push({ row, day });
            continue;
          }
          const { timestamps, values } = decodeStoredChunk(row, entry, day);
          for (let i = 0; i < timestamps.length; i++) {
            if (timestamps[i] >= fromMs && timestamps[i] <= toMs) {
              loose.push([timestamps[i], values[i]]);
            }
          }
        }
      }
      forEachMemorySample(state, entry.id, fromMs, toMs, (ts, value) => loose.push([ts, value]));
      loose.sort((a, b) => a[0] - b[0]);
      const collector = new BlockCollector();
      let next = 0;
      for (const { row, day } of whole) {
        while (next < loose.length && loose[next][0] < row.startTs) {
          collector.sample(loose[next][0], loose[next][1]);
          next++;
        }
        collector.chunk(row, () => decodeStoredChunk(row, entry, day));
      }
      for (; next < loose.length; next++) collector.sample(loose[next][0], loose[next][1]);
      const blocks = collector.finish();
      if (blocks.length > 0) result.push({ ...seriesKeyOf(entry), blocks });
    }
    state.partitions.evictIdle();
    return result;
  }

  /** The newest sample per series of the agent: open chunks, pending entries, sealed chunks. */
  latest(agentId: string): LatestSample[] {
    const { states, heads, partitions, index, pending } = this.#state;
    const newestFirst = partitions.days().reverse();
    const result: LatestSample[] = [];
    for (const entry of index.match({ agentId })) {
      const id = entry.id;
      let newest: Sample | undefined;
      const consider = (timestampMs: number, value: number) => {
        if (!newest || timestampMs > newest.timestampMs) newest = { timestampMs, value };
      };
      for (const slot of [2 * id, 2 * id + 1]) {
        if (states.headDay[slot] !== NO_DAY) consider(heads.lastTs(slot), heads.lastValue(slot));
      }
      for (const one of pending.ofSeries(id)) {
        for (const [ts, value] of one.samples) consider(ts, value);
      }
      this.#state.forEachUncommitted(id, consider);
      for (const day of newestFirst) {
        const dayEnd = dayStartMs(day) + MS_PER_DAY - 1;
        if (newest && newest.timestampMs >= dayEnd) break;
        const row = lastChunkOf(this.#state, day, id);
        if (!row) continue;
        if (!newest || row.endTs > newest.timestampMs) {
          const { timestamps, values } = decodeStoredChunk(row, entry, day);
          consider(timestamps[row.count - 1], values[row.count - 1]);
        }
        break;
      }
      if (newest) result.push({ ...seriesKeyOf(entry), ...newest });
    }
    partitions.evictIdle();
    return result;
  }
}

function lastChunkOf(state: StoreState, day: string, id: number): ChunkRow | undefined {
  try {
    return state.partitions.get(day).lastChunk(id);
  } catch (error) {
    throw state.noteDamage(error, `${day}.db`);
  }
}

/** A series' chunks overlapping `[fromMs, toMs]` in one day; damage is noted for health. */
function chunksOf(state: StoreState, day: string, id: number, fromMs: number, toMs: number) {
  try {
    return state.partitions.get(day).chunksOverlapping(id, fromMs, toMs);
  } catch (error) {
    throw state.noteDamage(error, `${day}.db`);
  }
}

/**
 * Visits every sample of a series in `[fromMs, toMs]`: sealed chunks of `days` in time order,
 * then open chunks, then pending entries (so not in time order overall).
 */
export function forEachSample(
  state: StoreState,
  entry: SeriesEntry,
  days: readonly string[],
  fromMs: number,
  toMs: number,
  visit: (ts: number, value: number) => void,
): void {
  const id = entry.id;
  for (const day of days) {
    for (const row of chunksOf(state, day, id, fromMs, toMs)) {
      const { timestamps, values } = decodeStoredChunk(row, entry, day);
      for (let i = 0; i < timestamps.length; i++) {
        const ts = timestamps[i];
        if (ts >= fromMs && ts <= toMs) visit(ts, values[i]);
      }
    }
  }
  forEachMemorySample(state, id, fromMs, toMs, visit);
}

/** Visits the samples of a series in `[fromMs, toMs]` held in open chunks and pending entries. */
function forEachMemorySample(
  state: StoreState,
  id: number,
  fromMs: number,
  toMs: number,
  visit: (ts: number, value: number) => void,
): void {
  const { heads, states, pending } = state;
  // The older hour first: most answers then come out in order without sorting.
  const slots = states.windowStart[2 * id] <= states.windowStart[2 * id + 1]
    ? [2 * id, 2 * id + 1]
    : [2 * id + 1, 2 * id];
  for (const slot of slots) {
    if (states.headDay[slot] === NO_DAY) continue;
    if (heads.lastTs(slot) < fromMs || heads.firstTs(slot) > toMs) continue;
    heads.forEach(slot, (ts, value) => {
      if (ts >= fromMs && ts <= toMs) visit(ts, value);
    });
  }
  for (const one of pending.ofSeries(id)) {
    if (one.hourStart > toMs || one.hourStart + MS_PER_HOUR <= fromMs) continue;
    for (const [ts, value] of one.samples) {
      if (ts >= fromMs && ts <= toMs) visit(ts, value);
    }
  }
  state.forEachUncommitted(id, (ts, value) => {
    if (ts >= fromMs && ts <= toMs) visit(ts, value);
  });
}

/** Whether a chunk's span reaches into one of `hours`. */
function touches(hours: Set<number>, row: ChunkRow): boolean {
  for (const hour of hours) {
    if (hour <= row.endTs && hour + MS_PER_HOUR > row.startTs) return true;
  }
  return false;
}
