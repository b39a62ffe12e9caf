/**
 * The chunk store's write side: routes each sample to its series' open chunk or, when it is
 * older than that chunk's hour or than what is sealed that day, to the sealed chunks of its
 * hour; seals open chunks (at `CHUNK_MAX_SAMPLES`, when a sample of a later hour arrives, or
 * when their hour has passed); and commits all of it, one transaction per day.
 *
 * A write is first gathered in a `WritePlan`, then committed: per day, the sealed chunks, the
 * late merges, the write's head-log row, and the removal of head-log rows no open chunk needs.
 * Replay (`_replay.ts`) and row conversion (`_convert.ts`) use the same steps: replay skips a
 * sample that was sealed before the restart instead of merging it, and conversion, which logs
 * nothing, seals the chunks it opened before each commit.
 */
import type { Clock } from "../../../shared/clock.ts";
import { dayName, dayNumber, MS_PER_HOUR, MS_PER_MINUTE } from "../../../shared/time.ts";
import type { MetricDataPoint } from "../../../shared/types.ts";
import { StorageUnavailableError, type WriteResult } from "../types.ts";
import { canonicalLabelsJson, sameFloat64Bits, seriesIdentity } from "../points.ts";
import type { SeriesEntry } from "../series_index.ts";
import { encodeChunkInto } from "./codec.ts";
import { ByteWriter } from "./_bytes.ts";
import { HEAD_MAX_SAMPLES } from "./_head.ts";
import type { ChunkPartition, ChunkRow, NewChunk } from "./_partition.ts";
import { chunkStats } from "./_aggregate.ts";
import { type DayPlan, PlanBuffers, WritePlan } from "./_plan.ts";
import { NO_DAY, PENDING_LOG_ID } from "./_series_state.ts";
import { SeriesLookup } from "./_series_lookup.ts";
import { decodeStoredChunk, describeSeries, type StoreState } from "./_store_state.ts";

/** A chunk is sealed at this many samples (an hour at the agent's default 10 s interval). */
export const CHUNK_MAX_SAMPLES = 360;
if (CHUNK_MAX_SAMPLES > HEAD_MAX_SAMPLES) throw new Error("open chunks cannot hold a chunk");
/** Where a sealing chunk is unpacked before encoding (shared: writes are synchronous). */
const sealTimestamps = new Float64Array(HEAD_MAX_SAMPLES);
const sealValues = new Float64Array(HEAD_MAX_SAMPLES);
/** How often a write looks for open chunks whose hour is over but got no newer sample. */
const SWEEP_INTERVAL_MS = MS_PER_MINUTE;
/** How long after its hour an open chunk waits for stragglers before such a sweep seals it. */
const SWEEP_GRACE_MS = 5 * MS_PER_MINUTE;

export interface AppenderOptions {
  /** Time source for the age limit and for sealing chunks whose hour has passed. */
  clock: Clock;
  /** Samples older than `now - lateSampleMaxAgeMs` are refused as `tooOld`. Default: no limit. */
  lateSampleMaxAgeMs?: number;
}

/**
 * A plan whose commit failed (no space, an I/O error, a busy file): memory already holds its
 * outcome, the files not yet, so it is committed again before anything else is written.
 */
export interface PendingCommit {
  plan: WritePlan;
  /** The latest failure. */
  error: Error;
  /** When its commit first failed, epoch ms. */
  sinceMs: number;
}

export class Appender {
  readonly #state: StoreState;
  readonly #clock: Clock;
  readonly #maxAgeMs: number | undefined;
  readonly #lookup = new SeriesLookup();
  #buffers = new PlanBuffers();
  #pending: PendingCommit | undefined;

  /** Drops the series-id cache: after series left the catalogue, their ids must not be used. */
  forgetSeriesIds(): void {
    this.#lookup.clear();
  }
  /** Series id per point of the write in progress. */
  #pointIds = new Int32Array(1024);
  #nextSweepMs = -Infinity;

  constructor(state: StoreState, options: AppenderOptions) {
    this.#state = state;
    this.#clock = options.clock;
    this.#maxAgeMs = options.lateSampleMaxAgeMs;
  }

  /** The commit that failed and waits to be retried, if any. */
  get pending(): Readonly<PendingCommit> | undefined {
    return this.#pending;
  }

  /**
   * Commits what a failed commit left pending; throws `StorageUnavailableError` (and changes
   * nothing) while that still fails.
   */
  retryPending(): void {
    const pending = this.#pending;
    if (pending === undefined) return;
    try {
      this.#commitDays(pending.plan);
    } catch (error) {
      pending.error = error as Error;
      throw this.#unavailable(error as Error);
    } finally {
      this.#state.partitions.evictIdle();
    }
    this.#pending = undefined;
    this.#state.pendingSeals = undefined;
  }

