/**
 * The chunk storage engine: per series, samples are sealed into compressed chunks of up to 360
 * samples or one clock hour (so a chunk never crosses a day and all series roll over together),
 * one SQLite file per UTC day, series ids in `index.db` shared with the row engine.
 *
 * Open chunks live in memory, two per series (even and odd hours); samples that cannot be
 * appended to them in time order wait in pending entries, merged once per quiet hour. Every
 * accepted write is first committed as one packed row per day in that day's head log, and
 * replayed at open. As an hour is sealed its 5-minute rollup intervals are written beside its
 * chunks; once a day is finished and quiet it is compacted (one packed block per series for
 * the day) and its rollups move into the tier files, kept longer than raw data. Partitions the
 * row engine wrote are converted at open.
 *
 * Split as Prometheus splits its head: this file opens, wires and closes the store;
 * `_append.ts` routes, seals and merges, `_commit.ts` writes, `_read.ts` and `_read_rollups.ts`
 * answer queries, `_replay.ts` replays the head logs at open, `_convert.ts` converts row-engine
 * partitions, `_compact.ts` compacts finished days and `_tiers.ts` keeps the rollup tiers;
 * `_store_state.ts` is what they share.
 */
import { NO_DAY } from "./_series_state.ts";
import { type Clock, systemClock } from "../../../shared/clock.ts";
import { dayName, dayNumber, dayStartMs } from "../../../shared/time.ts";
import { type Logger, silentLogger } from "../../../shared/log.ts";
import type { MetricDataPoint } from "../../../shared/types.ts";
import { statfsSync } from "node:fs";
import { join } from "node:path";
import {
  type BlockSeries,
  type BucketedSeries,
  DamagedDataError,
  type LatestSample,
  type MetricStore,
  type RawSeries,
  type SeriesKey,
  type SeriesQuery,
  type StorageIssue,
  type StorageStats,
  StorageUnavailableError,
  type StoreOptions,
  type WriteResult,
} from "../types.ts";
import { validatePoints, validateRange, validateStep } from "../points.ts";
import {
  listPartitionDays,
  partitionPath,
  partitionStats,
  sqliteFileBytes,
} from "../partition_files.ts";
import { PartitionCache } from "../partition_cache.ts";
import { INDEX_FILE, SeriesIndex, seriesKeyOf } from "../series_index.ts";
import { checkSqliteFile, isDamageError, moveAside } from "../../quarantine.ts";
import { reconcileSeriesIdentity } from "./_identity.ts";
import { ChunkPartition } from "./_partition.ts";
import { Appender } from "./_append.ts";
import { ChunkReader } from "./_read.ts";
import { replayHeadLogs } from "./_replay.ts";
import { convertRowPartitions } from "./_convert.ts";
import { StoreState } from "./_store_state.ts";
import { DEFAULT_TIERS, RollupTiers, type TierSpec } from "./_tiers.ts";
import { DayCompactor, removeCompactionLeftovers } from "./_compact.ts";

