/**
 * The row storage engine: one SQLite file per UTC day, one row per sample keyed by
 * (series id, timestamp), series ids in `index.db`. It is the reference the chunk engine is
 * checked against, so it favours plain, obviously correct SQL over cleverness.
 *
 * Queries never ATTACH partitions (SQLite allows only 10 per connection): each partition is read
 * through its own connection and the results are merged here.
 */
import { dayName, dayNumber, dayStartMs, MS_PER_DAY } from "../../shared/time.ts";
import type { MetricDataPoint } from "../../shared/types.ts";
import { blocksByHour } from "./blocks.ts";
import type {
  BlockSeries,
  BucketedSeries,
  LatestSample,
  MetricStore,
  RawSeries,
  Sample,
  SeriesKey,
  SeriesQuery,
  StorageStats,
  StoreOptions,
  WriteResult,
} from "./types.ts";
import {
  canonicalLabelsJson,
  seriesIdentity,
  validatePoints,
  validateRange,
  validateStep,
} from "./points.ts";
import { partitionStats } from "./partition_files.ts";
import { PartitionCache } from "./partition_cache.ts";
import { type SeriesEntry, SeriesIndex, seriesKeyOf } from "./series_index.ts";
import { RowPartition } from "./_row_partition.ts";
import { BucketAccumulator } from "./bucket_stats.ts";

export interface RowStoreOptions extends StoreOptions {
  /**
   * Partition connections kept open between calls; the least recently used beyond this are
   * closed. Default 4: today's and yesterday's take the writes, the rest serve queries.
   */
  maxOpenPartitions?: number;
}

const DEFAULT_CACHE_KIB = 65_536;
const DEFAULT_MAX_OPEN_PARTITIONS = 4;

/** Samples of one write call bound for one day, in arrival order. */
interface DayBatch {
  day: string;
  seriesIds: number[];
  timestamps: number[];
  values: number[];
}

export function openRowStore(options: RowStoreOptions): MetricStore {
  return new RowStore(options);
}

class RowStore implements MetricStore {
  readonly #index: SeriesIndex;
  readonly #partitions: PartitionCache<RowPartition>;
  #closed = false;

