/**
 * The storage interface every engine implements (the row engine, and the compressed chunk
 * engine that follows it). Storage tests are written against this interface only.
 *
 * All calls are synchronous: `node:sqlite` is synchronous, and a batch commit is short.
 */
import type { Labels, MetricDataPoint } from "../../shared/types.ts";

/**
 * A write that storage could not commit (no space, an I/O error, a busy file): it is not
 * acknowledged, storage stays usable, and the same write succeeds once the cause is gone.
 */
export class StorageUnavailableError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "StorageUnavailableError";
  }
}

/**
 * Stored data that cannot be read back: a chunk whose checksum fails, a page SQLite calls
 * malformed. Names the file; the store reports it in `issues()` until the file is gone.
 */
export class DamagedDataError extends Error {
  /** The damaged file. */
  readonly file: string;
  constructor(file: string, message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "DamagedDataError";
    this.file = file;
  }
}

/** Identity of one series. */
export interface SeriesKey {
  agentId: string;
  metricName: string;
  labels: Labels;
}

export interface Sample {
  timestampMs: number;
  value: number;
}

export interface Bucket {
  /** Start of the bucket (aligned to `fromMs + k * stepMs`). */
  timestampMs: number;
  avg: number;
  min: number;
  max: number;
  count: number;
}

export interface WriteResult {
  /** Samples newly stored. */
  written: number;
  /** Samples already stored with the same value (a retried batch): not stored again. */
  duplicates: number;
  /** Samples whose (series, timestamp) is stored with a different value: refused. */
  conflicts: number;
  /**
   * Samples refused for being older than the engine's age limit (the chunk engine's
   * `lateSampleMaxAgeMs`); present only when the engine has such a limit.
   */
  tooOld?: number;
}

export interface SeriesQuery {
  /** Exact agent id; all agents when absent. */
  agentId?: string;
  /** Exact metric name; all metrics when absent. */
  metricName?: string;
  /** Every given label must be present with exactly this value. */
  labels?: Labels;
  /** Inclusive range start, epoch ms. */
  fromMs: number;
  /** Inclusive range end, epoch ms. */
  toMs: number;
}

export interface RawSeries extends SeriesKey {
  /** Ascending by timestamp. */
  samples: Sample[];
}

export interface BucketedSeries extends SeriesKey {
  /** Ascending; buckets with no sample are omitted. */
  buckets: Bucket[];
}

export interface LatestSample extends SeriesKey, Sample {}

/**
 * A run of consecutive samples of one series with its statistics, so aggregations over long
 * ranges can use `count`/`min`/`max`/`sum` without decoding (a sealed chunk of the chunk engine).
 */
export interface SampleBlock {
  /** First and last sample timestamps (inclusive). */
  startTs: number;
  endTs: number;
  count: number;
  min: number;
  max: number;
  /** Compensated sum of the values. */
  sum: number;
  /** The samples, ascending; decoded on demand (and then kept) where that costs work. */
  samples(): { timestamps: ArrayLike<number>; values: ArrayLike<number> };
}

export interface BlockSeries extends SeriesKey {
  /** Ascending and non-overlapping; every sample lies in the query's range. */
  blocks: SampleBlock[];
}

export interface PartitionInfo {
  /** UTC day `YYYY-MM-DD`. */
  day: string;
  /** Bytes on disk, including `-wal` and `-shm` files. */
  bytes: number;
}

export interface StorageStats {
  engine: string;
  seriesCount: number;
  partitions: PartitionInfo[];
  /** Every file of the store: partitions, `index.db`, rollup tier files. */
  totalBytes: number;
  /** Rollup tier files (`rollup-5m-2026-11.db`) and their bytes, when the engine keeps tiers. */
  rollupFiles?: Array<{ name: string; bytes: number }>;
  /** Past days whose partition is not compacted yet, when the engine compacts. */
  uncompactedDays?: string[];
  /** Samples waiting in memory (logged) to be merged into sealed data. */
  pendingSamples?: number;
}

/** Something that keeps a store from being fully usable, as health reports it. */
export interface StorageIssue {
  /** `writes_refused` (a commit failed), `low_disk_space`, `unreadable` (damaged data found). */
  kind: "writes_refused" | "low_disk_space" | "unreadable";
  message: string;
  file?: string;
  /** Since when, epoch ms. */
  sinceMs: number;
}

/** A metric storage engine over `data_dir`. */
export interface MetricStore {
  /**
   * Stores samples atomically per partition: when it returns, all are durable (committed).
   * Points of one call may span several days (late samples go to their own day's partition).
   * The same (agent, metric, labels, timestamp) never makes two samples; values are compared
   * by their float64 bits (`0` and `-0` differ) and read back bit for bit.
   * An invalid point (empty agent id or metric name, a timestamp that is not an integer in
   * `[0, year 9999]`, a non-finite value, a label value that is not a string) makes it throw a
   * `TypeError` or `RangeError` naming it (`points[3].value`), and nothing of the call is stored.
   */
  write(points: readonly MetricDataPoint[]): WriteResult;
  /** Every series matching the query with its raw samples in range; series without samples in range are left out. */
  queryRaw(query: SeriesQuery): RawSeries[];
  /**
   * Like `queryRaw` but aggregated into buckets of `stepMs` starting at `query.fromMs`
   * (`avg` is sum / count). Throws a `RangeError` unless `stepMs` is a positive integer.
   */
  queryBuckets(query: SeriesQuery, stepMs: number): BucketedSeries[];
  /**
   * Like `queryRaw`, as blocks of samples with their statistics: the samples of all blocks of a
   * series are exactly those `queryRaw` returns. The chunk engine hands sealed chunks inside the
   * range out undecoded; the row engine groups its rows by clock hour.
   */
  queryBlocks(query: SeriesQuery): BlockSeries[];
  /** The newest sample of every series of an agent (within the retained partitions). */
  latest(agentId: string): LatestSample[];
  /** Series known to the store, optionally filtered like a query (without the time range). */
  listSeries(filter?: Omit<SeriesQuery, "fromMs" | "toMs">): SeriesKey[];
  /**
   * Series with raw samples within retention, for cardinality limits; an engine that keeps
   * series longer (the chunk engine, for their rollups) leaves those out. Default: `listSeries`.
   */
  listActiveSeries?(): SeriesKey[];
  /**
   * Deletes every partition whose whole day ends before `cutoffMs` (with its `-wal`/`-shm`),
   * never the partition of `nowMs`. Returns the deleted days (and, for an engine with rollup
   * tiers, the tier files past their own retention: `rollup-5m-2026-08`).
   */
  deleteBefore(cutoffMs: number, nowMs: number): string[];
  stats(): StorageStats;
  /**
   * Background work an engine wants done between requests (the chunk engine seals idle open
   * chunks, merges quiet late samples and compacts finished days), for about `budgetMs`.
   * Returns whether work is left. Engines without any leave it out.
   */
  maintain?(nowMs: number, budgetMs?: number): boolean;
  /** What keeps the store from being fully usable; empty when it is well. Optional. */
  issues?(): StorageIssue[];
  /**
   * Tries again what a failure left undone (a failed commit, a low-space refusal), so health
   * clears without waiting for the next write. Never throws. Optional.
   */
  heal?(): void;
  /** Flushes what the engine holds in memory (if anything) and closes every file. */
  close(): void;
}

/** What an engine factory receives. */
export interface StoreOptions {
  dataDir: string;
  /** SQLite page cache per open connection, in KiB. Default 65536 (64 MiB) for the main file. */
  cacheSizeKib?: number;
}