export { CHUNK_MAX_SAMPLES } from "./_append.ts";
export { DEFAULT_TIERS, type TierSpec } from "./_tiers.ts";

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
  /** Where replay, conversion and compaction are reported. Default: silent. */
  log?: Logger;
  /** Rollup tiers and their retention. Default `DEFAULT_TIERS` (5 min for 90 days, 1 h for 2 years). */
  rollupTiers?: readonly TierSpec[];
  /**
   * Writes are refused (`StorageUnavailableError`) while the file system of `dataDir` has
   * fewer free bytes than this, before SQLite runs out of space half-way. Default 0: off.
   */
  minFreeBytes?: number;
  /** Free bytes for the store's files. Default: `statfs` of `dataDir`. */
  freeBytes?: () => number;
  /** How often free space is looked at, at most. Default 1,000 ms. */
  spaceCheckIntervalMs?: number;
  /**
   * Moves a damaged file aside and reports it (`lost` says what that costs). Default: renamed
   * to `<name>.damaged-<time>` and logged.
   */
  quarantine?: (path: string, reason: string, lost: string) => void;
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
  const tierSpecs = options.rollupTiers ?? DEFAULT_TIERS;
  for (const tier of tierSpecs) {
    if (!Number.isInteger(tier.retentionDays) || tier.retentionDays < 0) {
      throw new RangeError(
        `Cannot open chunk store: retention of the ${tier.name} rollup tier must be a non-negative integer, got ${tier.retentionDays}`,
      );
    }
  }
  const log = options.log ?? silentLogger;
  const clock = options.clock ?? systemClock;
  const quarantine = options.quarantine ?? ((path: string, reason: string, lost: string) => {
    const moved = moveAside(path, clock.now());
    log.error(`DAMAGED FILE moved aside; ${lost}`, {
      file: path,
      moved_to: moved,
      sqlite_error: reason,
    });
  });
  Deno.mkdirSync(dataDir, { recursive: true });
  removeCompactionLeftovers(dataDir);
  quarantineDamagedFiles(dataDir, quarantine, log);
  const index = openIndex(dataDir, cacheSizeKib, quarantine);
  let state: StoreState | undefined;
  try {
    const partitionCacheKib = Math.min(cacheSizeKib, PARTITION_CACHE_KIB);
    const partitions = new PartitionCache(dataDir, {
      maxOpen,
      openPartition: (day, path) => {
        const partition = new ChunkPartition(day, path, partitionCacheKib);
        state?.noteLayout(dayNumber(dayStartMs(day)), partition.layout);
        return partition;
      },
    });
    reconcileSeriesIdentity(index, partitions, log);
    const tiers = new RollupTiers(dataDir, { tiers: tierSpecs });
    state = new StoreState(dataDir, index, partitions, tiers, () => clock.now());
    const appender = new Appender(state, { clock, lateSampleMaxAgeMs: maxAge });
    replayHeadLogs(state, { appender, log });
    if (appender.pending === undefined) convertRowPartitions(state, { appender, log });
    const compactor = new DayCompactor(state, { log, openedMs: clock.now() });
    return new ChunkStore(state, appender, compactor, {
      clock,
      log,
      minFreeBytes: options.minFreeBytes ?? 0,
      freeBytes: options.freeBytes ?? (() => freeBytesOf(dataDir)),
      spaceCheckIntervalMs: options.spaceCheckIntervalMs ?? 1_000,
    });
  } catch (error) {
    if (state) state.close();
    else index.close();
    throw error;
  }
}

const LOST_INDEX = "index.db is rebuilt from the identity records of the partitions";

/**
 * Checks `index.db` and every partition with `PRAGMA quick_check` (about 1 GB/s) and moves the
 * damaged ones aside, newest partition first, so the store opens on what is sound.
 */
function quarantineDamagedFiles(
  dataDir: string,
  quarantine: (path: string, reason: string, lost: string) => void,
  log: Logger,
): void {
  const started = performance.now();
  const indexPath = join(dataDir, INDEX_FILE);
  const indexDamage = checkSqliteFile(indexPath);
  if (indexDamage !== undefined) quarantine(indexPath, indexDamage, LOST_INDEX);
  let bytes = 0;
  const days = listPartitionDays(dataDir).reverse();
  for (const day of days) {
    const path = partitionPath(dataDir, day);
    bytes += sqliteFileBytes(path);
    const damage = checkSqliteFile(path);
    if (damage !== undefined) {
      quarantine(path, damage, `the samples of ${day} in it are no longer served`);
    }
  }
  log.info("chunk store checked its files", {
    partitions: days.length,
    bytes,
    ms: Math.round(performance.now() - started),
  });
}

/** Opens `index.db`; one SQLite says is damaged is moved aside and started anew. */
function openIndex(
  dataDir: string,
  cacheSizeKib: number,
  quarantine: (path: string, reason: string, lost: string) => void,
): SeriesIndex {
  try {
    return new SeriesIndex(dataDir, cacheSizeKib);
  } catch (error) {
    if (!isDamageError(error) && !(error instanceof SyntaxError)) throw error;
    quarantine(join(dataDir, INDEX_FILE), (error as Error).message, LOST_INDEX);
    return new SeriesIndex(dataDir, cacheSizeKib);
  }
}

function existsSync(path: string): boolean {
  try {
    Deno.statSync(path);
    return true;
  } catch {
    return false;
  }
}

/** Bytes available to this process on the file system holding `path`. */
export function freeBytesOf(path: string): number {
  const stats = statfsSync(path);
  return Number(stats.bavail) * Number(stats.bsize);
}

interface SpaceOptions {
  clock: Clock;
  log: Logger;
  minFreeBytes: number;
  freeBytes: () => number;
  spaceCheckIntervalMs: number;
}

class ChunkStore implements MetricStore {
  readonly #state: StoreState;
  readonly #appender: Appender;
  readonly #reader: ChunkReader;
  readonly #compactor: DayCompactor;
  readonly #space: SpaceOptions;
  /** Series kept only for their rollups, as of the last `deleteBefore` (none before it ran). */
  #tierOnly: Set<number> | undefined;
  #closed = false;
  #nextSpaceCheck = -Infinity;
  /** Set while free space is below `minFreeBytes`. */
  #lowSpace: { freeBytes: number; sinceMs: number } | undefined;

