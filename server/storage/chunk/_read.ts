/**
 * The chunk store's queries: each series is read from its sealed chunks day by day, with its
 * open chunk visited in its place in time. Buckets aggregate a chunk that lies wholly inside
 * one bucket from its stored min, max, sum and count, without decoding it.
 */
import { dayNumber, dayStartMs, MS_PER_DAY, MS_PER_HOUR } from "../../../shared/time.ts";
import type {
  BlockSeries,
  BucketedSeries,
  LatestSample,
  RawSeries,
  Sample,
  SeriesQuery,
} from "../types.ts";
import { type SeriesEntry, seriesKeyOf } from "../series_index.ts";
import type { ChunkRow } from "./_partition.ts";
import { BucketAccumulator } from "./_aggregate.ts";
import { BlockCollector } from "./_blocks.ts";
import { NO_DAY } from "./_series_state.ts";
import { decodeStoredChunk, type StoreState } from "./_store_state.ts";

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
      forEachSample(state, entry, {
        fromMs,
        toMs,
        days,
        visit: (timestampMs, value) => samples.push({ timestampMs, value }),
      });
      if (samples.length > 0) result.push({ ...seriesKeyOf(entry), samples });
    }
    state.partitions.evictIdle();
    return result;
  }

  queryBuckets(query: SeriesQuery, stepMs: number): BucketedSeries[] {
    const { fromMs, toMs } = query;
    if (fromMs > toMs) return [];
    const state = this.#state;
    const days = state.partitions.daysOverlapping(fromMs, toMs);
    const result: BucketedSeries[] = [];
    for (const entry of state.index.match(query)) {
      const buckets = new BucketAccumulator(fromMs, stepMs);
      forEachSample(state, entry, {
        fromMs,
        toMs,
        days,
        takeChunk: (row) => {
          // A chunk wholly inside one bucket and the range is aggregated without decoding.
          if (row.startTs < fromMs || row.endTs > toMs) return false;
          const index = buckets.indexOf(row.startTs);
          if (index !== buckets.indexOf(row.endTs)) return false;
          buckets.addChunk(index, row.count, row);
          return true;
        },
        visit: (ts, value) => buckets.add(ts, value),
      });
      const list = buckets.finish();
      if (list.length > 0) result.push({ ...seriesKeyOf(entry), buckets: list });
    }
    state.partitions.evictIdle();
    return result;
  }

  /** Sealed chunks inside the range undecoded with their statistics, other samples in blocks. */
  queryBlocks(query: SeriesQuery): BlockSeries[] {
    const { fromMs, toMs } = query;
    if (fromMs > toMs) return [];
    const state = this.#state;
    const days = state.partitions.daysOverlapping(fromMs, toMs);
    const result: BlockSeries[] = [];
    for (const entry of state.index.match(query)) {
      const collector = new BlockCollector();
      forEachSample(state, entry, {
        fromMs,
        toMs,
        days,
        takeChunk: (row, day) => {
          if (row.startTs < fromMs || row.endTs > toMs) return false;
          collector.chunk(row, () => decodeStoredChunk(row, entry, day));
          return true;
        },
        visit: (ts, value) => collector.sample(ts, value),
      });
      const blocks = collector.finish();
      if (blocks.length > 0) result.push({ ...seriesKeyOf(entry), blocks });
    }
    state.partitions.evictIdle();
    return result;
  }

  /** The open chunk's newest sample, else the newest sealed chunk's, per series of the agent. */
  latest(agentId: string): LatestSample[] {
    const { states, heads, partitions, index } = this.#state;
    const newestFirst = partitions.days().reverse();
    const result: LatestSample[] = [];
    for (const entry of index.match({ agentId })) {
      const headDay = states.headDay[entry.id];
      let newest: Sample | undefined = headDay !== NO_DAY
        ? { timestampMs: heads.lastTs(entry.id), value: heads.lastValue(entry.id) }
        : undefined;
      for (const day of newestFirst) {
        if (headDay !== NO_DAY && dayNumber(dayStartMs(day)) < headDay) break;
        const dayStart = dayStartMs(day);
        const row = withPending(
          this.#state,
          entry.id,
          [lastChunkOf(this.#state, day, entry.id)].filter((one) => one !== undefined),
          dayStart,
          dayStart + MS_PER_DAY - 1,
        ).at(-1);
        if (!row) continue;
        if (!newest || row.endTs > newest.timestampMs) {
          const { timestamps, values } = decodeStoredChunk(row, entry, day);
          newest = { timestampMs: timestamps[row.count - 1], value: values[row.count - 1] };
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

/**
 * `rows` with the series' chunks that a failed commit sealed and that wait to be committed
 * (`StoreState.pendingSeals`) starting in `[fromStart, toStart]`, ascending.
 */
function withPending(
  state: StoreState,
  id: number,
  rows: ChunkRow[],
  fromStart: number,
  toStart: number,
): ChunkRow[] {
  const pending = state.pendingSeals?.get(id);
  if (pending === undefined) return rows;
  const extra = pending.filter((row) => row.startTs >= fromStart && row.startTs <= toStart);
  if (extra.length === 0) return rows;
  return [...rows, ...extra].sort((a, b) => a.startTs - b.startTs);
}

/** One series' samples in `[fromMs, toMs]` from the partitions of `days`. */
interface SampleScan {
  fromMs: number;
  toMs: number;
  days: readonly string[];
  /** Sees each sealed chunk first; true when it took the chunk whole (it is not decoded). */
  takeChunk?: (row: ChunkRow, day: string) => boolean;
  /** Gets every other sample, ascending. */
  visit: (ts: number, value: number) => void;
}

/** Runs a scan over the sealed chunks of a series, with its open chunk in its place in time. */
function forEachSample(state: StoreState, entry: SeriesEntry, scan: SampleScan): void {
  const { fromMs, toMs, takeChunk, visit } = scan;
  const id = entry.id;
  const heads = state.heads;
  const headDay = state.states.headDay[id];
  let headDone = headDay === NO_DAY;
  const visitHead = () => {
    headDone = true;
    if (heads.lastTs(id) < fromMs || heads.firstTs(id) > toMs) return;
    heads.forEach(id, (ts, value) => {
      if (ts >= fromMs && ts <= toMs) visit(ts, value);
    });
  };
  for (const day of scan.days) {
    const dayStart = dayStartMs(day);
    const dayNum = dayNumber(dayStart);
    if (!headDone && headDay < dayNum) visitHead();
    const fromStart = Math.max(fromMs - (fromMs % MS_PER_HOUR), dayStart);
    let stored: ChunkRow[];
    try {
      stored = state.partitions.get(day).chunksStarting(id, fromStart, toMs);
    } catch (error) {
      throw state.noteDamage(error, `${day}.db`);
    }
    const rows = withPending(
      state,
      id,
      stored,
      fromStart,
      Math.min(toMs, dayStart + MS_PER_DAY - 1),
    );
    for (const row of rows) {
      if (row.endTs < fromMs) continue;
      if (takeChunk?.(row, day)) continue;
      const { timestamps, values } = decodeStoredChunk(row, entry, day);
      for (let i = 0; i < timestamps.length; i++) {
        const ts = timestamps[i];
        if (ts >= fromMs && ts <= toMs) visit(ts, values[i]);
      }
    }
    if (!headDone && headDay === dayNum) visitHead();
  }
  if (!headDone) visitHead();
}
