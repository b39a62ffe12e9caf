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
 */
import { type Clock, systemClock } from "../../../shared/clock.ts";
import { dayName, dayStartMs, MS_PER_DAY } from "../../../shared/time.ts";
import { type Logger, silentLogger } from "../../../shared/log.ts";
import type { MetricDataPoint } from "../../../shared/types.ts";
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
} from "../types.ts";
import {
  canonicalLabelsJson,
  MAX_TIMESTAMP_MS,
  sameFloat64Bits,
  seriesIdentity,
  validatePoints,
  validateRange,
  validateStep,
} from "../points.ts";
import {
  deletePartitions,
  listPartitionDays,
  partitionPath,
  partitionStats,
  partitionsToDelete,
} from "../partition_files.ts";
import { type SeriesEntry, SeriesIndex } from "../series_index.ts";
import { decodeChunk, encodeChunkInto } from "./codec.ts";
import { ByteWriter } from "./_bytes.ts";
import { HEAD_MAX_SAMPLES, HeadTable } from "./_head.ts";
import { readHeadLogRow } from "./_head_log.ts";
import { ChunkPartition, type ChunkRow, type NewChunk } from "./_partition.ts";
import { BucketAccumulator, chunkStats } from "./_aggregate.ts";
import { BlockCollector } from "./_blocks.ts";
import { type DayPlan, LogReferences, PlanBuffers, WritePlan } from "./_plan.ts";
import { NO_DAY, PENDING_LOG_ID, SeriesStates } from "./_series_state.ts";
import { SeriesLookup } from "./_series_lookup.ts";

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

const HOUR_MS = 3_600_000;
/** A chunk is sealed at this many samples (an hour at the agent's default 10 s interval). */
export const CHUNK_MAX_SAMPLES = 360;
if (CHUNK_MAX_SAMPLES > HEAD_MAX_SAMPLES) throw new Error("open chunks cannot hold a chunk");
/** Where a sealing chunk is unpacked before encoding (shared: writes are synchronous). */
const sealTimestamps = new Float64Array(HEAD_MAX_SAMPLES);
const sealValues = new Float64Array(HEAD_MAX_SAMPLES);
const DEFAULT_CACHE_KIB = 65_536;
const DEFAULT_MAX_OPEN_PARTITIONS = 4;
/**
 * Page cache per partition connection, at most. Writes append and queries read a few chunks, so
 * a large cache buys little, while at 100k series it held 64 MB of head-log pages.
 */
const PARTITION_CACHE_KIB = 8_192;
/** How often a write looks for open chunks whose hour is over but got no newer sample. */
const SWEEP_INTERVAL_MS = 60_000;
/** How long after its hour an open chunk waits for stragglers before such a sweep seals it. */
const SWEEP_GRACE_MS = 5 * 60_000;
/** Row-engine samples converted per transaction at open. */
const CONVERT_SLICE = 100_000;

type Mode = "write" | "replay" | "convert";

interface RouteContext {
  plan: WritePlan;
  result: WriteResult;
  mode: Mode;
  /** The head-log row being replayed. */
  logId: number;
  /** Series whose heads took samples in convert mode; sealed before the commit (not logged). */
  touched: Set<number>;
}

/** Opens (creating if needed) a chunk store over `options.dataDir`. */
export function openChunkStore(options: ChunkStoreOptions): MetricStore {
  return new ChunkStore(options);
}

function dayOf(ts: number): number {
  return Math.floor(ts / MS_PER_DAY);
}

function keyOf(entry: SeriesEntry): SeriesKey {
  return { agentId: entry.agentId, metricName: entry.metricName, labels: { ...entry.labels } };
}

function describeSeries(entry: SeriesEntry): string {
  return `series ${entry.id} (agent ${JSON.stringify(entry.agentId)}, metric ${
    JSON.stringify(entry.metricName)
  }, labels ${entry.labelsJson})`;
}