  constructor(
    state: StoreState,
    appender: Appender,
    compactor: DayCompactor,
    space: SpaceOptions,
  ) {
    this.#state = state;
    this.#appender = appender;
    this.#reader = new ChunkReader(state);
    this.#compactor = compactor;
    this.#space = space;
  }

  write(points: readonly MetricDataPoint[]): WriteResult {
    this.#assertOpen();
    validatePoints(points);
    this.#checkSpace(false);
    if (this.#lowSpace !== undefined) {
      throw new StorageUnavailableError(
        `Cannot write to the chunk store in ${this.#state.dataDir}: ${this.#lowSpaceMessage()}`,
      );
    }
    return this.#appender.write(points);
  }

  issues(): StorageIssue[] {
    const issues: StorageIssue[] = [];
    if (this.#lowSpace !== undefined) {
      issues.push({
        kind: "low_disk_space",
        message: this.#lowSpaceMessage(),
        sinceMs: this.#lowSpace.sinceMs,
      });
    }
    for (const [file, { message, sinceMs }] of this.#state.unreadable) {
      if (!existsSync(file)) {
        this.#state.unreadable.delete(file); // Removed by retention or by hand.
        continue;
      }
      issues.push({ kind: "unreadable", file, message, sinceMs });
    }
    const pending = this.#appender.pending;
    if (pending !== undefined) {
      issues.push({
        kind: "writes_refused",
        message: `writes are refused until a failed commit succeeds: ${pending.error.message}`,
        sinceMs: pending.sinceMs,
      });
    }
    return issues;
  }

  heal(): void {
    if (this.#closed) return;
    this.#checkSpace(true);
    try {
      this.#appender.retryPending();
    } catch {
      // Still failing: issues() says why, the next write or heal tries again.
    }
  }

  #lowSpaceMessage(): string {
    const free = this.#lowSpace?.freeBytes ?? 0;
    return `only ${free} bytes are free for ${this.#state.dataDir}, less than min_free_bytes ` +
      `(${this.#space.minFreeBytes}): new data is refused until space is freed`;
  }