  /** `MetricStore.write` for points already validated. */
  write(points: readonly MetricDataPoint[]): WriteResult {
    this.retryPending();
    const plan = this.newPlan();
    const result = plan.result;
    if (this.#maxAgeMs !== undefined) result.tooOld = 0;
    if (points.length === 0) return result;
    const now = this.#clock.now();
    const oldestMs = this.#maxAgeMs === undefined ? -Infinity : now - this.#maxAgeMs;
    const ids = this.#resolveSeries(points);
    const states = this.#state.states;
    try {
      for (let i = 0; i < points.length; i++) {
        const { timestampMs: ts, value } = points[i];
        if (ts < oldestMs) {
          result.tooOld!++;
          continue;
        }
        const id = ids[i];
        if (this.belongsToSealed(id, ts, plan)) {
          this.addLate(id, ts, value, plan);
        } else if (this.appendOpen(id, ts, value, plan, PENDING_LOG_ID)) {
          const day = plan.day(dayNumber(ts));
          if (states.recordedDay[id] !== day.dayNum) this.#noteSeries(day, id);
          day.logSample(id, ts, value);
        }
      }
      if (now >= this.#nextSweepMs) {
        this.#nextSweepMs = now + SWEEP_INTERVAL_MS;
        this.#sweep(now - SWEEP_GRACE_MS, plan);
      }
    } catch (error) {
      // Routing reads partitions (a damaged one throws) after earlier samples of this write
      // went into open chunks without a head-log row: a retry would find them there and call
      // them stored, and a crash would lose them. What was routed is committed (or left
      // pending) before the write fails, so memory and files agree again.
      try {
        this.commit(plan);
      } catch {
        // Pending now; the next write retries it.
      }
      throw new Error(
        `Cannot write to the chunk store in ${this.#state.dataDir}: ${(error as Error).message}`,
        { cause: error },
      );
    }
    this.commit(plan);
    return result;
  }

  /** Seals every open chunk and commits them (at close). */
  sealAll(): void {
    this.retryPending();
    const plan = this.newPlan();
    this.#sweep(Infinity, plan);
    this.commit(plan);
  }

  /** A plan for one write, counting into `result`; plans share buffers, so one at a time. */
  newPlan(result?: WriteResult): WritePlan {
    return new WritePlan(this.#buffers, result);
  }

  /**
   * Series ids for every point, in a buffer reused by the next write; new series are committed
   * to `index.db` first.
   */
  #resolveSeries(points: readonly MetricDataPoint[]): Int32Array {
    if (this.#pointIds.length < points.length) this.#pointIds = new Int32Array(points.length * 2);
    const ids = this.#pointIds;
    const lookup = this.#lookup;
    const { index, states } = this.#state;
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
        let entry = index.get(identity);
        if (!entry) {
          if (added === undefined) {
            added = [];
            index.begin();
          }
          entry = index.add(identity, point.agentId, point.metricName, labelsJson);
          added.push(entry);
          states.add(entry, true);
        }
        if (states.entries[entry.id] === undefined) states.add(entry, false);
        ids[i] = entry.id;
        lookup.remember(point.agentId, point.metricName, point.labels, entry.id);
      }
      // Series before samples: a crash in between leaves a series without samples, never
      // samples whose series is unknown.
      if (added !== undefined) index.commit();
    } catch (error) {
      if (added !== undefined) {
        index.rollback(added);
        for (const entry of added) states.remove(entry.id);
      }
      lookup.clear();
      const message = (error as Error).message;
      if (message.includes(index.path)) throw error;
      throw new StorageUnavailableError(`${index.path}: ${message}`, { cause: error });
    }
    return ids;
  }

  /**
   * Seals the open chunk of `id` when `ts` is of a later hour, then says where `ts` belongs:
   * true for the sealed chunks of its day (at or below what is sealed there, or older than the
   * open chunk's hour), false for the open chunk.
   */
  belongsToSealed(id: number, ts: number, plan: WritePlan): boolean {
    const states = this.#state.states;
    const windowStart = ts - (ts % MS_PER_HOUR);
    let open = states.headDay[id] !== NO_DAY;
    if (open && windowStart > states.windowStart[id]) {
      this.seal(id, plan);
      open = false;
    }
    this.#ensureSealed(id, dayNumber(ts), plan);
    return ts <= states.sealedUpTo[id] || (open && windowStart < states.windowStart[id]);
  }

  /** Queues a sample for the sealed chunks of its hour; the commit merges it. */
  addLate(id: number, ts: number, value: number, plan: WritePlan): void {
    const states = this.#state.states;
    if (ts > states.sealedUpTo[id]) states.sealedUpTo[id] = ts;
    states.maySealed[id] = 1;
    const day = plan.day(dayNumber(ts));
    this.#noteSeries(day, id);
    day.addLate(id, ts, value);
  }