  constructor(options: RowStoreOptions) {
    const { dataDir } = options;
    if (typeof dataDir !== "string" || dataDir === "") {
      throw new TypeError(`Cannot open row store: dataDir must be a non-empty string`);
    }
    const cacheSizeKib = options.cacheSizeKib ?? DEFAULT_CACHE_KIB;
    if (!Number.isFinite(cacheSizeKib) || cacheSizeKib <= 0) {
      throw new RangeError(
        `Cannot open row store: cacheSizeKib must be positive, got ${options.cacheSizeKib}`,
      );
    }
    const maxOpen = options.maxOpenPartitions ?? DEFAULT_MAX_OPEN_PARTITIONS;
    if (!Number.isInteger(maxOpen) || maxOpen < 1) {
      throw new RangeError(
        `Cannot open row store: maxOpenPartitions must be a positive integer, got ${options.maxOpenPartitions}`,
      );
    }
    Deno.mkdirSync(dataDir, { recursive: true });
    this.#index = new SeriesIndex(dataDir, cacheSizeKib);
    this.#partitions = new PartitionCache(dataDir, {
      maxOpen,
      openPartition: (day, path) => new RowPartition(day, path, cacheSizeKib),
    });
  }

  write(points: readonly MetricDataPoint[]): WriteResult {
    this.#assertOpen();
    validatePoints(points);
    const result: WriteResult = { written: 0, duplicates: 0, conflicts: 0 };
    if (points.length === 0) return result;

    const added: SeriesEntry[] = [];
    const touched: RowPartition[] = [];
    try {
      const batches = this.#groupByDay(points, added);
      for (const batch of batches) {
        const partition = this.#partition(batch.day, true);
        partition.begin();
        touched.push(partition);
        const { seriesIds, timestamps, values } = batch;
        for (let i = 0; i < seriesIds.length; i++) {
          const outcome = partition.insert(seriesIds[i], timestamps[i], values[i]);
          if (outcome === "written") result.written++;
          else if (outcome === "duplicate") result.duplicates++;
          else result.conflicts++;
        }
      }
      // Series first: a crash between the commits leaves a series without samples, never
      // samples whose series id is unknown.
      if (added.length > 0) this.#index.commit();
      for (const partition of touched) partition.commit();
    } catch (error) {
      for (const partition of touched) partition.rollback();
      this.#index.rollback(added);
      throw error;
    } finally {
      this.#partitions.evictIdle();
    }
    return result;
  }

  /** Resolves series ids (registering new ones in an open index transaction) and splits by day. */
  #groupByDay(points: readonly MetricDataPoint[], added: SeriesEntry[]): DayBatch[] {
    const byDay = new Map<number, DayBatch>();
    for (const point of points) {
      const labelsJson = canonicalLabelsJson(point.labels);
      const identity = seriesIdentity(point.agentId, point.metricName, labelsJson);
      let entry = this.#index.get(identity);
      if (!entry) {
        if (added.length === 0) this.#index.begin();
        entry = this.#index.add(identity, point.agentId, point.metricName, labelsJson);
        added.push(entry);
      }
      const dayNum = dayNumber(point.timestampMs);
      let batch = byDay.get(dayNum);
      if (!batch) {
        batch = { day: dayName(dayNum), seriesIds: [], timestamps: [], values: [] };
        byDay.set(dayNum, batch);
      }
      batch.seriesIds.push(entry.id);
      batch.timestamps.push(point.timestampMs);
      batch.values.push(point.value);
    }
    return [...byDay.values()];
  }

  queryRaw(query: SeriesQuery): RawSeries[] {
    this.#assertOpen();
    validateRange(query);
    const series = this.#index.match(query);
    const days = this.#partitions.daysOverlapping(query.fromMs, query.toMs);
    if (series.length === 0 || days.length === 0) return [];

    const samples = new Map<number, Sample[]>();
    for (const day of days) {
      const partition = this.#partition(day, false);
      const [from, to] = clampToDay(day, query.fromMs, query.toMs);
      for (const entry of series) {
        const rows = partition.readRange(entry.id, from, to);
        if (rows.length === 0) continue;
        let list = samples.get(entry.id);
        if (!list) samples.set(entry.id, list = []);
        for (const [timestampMs, value] of rows) list.push({ timestampMs, value });
      }
    }
    this.#partitions.evictIdle();
    const result: RawSeries[] = [];
    for (const entry of series) {
      const list = samples.get(entry.id);
      if (list) result.push({ ...seriesKeyOf(entry), samples: list });
    }
    return result;
  }

  queryBlocks(query: SeriesQuery): BlockSeries[] {
    return blocksByHour(this.queryRaw(query));
  }

  queryBuckets(query: SeriesQuery, stepMs: number): BucketedSeries[] {
    this.#assertOpen();
    validateRange(query);
    validateStep(stepMs);
    const series = this.#index.match(query);
    const days = this.#partitions.daysOverlapping(query.fromMs, query.toMs);
    if (series.length === 0 || days.length === 0) return [];

    // Aggregated here rather than in SQL, with the statistics the chunk engine and its rollups
    // use: sums are exact, so both engines answer a bucket with the same bits.
    const accumulators = new Map<number, BucketAccumulator>();
    for (const day of days) {
      const partition = this.#partition(day, false);
      const [from, to] = clampToDay(day, query.fromMs, query.toMs);
      for (const entry of series) {
        const rows = partition.readRange(entry.id, from, to);
        if (rows.length === 0) continue;
        let buckets = accumulators.get(entry.id);
        if (!buckets) {
          accumulators.set(entry.id, buckets = new BucketAccumulator(query.fromMs, stepMs));
        }
        for (const [ts, value] of rows) buckets.add(ts, value);
      }
    }
    this.#partitions.evictIdle();
    const result: BucketedSeries[] = [];
    for (const entry of series) {
      const buckets = accumulators.get(entry.id);
      if (buckets) result.push({ ...seriesKeyOf(entry), buckets: buckets.finish() });
    }
    return result;
  }

  latest(agentId: string): LatestSample[] {
    this.#assertOpen();
    const series = this.#index.match({ agentId });
    const found = new Map<number, { timestampMs: number; value: number }>();
    const newestFirst = this.#partitions.days().reverse();
    for (const day of newestFirst) {
      if (found.size === series.length) break;
      const partition = this.#partition(day, false);
      for (const entry of series) {
        if (found.has(entry.id)) continue;
        const newest = partition.newest(entry.id);
        if (newest) found.set(entry.id, newest);
      }
    }
    this.#partitions.evictIdle();
    const result: LatestSample[] = [];
    for (const entry of series) {
      const newest = found.get(entry.id);
      if (newest) result.push({ ...seriesKeyOf(entry), ...newest });
    }
    return result;
  }

  listSeries(filter?: Omit<SeriesQuery, "fromMs" | "toMs">): SeriesKey[] {
    this.#assertOpen();
    return this.#index.match(filter).map(seriesKeyOf);
  }

  deleteBefore(cutoffMs: number, nowMs: number): string[] {
    this.#assertOpen();
    const expired = this.#partitions.expiredDays(cutoffMs, nowMs);
    this.#partitions.remove(expired);
    if (expired.length > 0) {
      // Series with no sample left in any retained day were not written for longer than the
      // retention period: they leave memory and index.db.
      const live = new Set<number>();
      for (const day of this.#partitions.days()) {
        for (const id of this.#partitions.get(day).seriesIds()) live.add(id);
        this.#partitions.evictIdle();
      }
      this.#index.retainOnly(live);
    }
    return expired;
  }

  stats(): StorageStats {
    this.#assertOpen();
    return partitionStats("row", this.#partitions.dataDir, this.#partitions.days(), this.#index);
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#partitions.closeAll();
    this.#index.close();
  }

  #assertOpen(): void {
    if (this.#closed) throw new Error("Cannot use the row store: it is closed");
  }

  /** The partition's connection, opened (or created) on demand, closing idle ones beyond the limit. */
  #partition(day: string, create: boolean): RowPartition {
    const partition = this.#partitions.get(day, create);
    this.#partitions.evictIdle(partition);
    return partition;
  }
}

/** The part of `[fromMs, toMs]` inside one day. */
function clampToDay(day: string, fromMs: number, toMs: number): [number, number] {
  const start = dayStartMs(day);
  return [Math.max(fromMs, start), Math.min(toMs, start + MS_PER_DAY - 1)];
}