  /** Looks at free space at most once per interval (or now, when `force`). */
  #checkSpace(force: boolean): void {
    const { minFreeBytes, spaceCheckIntervalMs, freeBytes, clock, log } = this.#space;
    if (minFreeBytes <= 0) return;
    const now = performance.now();
    if (!force && now < this.#nextSpaceCheck) return;
    this.#nextSpaceCheck = now + spaceCheckIntervalMs;
    let free: number;
    try {
      free = freeBytes();
    } catch (error) {
      log.warn("cannot read the free space of the data directory", {
        data_dir: this.#state.dataDir,
        error,
      });
      return;
    }
    if (free < minFreeBytes) {
      if (this.#lowSpace === undefined) {
        this.#lowSpace = { freeBytes: free, sinceMs: clock.now() };
        log.error("low disk space: refusing new data", {
          data_dir: this.#state.dataDir,
          free_bytes: free,
          min_free_bytes: minFreeBytes,
        });
      } else this.#lowSpace.freeBytes = free;
    } else if (this.#lowSpace !== undefined) {
      log.info("disk space recovered: accepting data again", {
        data_dir: this.#state.dataDir,
        free_bytes: free,
        refused_since: new Date(this.#lowSpace.sinceMs).toISOString(),
      });
      this.#lowSpace = undefined;
    }
  }

  queryRaw(query: SeriesQuery): RawSeries[] {
    this.#assertOpen();
    validateRange(query);
    try {
      return this.#reader.queryRaw(query);
    } catch (error) {
      throw this.#state.noteDamage(error);
    }
  }

  queryBuckets(query: SeriesQuery, stepMs: number): BucketedSeries[] {
    this.#assertOpen();
    validateRange(query);
    validateStep(stepMs);
    try {
      return this.#reader.queryBuckets(query, stepMs);
    } catch (error) {
      throw this.#state.noteDamage(error);
    }
  }

  queryBlocks(query: SeriesQuery): BlockSeries[] {
    this.#assertOpen();
    validateRange(query);
    try {
      return this.#reader.queryBlocks(query);
    } catch (error) {
      throw this.#state.noteDamage(error);
    }
  }

  latest(agentId: string): LatestSample[] {
    this.#assertOpen();
    try {
      return this.#reader.latest(agentId);
    } catch (error) {
      throw this.#state.noteDamage(error);
    }
  }

  listSeries(filter?: Omit<SeriesQuery, "fromMs" | "toMs">): SeriesKey[] {
    this.#assertOpen();
    return this.#state.index.match(filter).map(seriesKeyOf);
  }

  /**
   * Seals idle open chunks, merges quiet pending samples, and compacts finished days for about
   * `budgetMs`. Returns whether compaction work is left (call again soon).
   */
  maintain(nowMs: number, budgetMs = 50): boolean {
    this.#assertOpen();
    try {
      this.#appender.maintain(nowMs);
    } catch (error) {
      // A failed commit waits to be retried: issues() says why; nothing is compacted meanwhile.
      if (error instanceof StorageUnavailableError) return false;
      throw error;
    }
    return this.#compactor.step(nowMs, budgetMs);
  }

  /**
   * Deletes raw day partitions ending before `cutoffMs` (the raw retention) and rollup tier
   * files past their own retention (counted back from `nowMs`). A day not compacted yet has
   * its rollups moved into the tiers first, so they outlive it.
   */
  deleteBefore(cutoffMs: number, nowMs: number): string[] {
    this.#assertOpen();
    const { partitions, tiers } = this.#state;
    const expired = partitions.expiredDays(cutoffMs, nowMs);
    const removedTiers = tiers.deleteExpired(nowMs);
    if (expired.length === 0 && removedTiers.length === 0 && this.#tierOnly !== undefined) {
      return [];
    }
    const compacting = this.#state.compactingDay;
    if (compacting !== undefined && expired.includes(dayName(compacting))) {
      this.#compactor.abort();
    }
    for (const day of expired) this.#compactor.moveRollups(day);
    this.#state.forgetDays(expired);
    partitions.remove(expired);
    // Series with nothing left in any retained day, in memory or in a rollup tier were not
    // written for longer than every retention: they leave memory and index.db. Those left
    // only in the tiers stay (their history is queryable) but no longer count as active.
    const { states, index, pending } = this.#state;
    const raw = new Set<number>();
    for (let id = 0; id < states.limit; id++) {
      if (states.entries[id] === undefined) continue;
      if (states.headDay[2 * id] !== NO_DAY || states.headDay[2 * id + 1] !== NO_DAY) raw.add(id);
      if (pending.hasSeries(id)) raw.add(id);
    }
    for (const day of partitions.days()) {
      for (const id of partitions.get(day).sealedSeriesIds()) raw.add(id);
      partitions.evictIdle();
    }
    const live = tiers.seriesIds();
    const tierOnly = new Set<number>();
    for (const id of live) if (!raw.has(id)) tierOnly.add(id);
    for (const id of raw) live.add(id);
    this.#tierOnly = tierOnly;
    this.#appender.clearWritten();
    const gone = index.retainOnly(live);
    for (const entry of gone) states.remove(entry.id);
    if (gone.length > 0) this.#appender.forgetSeriesIds();
    return [...expired, ...removedTiers];
  }

  /**
   * Series with raw samples within retention (or written since the last retention run): what
   * cardinality limits count. Series known only from their rollups are left out.
   */
  listActiveSeries(): SeriesKey[] {
    this.#assertOpen();
    const tierOnly = this.#tierOnly;
    const entries = this.#state.index.match();
    if (tierOnly === undefined || tierOnly.size === 0) return entries.map(seriesKeyOf);
    return entries
      .filter((entry) => !tierOnly.has(entry.id) || this.#appender.writtenSince(entry.id))
      .map(seriesKeyOf);
  }

  stats(): StorageStats {
    this.#assertOpen();
    const { dataDir, partitions, index, tiers } = this.#state;
    const stats = partitionStats("chunk", dataDir, partitions.days(), index);
    const rollups = tiers.files();
    stats.rollupFiles = rollups;
    stats.totalBytes += rollups.reduce((sum, file) => sum + file.bytes, 0);
    stats.uncompactedDays = this.#compactor.pendingDays(this.#appender.clock.now());
    stats.pendingSamples = this.#state.pending.samples;
    return stats;
  }

  close(): void {
    if (this.#closed) return;
    try {
      this.#compactor.abort();
      const { states, pending } = this.#state;
      if (states.openHeads > 0 || pending.size > 0) this.#appender.sealAll();
      for (const partition of this.#state.partitions.openPartitions()) {
        partition.releaseFreePages();
      }
    } catch (error) {
      // Open chunks stay in their head logs, which the next open replays: nothing is lost. A
      // damaged day file (an open chunk of a past hour still lives in it) is moved aside at the
      // next open; its head log is as lost as the rest of it.
      const damaged = error instanceof DamagedDataError || isDamageError(error) ||
        isDamageError((error as Error).cause);
      if (!(error instanceof StorageUnavailableError) && !damaged) throw error;
      this.#space.log.warn("chunk store could not seal its open chunks at close", { error });
    } finally {
      this.#closed = true;
      this.#state.close();
    }
  }

  #assertOpen(): void {
    if (this.#closed) throw new Error("Cannot use the chunk store: it is closed");
  }
}