  /** Makes the day's commit write the series' identity record unless known to be there. */
  #noteSeries(day: DayPlan, id: number): void {
    const states = this.#state.states;
    if (states.recordedDay[id] === day.dayNum) return;
    // Marked now: the plan either commits or stays pending until it does.
    states.recordedDay[id] = day.dayNum;
    day.unrecorded.push(id);
  }

  /**
   * Adds a sample to the open chunk of `id`, opening one when there is none (after
   * `belongsToSealed` said false). Returns whether it was written; a duplicate or conflict is
   * counted in the plan's result instead. `logId` is the head-log row the sample is replayed
   * from, or `PENDING_LOG_ID` when its row is the one this plan's commit appends. (Positional
   * arguments: this runs per sample.)
   */
  appendOpen(id: number, ts: number, value: number, plan: WritePlan, logId: number): boolean {
    const states = this.#state.states;
    const heads = this.#state.heads;
    if (states.headDay[id] === NO_DAY) {
      const dayNum = dayNumber(ts);
      states.headDay[id] = dayNum;
      states.windowStart[id] = ts - (ts % MS_PER_HOUR);
      states.openHeads++;
      states.firstLogId[id] = logId;
      if (logId === PENDING_LOG_ID) plan.day(dayNum).pendingHeads.push(id);
      else this.#state.logRefs(dayNum).add(logId);
      heads.append(id, ts, value);
    } else if (ts > heads.lastTs(id)) {
      heads.append(id, ts, value);
    } else {
      const stored = heads.valueAt(id, ts);
      if (stored !== undefined) {
        if (sameFloat64Bits(stored, value)) plan.result.duplicates++;
        else plan.result.conflicts++;
        return false;
      }
      heads.insert(id, ts, value);
    }
    plan.result.written++;
    if (heads.count(id) >= CHUNK_MAX_SAMPLES) this.seal(id, plan);
    return true;
  }

  /** Newest sealed timestamp of a series in a day, counting what the plan is about to seal. */
  #ensureSealed(id: number, dayNum: number, plan: WritePlan): void {
    const { states, partitions } = this.#state;
    if (states.sealedDay[id] === dayNum) return;
    let sealed = -Infinity;
    if (states.maySealed[id] === 1) {
      const day = dayName(dayNum);
      if (partitions.has(day)) sealed = partitions.get(day).lastSealedTs(id);
    }
    const planned = plan.days.get(dayNum)?.sealedMax.get(id);
    if (planned !== undefined && planned > sealed) sealed = planned;
    states.sealedDay[id] = dayNum;
    states.sealedUpTo[id] = sealed;
  }

  /** Moves the open chunk of `id` into the plan as a sealed chunk. */
  seal(id: number, plan: WritePlan): void {
    const { states, heads } = this.#state;
    const dayNum = states.headDay[id];
    const count = heads.copyTo(id, sealTimestamps, sealValues);
    const day = plan.day(dayNum);
    this.#noteSeries(day, id);
    day.seals.push(newChunk(id, sealTimestamps, sealValues, count, plan.buffers.chunks));
    const lastTs = heads.lastTs(id);
    heads.release(id);
    day.noteSealed(id, lastTs);
    day.cleanLog = true;
    const firstLogId = states.firstLogId[id];
    if (firstLogId !== PENDING_LOG_ID) this.#state.logRefs(dayNum).release(firstLogId);
    states.headDay[id] = NO_DAY;
    states.openHeads--;
    states.sealedDay[id] = dayNum;
    states.sealedUpTo[id] = lastTs;
    states.maySealed[id] = 1;
  }

  /** Seals open chunks whose hour ended before `endedBeforeMs`. */
  #sweep(endedBeforeMs: number, plan: WritePlan): void {
    const states = this.#state.states;
    if (states.openHeads === 0) return;
    for (let id = 0; id < states.limit; id++) {
      if (states.headDay[id] !== NO_DAY && states.windowStart[id] + MS_PER_HOUR <= endedBeforeMs) {
        this.seal(id, plan);
      }
    }
  }

  /**
   * Commits the plan, one transaction per day: sealed chunks, late merges (counted in the
   * plan's result), the head-log row, and the removal of head-log rows no open chunk needs.
   * When a day's commit fails, the plan becomes pending: the days not yet committed are
   * committed before the next write (`retryPending`), and this throws
   * `StorageUnavailableError`. Nothing is lost that was acknowledged: a failed day's head-log
   * rows and chunks stay as they were on disk.
   */
  commit(plan: WritePlan): void {
    if (this.#pending !== undefined) {
      throw new Error("Cannot commit a plan while another one waits to be committed");
    }
    try {
      this.#commitDays(plan);
    } catch (error) {
      this.#pending = { plan, error: error as Error, sinceMs: this.#clock.now() };
      this.#state.pendingSeals = sealsOf(plan);
      // The pending plan keeps viewing its buffers; later plans get their own.
      this.#buffers = new PlanBuffers();
      throw this.#unavailable(error as Error);
    } finally {
      this.#state.partitions.evictIdle();
    }
    plan.buffers.recycle();
  }

  #unavailable(error: Error): StorageUnavailableError {
    return new StorageUnavailableError(
      `Cannot commit to the chunk store: ${error.message}; ` +
        "the write was not acknowledged, retry it later",
      { cause: error },
    );
  }

  /** Commits each day of the plan not committed yet; the failing day is rolled back. */
  #commitDays(plan: WritePlan): void {
    const state = this.#state;
    let current: ChunkPartition | undefined;
    try {
      for (const day of plan.ordered()) {
        if (day.committed) continue;
        const partition = state.partitions.get(dayName(day.dayNum), true);
        current = partition;
        partition.begin();
        for (const id of day.unrecorded) {
          const entry = state.states.entries[id]!;
          partition.recordSeries(id, entry.agentId, entry.metricName, entry.labelsJson);
        }
        for (const chunk of day.seals) partition.insertChunk(chunk);
        for (const [id, samples] of day.late) {
          mergeLate(partition, state.states.entries[id]!, samples, plan.result);
        }
        let rowId = Infinity;
        if (day.log !== undefined && day.log.count > 0) {
          rowId = partition.appendLog(day.log.finish());
        }
        const refs = state.logRefs(day.dayNum);
        if (day.cleanLog) partition.deleteLogBelow(Math.min(refs.minLive(), rowId));
        partition.commit();
        current = undefined;
        day.committed = true;
        this.#adoptPending(day, rowId);
        if (
          day.cleanLog && rowId === Infinity && refs.minLive() === Infinity &&
          day.dayNum < dayNumber(this.#clock.now())
        ) {
          // A past day whose last open chunk is sealed: its head log is empty for good.
          try {
            partition.releaseFreePages();
          } catch {
            // Only space is not given back yet; the next seal of the day tries again.
          }
        }
      }
    } catch (error) {
      current?.rollback();
      // SQLite's words ("database or disk is full") do not say which file; this does.
      const message = (error as Error).message;
      if (current === undefined || message.includes(current.path)) throw error;
      throw new Error(`${current.path}: ${message}`, { cause: error });
    }
  }

  /** Heads opened by the committed write now reference its head-log row. */
  #adoptPending(day: DayPlan, rowId: number): void {
    const states = this.#state.states;
    for (const id of day.pendingHeads) {
      if (states.headDay[id] !== day.dayNum || states.firstLogId[id] !== PENDING_LOG_ID) continue;
      if (rowId === Infinity) {
        throw new Error(`open chunk of ${describeSeries(states.entries[id]!)} has no head-log row`);
      }
      states.firstLogId[id] = rowId;
      this.#state.logRefs(day.dayNum).add(rowId);
    }
  }
}