class ChunkStore implements MetricStore {
  readonly #dataDir: string;
  readonly #cacheSizeKib: number;
  readonly #maxOpen: number;
  readonly #clock: Clock;
  readonly #maxAgeMs: number | undefined;
  readonly #log: Logger;
  readonly #index: SeriesIndex;
  readonly #states = new SeriesStates();
  /** Open chunks, by series id. */
  readonly #heads = new HeadTable();
  readonly #days: Set<string>;
  /** Open partitions, least recently used first. */
  readonly #open = new Map<string, ChunkPartition>();
  readonly #logRefs = new Map<number, LogReferences>();
  readonly #lookup = new SeriesLookup();
  readonly #buffers = new PlanBuffers();
  /** Series id per point of the write in progress. */
  #pointIds = new Int32Array(1024);
  #nextSweepMs = -Infinity;
  #closed = false;
  /** Set when a write failed half-way: memory no longer matches the files. */
  #broken: Error | undefined;

  constructor(options: ChunkStoreOptions) {
    const { dataDir } = options;
    if (typeof dataDir !== "string" || dataDir === "") {
      throw new TypeError("Cannot open chunk store: dataDir must be a non-empty string");
    }
    this.#cacheSizeKib = options.cacheSizeKib ?? DEFAULT_CACHE_KIB;
    if (!Number.isFinite(this.#cacheSizeKib) || this.#cacheSizeKib <= 0) {
      throw new RangeError(
        `Cannot open chunk store: cacheSizeKib must be positive, got ${options.cacheSizeKib}`,
      );
    }
    this.#maxOpen = options.maxOpenPartitions ?? DEFAULT_MAX_OPEN_PARTITIONS;
    if (!Number.isInteger(this.#maxOpen) || this.#maxOpen < 1) {
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
    this.#maxAgeMs = maxAge;
    this.#clock = options.clock ?? systemClock;
    this.#log = options.log ?? silentLogger;
    this.#dataDir = dataDir;
    Deno.mkdirSync(dataDir, { recursive: true });
    this.#index = new SeriesIndex(dataDir, this.#cacheSizeKib);
    try {
      for (const entry of this.#index.match()) this.#states.add(entry, false);
      this.#days = new Set(listPartitionDays(dataDir));
      this.#replay();
      this.#convertRowPartitions();
    } catch (error) {
      for (const partition of this.#open.values()) partition.close();
      this.#index.close();
      throw error;
    }
  }

  // ---------------------------------------------------------------------------------------
  // Writing

  write(points: readonly MetricDataPoint[]): WriteResult {
    this.#assertUsable();
    validatePoints(points);
    const result: WriteResult = { written: 0, duplicates: 0, conflicts: 0 };
    if (this.#maxAgeMs !== undefined) result.tooOld = 0;
    if (points.length === 0) return result;
    const now = this.#clock.now();
    const oldestMs = this.#maxAgeMs === undefined ? -Infinity : now - this.#maxAgeMs;
    const ids = this.#resolveSeries(points);
    const context = this.#context("write", result);
    try {
      for (let i = 0; i < points.length; i++) {
        const point = points[i];
        if (point.timestampMs < oldestMs) {
          result.tooOld!++;
          continue;
        }
        this.#route(ids[i], point.timestampMs, point.value, context);
      }
      if (now >= this.#nextSweepMs) {
        this.#nextSweepMs = now + SWEEP_INTERVAL_MS;
        this.#sweep(now - SWEEP_GRACE_MS, context.plan);
      }
    } catch (error) {
      // Routing reads partitions (a damaged one throws) after earlier samples of this write
      // went into open chunks without a head-log row: a retry would find them there and call
      // them stored, and a crash would lose them. As after a failed commit, stop here.
      this.#broken = error as Error;
      throw new Error(
        `Cannot write to the chunk store in ${this.#dataDir}: ${(error as Error).message}`,
        { cause: error },
      );
    }
    this.#commit(context);
    return result;
  }

  #context(mode: Mode, result: WriteResult = { written: 0, duplicates: 0, conflicts: 0 }) {
    const context: RouteContext = {
      plan: new WritePlan(this.#buffers),
      result,
      mode,
      logId: PENDING_LOG_ID,
      touched: new Set(),
    };
    return context;
  }

  /**
   * Series ids for every point, in a buffer reused by the next write; new series are committed
   * to `index.db` first.
   */
  #resolveSeries(points: readonly MetricDataPoint[]): Int32Array {
    if (this.#pointIds.length < points.length) this.#pointIds = new Int32Array(points.length * 2);
    const ids = this.#pointIds;
    const lookup = this.#lookup;
    let added: SeriesEntry[] | undefined;
    try {
      for (let i = 0; i < points.length; i++) {
        const point = points[i];
        const known = lookup.find(point.agentId, point.metricName, point.labels);
        if (known >= 0) {
          ids[i] = known;
          continue;
        }
        const labelsJson = canonicalLabelsJson(point.labels);
        const identity = seriesIdentity(point.agentId, point.metricName, labelsJson);
        let entry = this.#index.get(identity);
        if (!entry) {
          if (added === undefined) {
            added = [];
            this.#index.begin();
          }
          entry = this.#index.add(identity, point.agentId, point.metricName, labelsJson);
          added.push(entry);
          this.#states.add(entry, true);
        }
        if (this.#states.entries[entry.id] === undefined) this.#states.add(entry, false);
        ids[i] = entry.id;
        lookup.remember(point.agentId, point.metricName, point.labels, entry.id);
      }
      // Series before samples: a crash in between leaves a series without samples, never
      // samples whose series is unknown.
      if (added !== undefined) this.#index.commit();
    } catch (error) {
      if (added !== undefined) {
        this.#index.rollback(added);
        for (const entry of added) this.#states.remove(entry.id);
      }
      this.#lookup.clear();
      throw error;
    }
    return ids;
  }

  /** Newest sealed timestamp of a series in a day, counting what the plan is about to seal. */
  #ensureSealed(id: number, dayNum: number, plan: WritePlan): void {
    const states = this.#states;
    if (states.sealedDay[id] === dayNum) return;
    let sealed = -Infinity;
    if (states.maySealed[id] === 1) {
      const day = dayName(dayNum);
      if (this.#days.has(day)) sealed = this.#partition(day, false).lastSealedTs(id);
    }
    const planned = plan.days.get(dayNum)?.sealedMax.get(id);
    if (planned !== undefined && planned > sealed) sealed = planned;
    states.sealedDay[id] = dayNum;
    states.sealedUpTo[id] = sealed;
  }

  /**
   * Sends one sample to its series' open chunk, or to the sealed chunks of its hour when it is
   * older than the open chunk or than what is already sealed that day.
   */
  #route(id: number, ts: number, value: number, context: RouteContext): void {
    const { plan, result } = context;
    const states = this.#states;
    const heads = this.#heads;
    const windowStart = ts - (ts % HOUR_MS);
    let open = states.headDay[id] !== NO_DAY;
    if (open && windowStart > states.windowStart[id]) {
      this.#seal(id, plan);
      open = false;
    }
    const dayNum = dayOf(ts);
    this.#ensureSealed(id, dayNum, plan);
    const sealedUpTo = states.sealedUpTo[id];
    if (ts <= sealedUpTo || (open && windowStart < states.windowStart[id])) {
      // A replayed sample at or below what is sealed was sealed before the restart.
      if (context.mode === "replay" && ts <= sealedUpTo) return;
      if (ts > sealedUpTo) states.sealedUpTo[id] = ts;
      states.maySealed[id] = 1;
      plan.day(dayNum).addLate(id, ts, value);
      return;
    }
    if (!open) {
      states.headDay[id] = dayNum;
      states.windowStart[id] = windowStart;
      states.openHeads++;
      if (context.mode === "replay") {
        states.firstLogId[id] = context.logId;
        this.#refs(dayNum).add(context.logId);
      } else {
        states.firstLogId[id] = PENDING_LOG_ID;
        plan.day(dayNum).pendingHeads.push(id);
      }
      heads.append(id, ts, value);
    } else if (ts > heads.lastTs(id)) {
      heads.append(id, ts, value);
    } else {
      const stored = heads.valueAt(id, ts);
      if (stored !== undefined) {
        if (sameFloat64Bits(stored, value)) result.duplicates++;
        else result.conflicts++;
        return;
      }
      heads.insert(id, ts, value);
    }
    result.written++;
    if (context.mode === "write") plan.day(dayNum).logSample(id, ts, value);
    else if (context.mode === "convert") context.touched.add(id);
    if (heads.count(id) >= CHUNK_MAX_SAMPLES) this.#seal(id, plan);
  }

  #refs(dayNum: number): LogReferences {
    let refs = this.#logRefs.get(dayNum);
    if (!refs) this.#logRefs.set(dayNum, refs = new LogReferences());
    return refs;
  }

  /** Moves an open chunk into the plan as a sealed chunk. */
  #seal(id: number, plan: WritePlan): void {
    const states = this.#states;
    const heads = this.#heads;
    const dayNum = states.headDay[id];
    const count = heads.copyTo(id, sealTimestamps, sealValues);
    const day = plan.day(dayNum);
    day.seals.push(this.#newChunk(id, sealTimestamps, sealValues, count, plan.buffers.chunks));
    const lastTs = heads.lastTs(id);
    heads.release(id);
    day.noteSealed(id, lastTs);
    day.cleanLog = true;
    const firstLogId = states.firstLogId[id];
    if (firstLogId !== PENDING_LOG_ID) this.#refs(dayNum).release(firstLogId);
    states.headDay[id] = NO_DAY;
    states.openHeads--;
    states.sealedDay[id] = dayNum;
    states.sealedUpTo[id] = lastTs;
    states.maySealed[id] = 1;
  }

  /** A sealed chunk whose bytes are appended to `out` (a fresh buffer when not given). */
  #newChunk(
    seriesId: number,
    timestamps: ArrayLike<number>,
    values: ArrayLike<number>,
    count: number,
    out = new ByteWriter(16 + count * 3),
  ): NewChunk {
    const stats = chunkStats(values, count);
    const start = out.length;
    encodeChunkInto(out, timestamps, values, count);
    return {
      seriesId,
      startTs: timestamps[0],
      endTs: timestamps[count - 1],
      count,
      ...stats,
      data: out.bytes.subarray(start, out.length),
    };
  }

  /** Seals open chunks whose hour ended before `endedBeforeMs`. */
  #sweep(endedBeforeMs: number, plan: WritePlan): void {
    const states = this.#states;
    if (states.openHeads === 0) return;
    for (let id = 0; id < states.limit; id++) {
      if (states.headDay[id] !== NO_DAY && states.windowStart[id] + HOUR_MS <= endedBeforeMs) {
        this.#seal(id, plan);
      }
    }
  }

  /**
   * Commits the plan, one transaction per day: sealed chunks, late merges, the head-log row,
   * and the removal of head-log rows no open chunk needs.
   */
  #commit(context: RouteContext): void {
    const { plan, result } = context;
    for (const id of context.touched) {
      if (this.#states.headDay[id] !== NO_DAY) this.#seal(id, plan);
    }
    let current: ChunkPartition | undefined;
    try {
      for (const day of plan.ordered()) {
        const partition = this.#partition(dayName(day.dayNum), true);
        current = partition;
        partition.begin();
        for (const chunk of day.seals) partition.insertChunk(chunk);
        for (const [id, samples] of day.late) {
          this.#mergeLate(partition, this.#states.entries[id]!, samples, result);
        }
        let rowId = Infinity;
        if (day.log !== undefined && day.log.count > 0) {
          rowId = partition.appendLog(day.log.finish());
        }
        if (day.cleanLog) {
          partition.deleteLogBelow(Math.min(this.#refs(day.dayNum).minLive(), rowId));
        }
        partition.commit();
        current = undefined;
        this.#adoptPending(day, rowId);
        if (
          day.cleanLog && rowId === Infinity && this.#refs(day.dayNum).minLive() === Infinity &&
          day.dayNum < dayOf(this.#clock.now())
        ) {
          // A past day whose last open chunk is sealed: its head log is empty for good.
          partition.releaseFreePages();
        }
      }
    } catch (error) {
      current?.rollback();
      this.#broken = error as Error;
      throw new Error(
        `Cannot commit to the chunk store in ${this.#dataDir}: ${(error as Error).message}`,
        { cause: error },
      );
    } finally {
      plan.buffers.recycle();
      this.#evictIdle();
    }
  }

  /** Heads opened by the committed write now reference its head-log row. */
  #adoptPending(day: DayPlan, rowId: number): void {
    const states = this.#states;
    for (const id of day.pendingHeads) {
      if (states.headDay[id] !== day.dayNum || states.firstLogId[id] !== PENDING_LOG_ID) continue;
      if (rowId === Infinity) {
        throw new Error(`open chunk of ${describeSeries(states.entries[id]!)} has no head-log row`);
      }
      states.firstLogId[id] = rowId;
      this.#refs(day.dayNum).add(rowId);
    }
  }

  /**
   * Merges late samples of one series into the sealed chunks of their hours, inside the open
   * transaction: duplicates and conflicts are judged against what is stored, and each hour's
   * chunks are rewritten once.
   */
  #mergeLate(
    partition: ChunkPartition,
    entry: SeriesEntry,
    samples: Array<[number, number]>,
    result: WriteResult,
  ): void {
    const byHour = new Map<number, Array<[number, number]>>();
    for (const sample of samples) {
      const hour = sample[0] - (sample[0] % HOUR_MS);
      let list = byHour.get(hour);
      if (!list) byHour.set(hour, list = []);
      list.push(sample);
    }
    for (const [hour, hourSamples] of byHour) {
      const rows = partition.chunksStarting(entry.id, hour, hour + HOUR_MS - 1);
      const stored = new Map<number, number>();
      for (const row of rows) {
        const { timestamps, values } = this.#decode(row, entry, partition.day);
        for (let i = 0; i < timestamps.length; i++) stored.set(timestamps[i], values[i]);
      }
      let added = 0;
      for (const [ts, value] of hourSamples) {
        const existing = stored.get(ts);
        if (existing === undefined) {
          stored.set(ts, value);
          added++;
        } else if (sameFloat64Bits(existing, value)) {
          result.duplicates++;
        } else {
          result.conflicts++;
        }
      }
      if (added === 0) continue;
      result.written += added;
      const merged = [...stored.entries()].sort((a, b) => a[0] - b[0]);
      for (const row of rows) partition.deleteChunk(row.rowid);
      const pieces = Math.ceil(merged.length / CHUNK_MAX_SAMPLES);
      const size = Math.ceil(merged.length / pieces);
      for (let start = 0; start < merged.length; start += size) {
        const piece = merged.slice(start, start + size);
        partition.insertChunk(this.#newChunk(
          entry.id,
          piece.map(([ts]) => ts),
          piece.map(([, value]) => value),
          piece.length,
        ));
      }
    }
  }

  #decode(row: ChunkRow, entry: SeriesEntry, day: string) {
    return decodeChunk(
      row.data,
      `chunk of ${describeSeries(entry)} starting ${
        new Date(row.startTs).toISOString()
      } in ${day}.db`,
    );
  }

  // ---------------------------------------------------------------------------------------
  // Opening: head-log replay and row-engine conversion

  #replay(): void {
    const started = performance.now();
    const context = this.#context("replay");
    let rows = 0;
    let samples = 0;
    for (const day of [...this.#days].sort()) {
      const partition = this.#partition(day, false);
      const log = partition.readLog();
      if (log.length === 0) continue;
      context.plan.day(dayOf(dayStartMs(day))).cleanLog = true;
      for (const [id, data] of log) {
        rows++;
        context.logId = id;
        readHeadLogRow(data, `head-log row ${id} of ${day}.db`, (seriesId, ts, value) => {
          if (this.#states.entries[seriesId] === undefined) {
            this.#log.warn("head log names an unknown series; sample skipped", {
              day,
              row: id,
              series_id: seriesId,
            });
            return;
          }
          samples++;
          this.#route(seriesId, ts, value, context);
        });
      }
    }
    if (rows === 0) return;
    this.#commit(context);
    this.#log.info("chunk store replayed its head log", {
      rows,
      samples,
      open_chunks: this.#states.openHeads,
      ms: Math.round(performance.now() - started),
    });
  }

  /** Moves samples the row engine left in day files into chunks, then drops its table. */
  #convertRowPartitions(): void {
    for (const day of [...this.#days].sort()) {
      const partition = this.#partition(day, false);
      if (!partition.hasRowSamples()) continue;
      const started = performance.now();
      const result: WriteResult = { written: 0, duplicates: 0, conflicts: 0 };
      let after: [number, number] = [-1, -1];
      for (;;) {
        const slice = this.#partition(day, false).rowSamplesAfter(after, CONVERT_SLICE);
        if (slice.length === 0) break;
        const context = this.#context("convert", result);
        for (const [seriesId, ts, value] of slice) {
          if (this.#states.entries[seriesId] === undefined) {
            throw new Error(
              `Cannot convert ${day}.db from the row engine: series ${seriesId} is not in index.db`,
            );
          }
          this.#route(seriesId, ts, value, context);
        }
        this.#commit(context);
        const last = slice[slice.length - 1];
        after = [last[0], last[1]];
      }
      this.#partition(day, false).dropRowSamples();
      this.#log.info("chunk store converted a row-engine partition", {
        day,
        ...result,
        ms: Math.round(performance.now() - started),
      });
    }
  }

  // ---------------------------------------------------------------------------------------
  // Reading

  /** Calls `visit` with the samples of one series in `[fromMs, toMs]`, ascending. */
  #forEachSample(
    entry: SeriesEntry,
    fromMs: number,
    toMs: number,
    days: string[],
    onChunk: (row: ChunkRow, day: string) => boolean,
    visit: (ts: number, value: number) => void,
  ): void {
    const id = entry.id;
    const heads = this.#heads;
    const headDay = this.#states.headDay[id];
    let headDone = headDay === NO_DAY;
    const visitHead = () => {
      headDone = true;
      if (heads.lastTs(id) < fromMs || heads.firstTs(id) > toMs) return;
      heads.forEach(id, (ts, value) => {
        if (ts >= fromMs && ts <= toMs) visit(ts, value);
      });
    };
    for (const day of days) {
      const dayNum = dayOf(dayStartMs(day));
      if (!headDone && headDay < dayNum) visitHead();
      const partition = this.#partition(day, false);
      const fromStart = Math.max(fromMs - (fromMs % HOUR_MS), dayStartMs(day));
      const rows = partition.chunksStarting(id, fromStart, toMs);
      for (const row of rows) {
        if (row.endTs < fromMs) continue;
        if (onChunk(row, day)) continue;
        const { timestamps, values } = this.#decode(row, entry, day);
        for (let i = 0; i < timestamps.length; i++) {
          const ts = timestamps[i];
          if (ts >= fromMs && ts <= toMs) visit(ts, values[i]);
        }
      }
      if (!headDone && headDay === dayNum) visitHead();
    }
    if (!headDone) visitHead();
  }

  queryRaw(query: SeriesQuery): RawSeries[] {
    this.#assertUsable();
    validateRange(query);
    const { fromMs, toMs } = query;
    if (fromMs > toMs) return [];
    const days = this.#daysOverlapping(fromMs, toMs);
    const result: RawSeries[] = [];
    for (const entry of this.#index.match(query)) {
      const samples: Sample[] = [];
      this.#forEachSample(
        entry,
        fromMs,
        toMs,
        days,
        () => false,
        (timestampMs, value) => samples.push({ timestampMs, value }),
      );
      if (samples.length > 0) result.push({ ...keyOf(entry), samples });
    }
    this.#evictIdle();
    return result;
  }

  queryBuckets(query: SeriesQuery, stepMs: number): BucketedSeries[] {
    this.#assertUsable();
    validateRange(query);
    validateStep(stepMs);
    const { fromMs, toMs } = query;
    if (fromMs > toMs) return [];
    const days = this.#daysOverlapping(fromMs, toMs);
    const result: BucketedSeries[] = [];
    for (const entry of this.#index.match(query)) {
      const buckets = new BucketAccumulator(fromMs, stepMs);
      this.#forEachSample(
        entry,
        fromMs,
        toMs,
        days,
        (row) => {
          // A chunk wholly inside one bucket and the range is aggregated without decoding.
          if (row.startTs < fromMs || row.endTs > toMs) return false;
          const index = buckets.indexOf(row.startTs);
          if (index !== buckets.indexOf(row.endTs)) return false;
          buckets.addChunk(index, row.count, row);
          return true;
        },
        (ts, value) => buckets.add(ts, value),
      );
      const list = buckets.finish();
      if (list.length > 0) result.push({ ...keyOf(entry), buckets: list });
    }
    this.#evictIdle();
    return result;
  }

  queryBlocks(query: SeriesQuery): BlockSeries[] {
    this.#assertUsable();
    validateRange(query);
    const { fromMs, toMs } = query;
    if (fromMs > toMs) return [];
    const days = this.#daysOverlapping(fromMs, toMs);
    const result: BlockSeries[] = [];
    for (const entry of this.#index.match(query)) {
      const collector = new BlockCollector();
      this.#forEachSample(entry, fromMs, toMs, days, (row, day) => {
        if (row.startTs < fromMs || row.endTs > toMs) return false;
        collector.chunk(row, () => this.#decode(row, entry, day));
        return true;
      }, (ts, value) => collector.sample(ts, value));
      const blocks = collector.finish();
      if (blocks.length > 0) result.push({ ...keyOf(entry), blocks });
    }
    this.#evictIdle();
    return result;
  }

  latest(agentId: string): LatestSample[] {
    this.#assertUsable();
    const newestFirst = [...this.#days].sort().reverse();
    const result: LatestSample[] = [];
    for (const entry of this.#index.match({ agentId })) {
      const headDay = this.#states.headDay[entry.id];
      let newest: Sample | undefined = headDay !== NO_DAY
        ? { timestampMs: this.#heads.lastTs(entry.id), value: this.#heads.lastValue(entry.id) }
        : undefined;
      for (const day of newestFirst) {
        if (headDay !== NO_DAY && dayOf(dayStartMs(day)) < headDay) break;
        const row = this.#partition(day, false).lastChunk(entry.id);
        if (!row) continue;
        if (!newest || row.endTs > newest.timestampMs) {
          const { timestamps, values } = this.#decode(row, entry, day);
          newest = { timestampMs: timestamps[row.count - 1], value: values[row.count - 1] };
        }
        break;
      }
      if (newest) result.push({ ...keyOf(entry), ...newest });
    }
    this.#evictIdle();
    return result;
  }

  listSeries(filter?: Omit<SeriesQuery, "fromMs" | "toMs">): SeriesKey[] {
    this.#assertUsable();
    return this.#index.match(filter).map(keyOf);
  }

  deleteBefore(cutoffMs: number, nowMs: number): string[] {
    this.#assertUsable();
    const expired = partitionsToDelete(this.#dataDir, this.#days, cutoffMs, nowMs);
    if (expired.length === 0) return expired;
    const expiredNums = new Set(expired.map((day) => dayOf(dayStartMs(day))));
    // Open chunks of those days go with their files.
    const states = this.#states;
    for (let id = 0; id < states.limit; id++) {
      if (expiredNums.has(states.headDay[id])) {
        this.#heads.release(id);
        states.headDay[id] = NO_DAY;
        states.openHeads--;
      }
      if (expiredNums.has(states.sealedDay[id])) states.sealedDay[id] = NO_DAY;
    }
    for (const dayNum of expiredNums) this.#logRefs.delete(dayNum);
    deletePartitions(this.#dataDir, expired, this.#open, this.#days);
    return expired;
  }

  stats(): StorageStats {
    this.#assertUsable();
    return partitionStats("chunk", this.#dataDir, this.#days, this.#index);
  }

  close(): void {
    if (this.#closed) return;
    try {
      if (!this.#broken && this.#states.openHeads > 0) {
        const context = this.#context("write");
        this.#sweep(Infinity, context.plan);
        this.#commit(context);
      }
      for (const partition of this.#open.values()) partition.releaseFreePages();
    } finally {
      this.#closed = true;
      for (const partition of this.#open.values()) partition.close();
      this.#open.clear();
      this.#index.close();
    }
  }

  // ---------------------------------------------------------------------------------------
  // Partitions

  #assertUsable(): void {
    if (this.#closed) throw new Error("Cannot use the chunk store: it is closed");
    if (this.#broken) {
      throw new Error(
        `Cannot use the chunk store: a write failed half-way (${this.#broken.message}); reopen it to recover from its files`,
        { cause: this.#broken },
      );
    }
  }

  /** Known days that can hold samples in `[fromMs, toMs]`, ascending. */
  #daysOverlapping(fromMs: number, toMs: number): string[] {
    const clamp = (ms: number) => Math.min(Math.max(0, ms), MAX_TIMESTAMP_MS);
    const first = dayName(dayOf(clamp(fromMs)));
    const last = dayName(dayOf(clamp(toMs)));
    return [...this.#days].filter((day) => day >= first && day <= last).sort();
  }

  #partition(day: string, create: boolean): ChunkPartition {
    let partition = this.#open.get(day);
    if (partition) {
      this.#open.delete(day);
    } else {
      if (!create && !this.#days.has(day)) {
        throw new Error(`Cannot read partition ${day}: it does not exist`);
      }
      partition = new ChunkPartition(
        day,
        partitionPath(this.#dataDir, day),
        Math.min(this.#cacheSizeKib, PARTITION_CACHE_KIB),
      );
      this.#days.add(day);
    }
    this.#open.set(day, partition);
    return partition;
  }

  #evictIdle(): void {
    if (this.#open.size <= this.#maxOpen) return;
    for (const [day, partition] of this.#open) {
      if (this.#open.size <= this.#maxOpen) break;
      if (partition.inTransaction) continue;
      partition.close();
      this.#open.delete(day);
    }
  }
}
