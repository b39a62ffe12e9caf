/**
 * The chunk storage engine: per series, samples are sealed into compressed chunks of up to 360
 * samples or one clock hour (so a chunk never crosses a day and all series roll over together),
 * one SQLite file per UTC day, series ids in `index.db` shared with the row engine.
 *
 * Open chunks live in memory; every accepted write is first committed as one packed row per
 * day in that day's head log, and replayed at open. Sealing inserts the chunk and deletes the
 * head-log rows no open chunk needs in the same transaction. Late samples are merged by
 * rewriting the sealed chunks of their hour. Partitions the row engine wrote are converted at
 * open.
 *
 * Split as Prometheus splits its head: this file opens, wires and closes the store;
 * `_append.ts` writes (route, seal, commit, late merge), `_read.ts` answers queries,
 * `_replay.ts` replays the head logs at open and `_convert.ts` converts row-engine partitions;
 * `_store_state.ts` is what they share.
 */
import { type Clock, systemClock } from "../../../shared/clock.ts";
import { type Logger, silentLogger } from "../../../shared/log.ts";
import type { MetricDataPoint } from "../../../shared/types.ts";
import type {
  BucketedSeries,
  LatestSample,
  MetricStore,
  RawSeries,
  SeriesKey,
  SeriesQuery,
  StorageStats,
  StoreOptions,
  WriteResult,
} from "../types.ts";
import { validatePoints, validateRange, validateStep } from "../points.ts";
import { partitionStats } from "../partition_files.ts";
import { PartitionCache } from "../partition_cache.ts";
import { SeriesIndex, seriesKeyOf } from "../series_index.ts";
import { ChunkPartition } from "./_partition.ts";
import { Appender } from "./_append.ts";
import { ChunkReader } from "./_read.ts";
import { replayHeadLogs } from "./_replay.ts";
import { convertRowPartitions } from "./_convert.ts";
import { StoreState } from "./_store_state.ts";

export { CHUNK_MAX_SAMPLES } from "./_append.ts";

export interface ChunkStoreOptions extends StoreOptions {
  /** Time source for the age limit and for sealing chunks whose hour has passed. Default: system. */
  clock?: Clock;
  /**
   * Samples older than `now - lateSampleMaxAgeMs` are refused and counted in
   * `WriteResult.tooOld`. Default: no limit (the server passes its retention period).
   */
  lateSampleMaxAgeMs?: number;
  /** Partition connections kept open between calls. Default 4. */
  maxOpenPartitions?: number;
  /** Where replay and conversion at open are reported. Default: silent. */
  log?: Logger;
}

const DEFAULT_CACHE_KIB = 65_536;
const DEFAULT_MAX_OPEN_PARTITIONS = 4;
/**
 * Page cache per partition connection, at most. Writes append and queries read a few chunks, so
 * a large cache buys little, while at 100k series it held 64 MB of head-log pages.
 */
const PARTITION_CACHE_KIB = 8_192;

/**
 * Opens (creating if needed) a chunk store over `options.dataDir`: replays the head logs, then
 * converts what the row engine left in the day files.
 */
export function openChunkStore(options: ChunkStoreOptions): MetricStore {
  const { dataDir } = options;
  if (typeof dataDir !== "string" || dataDir === "") {
    throw new TypeError("Cannot open chunk store: dataDir must be a non-empty string");
  }
  const cacheSizeKib = options.cacheSizeKib ?? DEFAULT_CACHE_KIB;
  if (!Number.isFinite(cacheSizeKib) || cacheSizeKib <= 0) {
    throw new RangeError(
      `Cannot open chunk store: cacheSizeKib must be positive, got ${options.cacheSizeKib}`,
    );
  }
  const maxOpen = options.maxOpenPartitions ?? DEFAULT_MAX_OPEN_PARTITIONS;
  if (!Number.isInteger(maxOpen) || maxOpen < 1) {
    throw new RangeError(
      `Cannot open chunk store: maxOpenPartitions must be a positive integer, got ${options.maxOpenPartitions}`,
    );
  }
  const maxAge = options.lateSampleMaxAgeMs;
  if (maxAge !== undefined && (typeof maxAge !== "number" || !(maxAge > 0))) {
    throw new RangeError(
      `Cannot open chunk store: lateSampleMaxAgeMs must be a positive number, got ${maxAge}`,
    );
  }
  const log = options.log ?? silentLogger;
  Deno.mkdirSync(dataDir, { recursive: true });
  const index = new SeriesIndex(dataDir, cacheSizeKib);
  let state: StoreState | undefined;
  try {
    const partitionCacheKib = Math.min(cacheSizeKib, PARTITION_CACHE_KIB);
    const partitions = new PartitionCache(dataDir, {
      maxOpen,
      openPartition: (day, path) => new ChunkPartition(day, path, partitionCacheKib),
    });
    state = new StoreState(dataDir, index, partitions);
    const clock = options.clock ?? systemClock;
    const appender = new Appender(state, { clock, lateSampleMaxAgeMs: maxAge });
    replayHeadLogs(state, { appender, log });
    convertRowPartitions(state, { appender, log });
    return new ChunkStore(state, appender);
  } catch (error) {
    if (state) state.close();
    else index.close();
    throw error;
  }
}

class ChunkStore implements MetricStore {
  readonly #state: StoreState;
  readonly #appender: Appender;
  readonly #reader: ChunkReader;
  #closed = false;

  constructor(state: StoreState, appender: Appender) {
    this.#state = state;
    this.#appender = appender;
    this.#reader = new ChunkReader(state);
  }

  write(points: readonly MetricDataPoint[]): WriteResult {
    this.#assertUsable();
    validatePoints(points);
    return this.#appender.write(points);
  }

  queryRaw(query: SeriesQuery): RawSeries[] {
    this.#assertUsable();
    validateRange(query);
    return this.#reader.queryRaw(query);
  }

  queryBuckets(query: SeriesQuery, stepMs: number): BucketedSeries[] {
    this.#assertUsable();
    validateRange(query);
    validateStep(stepMs);
    return this.#reader.queryBuckets(query, stepMs);
  }

  latest(agentId: string): LatestSample[] {
    this.#assertUsable();
    return this.#reader.latest(agentId);
  }

  listSeries(filter?: Omit<SeriesQuery, "fromMs" | "toMs">): SeriesKey[] {
    this.#assertUsable();
    return this.#state.index.match(filter).map(seriesKeyOf);
  }

  deleteBefore(cutoffMs: number, nowMs: number): string[] {
    this.#assertUsable();
    const { partitions } = this.#state;
    const expired = partitions.expiredDays(cutoffMs, nowMs);
    if (expired.length === 0) return expired;
    this.#state.forgetDays(expired);
    partitions.remove(expired);
    return expired;
  }

  stats(): StorageStats {
    this.#assertUsable();
    const { dataDir, partitions, index } = this.#state;
    return partitionStats("chunk", dataDir, partitions.days(), index);
  }

  close(): void {
    if (this.#closed) return;
    try {
      if (!this.#state.broken && this.#state.states.openHeads > 0) this.#appender.sealAll();
      for (const partition of this.#state.partitions.openPartitions()) {
        partition.releaseFreePages();
      }
    } finally {
      this.#closed = true;
      this.#state.close();
    }
  }

  #assertUsable(): void {
    if (this.#closed) throw new Error("Cannot use the chunk store: it is closed");
    const broken = this.#state.broken;
    if (broken) {
      throw new Error(
        `Cannot use the chunk store: a write failed half-way (${broken.message}); reopen it to recover from its files`,
        { cause: broken },
      );
    }
  }
}