/** The chunks a plan seals, by series id, as rows a query can read. */
function sealsOf(plan: WritePlan): Map<number, ChunkRow[]> {
  const seals = new Map<number, ChunkRow[]>();
  for (const day of plan.days.values()) {
    for (const chunk of day.seals) {
      let list = seals.get(chunk.seriesId);
      if (!list) seals.set(chunk.seriesId, list = []);
      list.push({ rowid: -1, ...chunk });
    }
  }
  return seals;
}

/** A sealed chunk whose bytes are appended to `out` (a fresh buffer when not given). */
function newChunk(
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

/**
 * Merges late samples of one series into the sealed chunks of their hours, inside the open
 * transaction: duplicates and conflicts are judged against what is stored, and each hour's
 * chunks are rewritten once.
 */
function mergeLate(
  partition: ChunkPartition,
  entry: SeriesEntry,
  samples: Array<[number, number]>,
  result: WriteResult,
): void {
  const byHour = new Map<number, Array<[number, number]>>();
  for (const sample of samples) {
    const hour = sample[0] - (sample[0] % MS_PER_HOUR);
    let list = byHour.get(hour);
    if (!list) byHour.set(hour, list = []);
    list.push(sample);
  }
  for (const [hour, hourSamples] of byHour) {
    const rows = partition.chunksStarting(entry.id, hour, hour + MS_PER_HOUR - 1);
    const stored = new Map<number, number>();
    for (const row of rows) {
      const { timestamps, values } = decodeStoredChunk(row, entry, partition.day);
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
      partition.insertChunk(newChunk(
        entry.id,
        piece.map(([ts]) => ts),
        piece.map(([, value]) => value),
        piece.length,
      ));
    }
  }
}
