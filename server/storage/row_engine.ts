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
  Bucket,
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
  MAX_TIMESTAMP_MS,
  seriesIdentity,
  validatePoints,
  validateRange,
  validateStep,
} from "./points.ts";
import {
  deletePartitions,
  listPartitionDays,
  partitionPath,
  partitionStats,
  partitionsToDelete,
} from "./partition_files.ts";
import { type SeriesEntry, SeriesIndex } from "./series_index.ts";
import { type BucketPart, RowPartition } from "./_row_partition.ts";

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
  readonly #dataDir: string;
  readonly #cacheSizeKib: number;
  readonly #maxOpen: number;
  readonly #index: SeriesIndex;
  /** Days with a partition file; kept in step with the directory instead of listing it per query. */
  readonly #days: Set<string>;
  /** Open partitions, least recently used first. */
  readonly #open = new Map<string, RowPartition>();
  #closed = false;

  constructor(options: RowStoreOptions) {
    const { dataDir } = options;
    if (typeof dataDir !== "string" || dataDir === "") {
      throw new TypeError(`Cannot open row store: dataDir must be a non-empty string`);
    }
    this.#cacheSizeKib = options.cacheSizeKib ?? DEFAULT_CACHE_KIB;
    if (!Number.isFinite(this.#cacheSizeKib) || this.#cacheSizeKib <= 0) {
      throw new RangeError(
        `Cannot open row store: cacheSizeKib must be positive, got ${options.cacheSizeKib}`,
      );
    }
    this.#maxOpen = options.maxOpenPartitions ?? DEFAULT_MAX_OPEN_PARTITIONS;
    if (!Number.isInteger(this.#maxOpen) || this.#maxOpen < 1) {
      throw new RangeError(
        `Cannot open row store: maxOpenPartitions must be a positive integer, got ${options.maxOpenPartitions}`,
      );
    }
    this.#dataDir = dataDir;
    Deno.mkdirSync(dataDir, { recursive: true });
    this.#index = new SeriesIndex(dataDir, this.#cacheSizeKib);
    this.#days = new Set(listPartitionDays(dataDir));
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
      this.#evictIdle();
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
    const days = this.#daysOverlapping(query.fromMs, query.toMs);
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
    this.#evictIdle();
    const result: RawSeries[] = [];
    for (const entry of series) {
      const list = samples.get(entry.id);
      if (list) result.push({ ...keyOf(entry), samples: list });
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
    const days = this.#daysOverlapping(query.fromMs, query.toMs);
    if (series.length === 0 || days.length === 0) return [];

    // A bucket may straddle midnight: its parts from both days are merged here.
    const parts = new Map<number, Map<number, BucketPart>>();
    for (const day of days) {
      const partition = this.#partition(day, false);
      const [from, to] = clampToDay(day, query.fromMs, query.toMs);
      for (const entry of series) {
        const found = partition.readBuckets(entry.id, query.fromMs, stepMs, from, to);
        if (found.length === 0) continue;
        let merged = parts.get(entry.id);
        if (!merged) parts.set(entry.id, merged = new Map());
        for (const part of found) {
          const previous = merged.get(part.index);
          if (!previous) {
            merged.set(part.index, part);
            continue;
          }
          previous.sum += part.sum;
          previous.count += part.count;
          if (part.min < previous.min) previous.min = part.min;
          if (part.max > previous.max) previous.max = part.max;
        }
      }
    }
    this.#evictIdle();
    const result: BucketedSeries[] = [];
    for (const entry of series) {
      const merged = parts.get(entry.id);
      if (!merged) continue;
      const buckets: Bucket[] = [...merged.values()]
        .sort((a, b) => a.index - b.index)
        .map((part) => ({
          timestampMs: query.fromMs + part.index * stepMs,
          avg: part.sum / part.count,
          min: part.min,
          max: part.max,
          count: part.count,
        }));
      result.push({ ...keyOf(entry), buckets });
    }
    return result;
  }

  latest(agentId: string): LatestSample[] {
    this.#assertOpen();
    const series = this.#index.match({ agentId });
    const found = new Map<number, { timestampMs: number; value: number }>();
    const newestFirst = [...this.#days].sort().reverse();
    for (const day of newestFirst) {
      if (found.size === series.length) break;
      const partition = this.#partition(day, false);
      for (const entry of series) {
        if (found.has(entry.id)) continue;
        const newest = partition.newest(entry.id);
        if (newest) found.set(entry.id, newest);
      }
    }
    this.#evictIdle();
    const result: LatestSample[] = [];
    for (const entry of series) {
      const newest = found.get(entry.id);
      if (newest) result.push({ ...keyOf(entry), ...newest });
    }
    return result;
  }

  listSeries(filter?: Omit<SeriesQuery, "fromMs" | "toMs">): SeriesKey[] {
    this.#assertOpen();
    return this.#index.match(filter).map(keyOf);
  }

  deleteBefore(cutoffMs: number, nowMs: number): string[] {
    this.#assertOpen();
    const expired = partitionsToDelete(this.#dataDir, this.#days, cutoffMs, nowMs);
    deletePartitions(this.#dataDir, expired, this.#open, this.#days);
    return expired;
  }

  stats(): StorageStats {
    this.#assertOpen();
    return partitionStats("row", this.#dataDir, this.#days, this.#index);
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const partition of this.#open.values()) partition.close();
    this.#open.clear();
    this.#index.close();
  }

  #assertOpen(): void {
    if (this.#closed) throw new Error("Cannot use the row store: it is closed");
  }

  /** Known days whose partition can hold samples in `[fromMs, toMs]`, ascending. */
  #daysOverlapping(fromMs: number, toMs: number): string[] {
    if (fromMs > toMs) return [];
    const clamp = (ms: number) => Math.min(MAX_TIMESTAMP_MS, Math.max(0, ms));
    const first = dayName(dayNumber(clamp(fromMs)));
    const last = dayName(dayNumber(clamp(toMs)));
    return [...this.#days].filter((day) => day >= first && day <= last).sort();
  }

  /** The partition's connection, most recently used from now on; opened (or created) on demand. */
  #partition(day: string, create: boolean): RowPartition {
    let partition = this.#open.get(day);
    if (partition) {
      this.#open.delete(day);
    } else {
      if (!create && !this.#days.has(day)) {
        throw new Error(`Cannot read partition ${day}: it does not exist`);
      }
      partition = new RowPartition(day, partitionPath(this.#dataDir, day), this.#cacheSizeKib);
      this.#days.add(day);
    }
    this.#open.set(day, partition);
    this.#evictIdle(partition);
    return partition;
  }

  /**
   * Closes the least recently used partitions beyond the limit; never one inside a transaction
   * nor `keep`, the one about to be used.
   */
  #evictIdle(keep?: RowPartition): void {
    if (this.#open.size <= this.#maxOpen) return;
    for (const [day, partition] of this.#open) {
      if (this.#open.size <= this.#maxOpen) break;
      if (partition === keep || partition.inTransaction) continue;
      partition.close();
      this.#open.delete(day);
    }
  }
}

function keyOf(entry: SeriesEntry): SeriesKey {
  return { agentId: entry.agentId, metricName: entry.metricName, labels: { ...entry.labels } };
}

/** The part of `[fromMs, toMs]` inside one day. */
function clampToDay(day: string, fromMs: number, toMs: number): [number, number] {
  const start = dayStartMs(day);
  return [Math.max(fromMs, start), Math.min(toMs, start + MS_PER_DAY - 1)];
}
