/**
 * The chunk store's write side. Each sample goes to the open chunk of its series and clock hour
 * (two per series, for even and odd hours: `slotOf`) when it is newer than that chunk's newest;
 * anything else (older than the newest, of an hour whose slot holds a later one, of a sealed or
 * compacted day) goes to the pending entry of its series and hour (`_pending.ts`), after a
 * duplicate check against what is stored. So arrival order costs little: nothing sealed is
 * rewritten per batch.
 *
 * Open chunks are sealed at `CHUNK_MAX_SAMPLES` (fast ones a little earlier: `#full`), when a
 * sample two hours later takes their slot, or once their hour is over and they are idle (a
 * bounded number per write: `SWEEP_SEALS_PER_WRITE`); a pending entry is merged with its hour's
 * open chunk when that is sealed, or into the sealed chunks once it has been quiet (or memory
 * runs short): the sealed chunks of an hour are rewritten once per merge (`_seal.ts`). Every change
 * is gathered in a `WritePlan` and committed by `_commit.ts`, one transaction per day, together
 * with the write's head-log row.
 *
 * Replay (`_replay.ts`) routes head-log samples the same way; a sample sealed before the restart
 * then shows up as a duplicate of the sealed one. Row conversion (`_convert.ts`) logs nothing,
 * so it seals and merges what it opened before each commit.
 */
import type { Clock } from "../../../shared/clock.ts";
import { dayName, dayNumber, MS_PER_HOUR, MS_PER_MINUTE } from "../../../shared/time.ts";
import type { MetricDataPoint } from "../../../shared/types.ts";
import { StorageUnavailableError, type WriteResult } from "../types.ts";
import { canonicalLabelsJson, sameFloat64Bits, seriesIdentity } from "../points.ts";
import type { SeriesEntry } from "../series_index.ts";
import { HEAD_MAX_SAMPLES } from "./_head.ts";
import { decodeChunk } from "./codec.ts";
import type { PendingEntry } from "./_pending.ts";
import { CHUNK_MAX_SAMPLES } from "./_new_chunk.ts";
import { PlanBuffers, WritePlan } from "./_plan.ts";
import { NO_DAY, PENDING_LOG_ID, slotOf, slotSpread } from "./_series_state.ts";
import { SeriesLookup } from "./_series_lookup.ts";
import { decodeStoredChunk, type StoreState } from "./_store_state.ts";
import { commitPlan } from "./_commit.ts";
import { Sealer } from "./_seal.ts";

export { CHUNK_MAX_SAMPLES };

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

function unavailable(error: Error): StorageUnavailableError {
  return new StorageUnavailableError(
    `Cannot commit to the chunk store: ${error.message}; ` +
      "the write was not acknowledged, retry it later",
    { cause: error },
  );
}

/** What `route` did with a sample. */
export const NOT_STORED = 0;
export const STORED = 1;
export const DEFERRED = 2;
export type Outcome = typeof NOT_STORED | typeof STORED | typeof DEFERRED;

if (CHUNK_MAX_SAMPLES > HEAD_MAX_SAMPLES) throw new Error("open chunks cannot hold a chunk");
/** How often a write looks for idle open chunks and quiet pending entries. */
const SWEEP_INTERVAL_MS = MS_PER_MINUTE;
/**
 * Open chunks one write's sweep (or one maintenance call) seals at most. A fleet's open chunks
 * of an hour all become due in the same sweep: 150k of them sealed at once stalled ingest for
 * seconds.
 */
export const SWEEP_SEALS_PER_WRITE = 500;
/** Sample spacing at which an open chunk fills its clock hour with `CHUNK_MAX_SAMPLES`. */
const HOUR_SPACING_MS = MS_PER_HOUR / CHUNK_MAX_SAMPLES;
/**
 * Where an open chunk that fills faster than its hour is sealed: `CHUNK_MAX_SAMPLES` less 0–63
 * samples (`slotSpread`). Series that start together (a fleet at a 1 s interval) would
 * otherwise all reach 360 samples, and be sealed, in the same write: a stall of ~10 s and 1 GB
 * more at 150k series.
 */
function earlyCap(slot: number): number {
  return CHUNK_MAX_SAMPLES - slotSpread(slot, 6);
}

export interface AppenderOptions {
  /** Time source for the age limit, idle open chunks and quiet pending entries. */
  clock: Clock;
  /** Samples older than `now - lateSampleMaxAgeMs` are refused as `tooOld`. Default: no limit. */
  lateSampleMaxAgeMs?: number;
}

export class Appender {
  readonly #state: StoreState;
  readonly #sealer: Sealer;
  readonly #clock: Clock;
  readonly #maxAgeMs: number | undefined;
  readonly #lookup = new SeriesLookup();
  /** Per series id, 1 once a write resolved it (`writtenSince`). */
  #written = new Uint8Array(1024);

  /** Whether a series got a sample since the last `clearWritten` (resolving it notes that). */
  writtenSince(id: number): boolean {
    return this.#written[id] === 1;
  }

  clearWritten(): void {
    this.#written.fill(0);
  }

  /** Drops the series-id cache: after series left the catalogue, their ids must not be used. */
  forgetSeriesIds(): void {
    this.#lookup.clear();
  }
  #buffers = new PlanBuffers();
  #pending: PendingCommit | undefined;
  /** Series id per point of the write in progress. */
  #pointIds = new Int32Array(1024);
  #nextSweepMs = -Infinity;
  /** Clock time of the write (or replay) in progress. */
  #nowMs = 0;
  /** The day whose partition the write in progress opened last (`#openDay`). */
  #openedDay = NaN;
  /** Points of the write in progress routed after the others (`DEFERRED`), by index. */
  readonly #deferred: number[] = [];
  /** Per series id, the write (`#writeSeq`) in which a point of it was deferred. */
  #deferredMark = new Uint32Array(1024);
  #writeSeq = 0;

  constructor(state: StoreState, options: AppenderOptions) {
    this.#state = state;
    this.#sealer = new Sealer(state);
    this.#clock = options.clock;
    this.#maxAgeMs = options.lateSampleMaxAgeMs;
  }

  get clock(): Clock {
    return this.#clock;
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
      commitPlan(this.#state, pending.plan, this.#clock.now());
    } catch (error) {
      pending.error = error as Error;
      throw unavailable(error as Error);
    } finally {
      this.#state.partitions.evictIdle();
    }
    this.#pending = undefined;
    this.#state.uncommitted = undefined;
  }

  /** `MetricStore.write` for points already validated. */
  write(points: readonly MetricDataPoint[]): WriteResult {
    this.retryPending();
    this.#openedDay = NaN;
    const plan = this.newPlan();
    const result = plan.result;
    if (this.#maxAgeMs !== undefined) result.tooOld = 0;
    if (points.length === 0) return result;
    const now = this.#nowMs = this.#clock.now();
    const oldestMs = this.#maxAgeMs === undefined ? -Infinity : now - this.#maxAgeMs;
    const ids = this.#resolveSeries(points);
    const lastWrite = this.#state.lastWriteMs;
    try {
      let lastDay = NaN;
      const store = (i: number, deferOk: boolean): void => {
        const { timestampMs: ts, value } = points[i];
        const id = ids[i];
        const outcome = this.route(id, ts, value, plan, PENDING_LOG_ID, deferOk);
        if (outcome === DEFERRED) {
          this.#deferred.push(i);
          this.#deferredMark[id] = this.#writeSeq;
        } else if (outcome === STORED) {
          const dayNum = dayNumber(ts);
          const day = plan.day(dayNum);
          if (this.#state.states.recordedDay[id] !== dayNum) this.#sealer.noteSeries(day, id);
          day.logSample(id, ts, value);
          if (dayNum !== lastDay) {
            lastWrite.set(dayNum, now);
            lastDay = dayNum;
          }
        }
      };
      this.#writeSeq++;
      if (this.#deferredMark.length < this.#state.states.limit) {
        const grown = new Uint32Array(this.#state.states.limit * 2);
        grown.set(this.#deferredMark);
        this.#deferredMark = grown;
      }
      this.#deferred.length = 0;
      for (let i = 0; i < points.length; i++) {
        if (points[i].timestampMs < oldestMs) {
          result.tooOld!++;
        } else if (this.#deferredMark[ids[i]] === this.#writeSeq) {
          // Keeps the series' order: within a write the first value of a sample wins.
          this.#deferred.push(i);
        } else {
          store(i, true);
        }
      }
      if (this.#deferred.length > 0) {
        // Samples older than their open chunk's newest, series by series: the duplicate check
        // decodes each piece of an open chunk once, not once per sample (racing batches).
        const deferred = this.#deferred;
        deferred.sort((a, b) => ids[a] - ids[b] || a - b);
        for (const i of deferred) store(i, false);
      }
      if (now >= this.#nextSweepMs) {
        // A bounded share per write; the next write goes on while more are due.
        const more = this.#sealer.sweep(now, plan, false, SWEEP_SEALS_PER_WRITE);
        this.#nextSweepMs = more ? now : now + SWEEP_INTERVAL_MS;
      }
      this.#sealer.relieve(plan);
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

  /**
   * Seals idle open chunks (at most `SWEEP_SEALS_PER_WRITE` a call, the server calls it every
   * second) and merges quiet pending entries; `force`: all of them.
   */
  maintain(nowMs: number, force = false): void {
    this.retryPending();
    const plan = this.newPlan();
    this.#nowMs = nowMs;
    this.#sealer.sweep(
      force ? Infinity : nowMs,
      plan,
      force,
      force ? Infinity : SWEEP_SEALS_PER_WRITE,
    );
    this.#sealer.relieve(plan);
    this.commit(plan);
  }

  /** Seals every open chunk and merges every pending entry, and commits them (at close). */
  sealAll(): void {
    this.maintain(this.#clock.now(), true);
  }

  /** A plan for one write, counting into `result`; plans share buffers, so one at a time. */
  newPlan(result?: WriteResult): WritePlan {
    return new WritePlan(this.#buffers, result);
  }

  /** Sets the clock time routing stamps on what it touches (replay calls this once). */
  setNow(nowMs: number): void {
    this.#nowMs = nowMs;
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
      if (this.#written.length < states.limit) {
        const grown = new Uint8Array(states.limit * 2);
        grown.set(this.#written);
        this.#written = grown;
      }
      for (let i = 0; i < points.length; i++) this.#written[ids[i]] = 1;
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
   * Puts one sample where it belongs (see the module comment). Returns `STORED`, or
   * `NOT_STORED` for a duplicate or conflict (counted in the plan's result), or, with `deferOk`,
   * `DEFERRED` for a sample older than its open chunk's newest, left for the caller to route
   * again later. `logId` is the head-log row the sample is replayed from, or `PENDING_LOG_ID`
   * when its row is the one this plan's commit appends. (Positional arguments: this runs per
   * sample.)
   */
  route(
    id: number,
    ts: number,
    value: number,
    plan: WritePlan,
    logId: number,
    deferOk = false,
  ): Outcome {
    const state = this.#state;
    const states = state.states;
    const hour = ts - (ts % MS_PER_HOUR);
    const entry = state.pending.get(id, hour);
    if (entry !== undefined) {
      const stored = entry.samples.get(ts);
      if (stored !== undefined) return judge(stored, value, plan.result);
    }
    const dayNum = dayNumber(ts);
    if (dayNum !== this.#openedDay) this.#openDay(dayNum);
    this.#sealer.ensureSealed(id, dayNum, plan);
    const atOrBelowSealed = ts <= states.sealedUpTo[id];
    const slot = slotOf(id, ts);
    const open = states.headDay[slot] !== NO_DAY;
    if (open && states.windowStart[slot] === hour) {
      // While an hour has an open chunk, nothing of that hour is sealed after its first sample.
      const heads = state.heads;
      const last = heads.lastTs(slot);
      if (ts > last) {
        this.#append(slot, ts, value, plan);
        return STORED;
      }
      if (deferOk && ts !== last) return DEFERRED;
      const stored = ts === last ? heads.lastValue(slot) : heads.valueAt(slot, ts);
      if (stored !== undefined) return judge(stored, value, plan.result);
      return this.#toPending(entry, id, hour, dayNum, ts, value, plan, logId, atOrBelowSealed);
    }
    if (atOrBelowSealed || state.frozen(dayNum)) {
      return this.#toPending(entry, id, hour, dayNum, ts, value, plan, logId, atOrBelowSealed);
    }
    if (open) {
      if (states.windowStart[slot] > hour) {
        return this.#toPending(entry, id, hour, dayNum, ts, value, plan, logId, false);
      }
      this.#sealer.seal(slot, plan);
    }
    this.#open(slot, dayNum, hour, ts, value, plan, logId);
    return STORED;
  }

  /**
   * Opens a day's partition before any sample of it goes into memory: a damaged file then fails
   * the write while nothing of that day is held without a place to commit it.
   */
  #openDay(dayNum: number): void {
    const day = dayName(dayNum);
    if (this.#state.partitions.has(day)) this.#state.partitions.get(day);
    this.#openedDay = dayNum;
  }

  #append(slot: number, ts: number, value: number, plan: WritePlan): void {
    const { heads, states } = this.#state;
    heads.append(slot, ts, value);
    states.lastAppendMs[slot] = this.#nowMs;
    plan.result.written++;
    if (this.#full(slot)) this.#sealer.seal(slot, plan);
  }

  /**
   * Whether the open chunk in `slot` is sealed now: at `CHUNK_MAX_SAMPLES`, or at its
   * `earlyCap` when it fills faster than one sample per `HOUR_SPACING_MS` (it would reach 360
   * within its hour anyway). Slower chunks, the default 10 s interval's, keep a whole hour.
   */
  #full(slot: number): boolean {
    const heads = this.#state.heads;
    const count = heads.count(slot);
    if (count >= CHUNK_MAX_SAMPLES) return true;
    if (count < earlyCap(slot)) return false;
    return heads.lastTs(slot) - heads.firstTs(slot) < (count - 1) * HOUR_SPACING_MS * 0.9;
  }

  #open(
    slot: number,
    dayNum: number,
    hour: number,
    ts: number,
    value: number,
    plan: WritePlan,
    logId: number,
  ): void {
    const states = this.#state.states;
    states.headDay[slot] = dayNum;
    states.windowStart[slot] = hour;
    states.openHeads++;
    states.firstLogId[slot] = logId;
    if (logId === PENDING_LOG_ID) plan.day(dayNum).pendingHeads.push(slot);
    else this.#state.logRefs(dayNum).add(logId);
    this.#append(slot, ts, value, plan);
  }

  #toPending(
    known: PendingEntry | undefined,
    id: number,
    hour: number,
    dayNum: number,
    ts: number,
    value: number,
    plan: WritePlan,
    logId: number,
    checkSealed: boolean,
  ): Outcome {
    const pending = this.#state.pending;
    const entry = known ?? pending.getOrCreate(id, hour, dayNum);
    if (checkSealed) {
      entry.base ??= this.#sealedSamples(id, hour, dayNum, plan);
      const stored = entry.base.get(ts);
      if (stored !== undefined) return judge(stored, value, plan.result);
    }
    const first = entry.samples.size === 0;
    pending.add(entry, ts, value, logId, this.#nowMs);
    if (first) {
      if (logId === PENDING_LOG_ID) plan.day(dayNum).pendingEntries.push(entry);
      else this.#state.logRefs(dayNum).add(logId);
    }
    plan.result.written++;
    return STORED;
  }

  /**
   * The sealed samples of a series in one clock hour: in its partition, and sealed or merged
   * by this plan before its commit.
   */
  #sealedSamples(id: number, hour: number, dayNum: number, plan: WritePlan): Map<number, number> {
    const sealed = new Map<number, number>();
    const { partitions, states } = this.#state;
    const end = hour + MS_PER_HOUR - 1;
    const day = dayName(dayNum);
    if (states.maySealed[id] === 1 && partitions.has(day)) {
      const entry = states.entries[id]!;
      for (const row of partitions.get(day).chunksOverlapping(id, hour, end)) {
        const { timestamps, values } = decodeStoredChunk(row, entry, day);
        for (let i = 0; i < timestamps.length; i++) {
          if (timestamps[i] >= hour && timestamps[i] <= end) sealed.set(timestamps[i], values[i]);
        }
      }
    }
    const planned = plan.days.get(dayNum);
    if (planned !== undefined) {
      for (const seal of planned.seals) {
        if (seal.seriesId !== id || seal.endTs < hour || seal.startTs > end) continue;
        const { timestamps, values } = decodeChunk(seal.data, "chunk being sealed");
        for (let i = 0; i < timestamps.length; i++) sealed.set(timestamps[i], values[i]);
      }
      for (const rewrite of planned.rewrites) {
        if (rewrite.seriesId !== id || rewrite.toMs < hour || rewrite.fromMs > end) continue;
        for (let i = 0; i < rewrite.timestamps.length; i++) {
          const ts = rewrite.timestamps[i];
          if (ts >= hour && ts <= end) sealed.set(ts, rewrite.values[i]);
        }
      }
    }
    return sealed;
  }

  /** Seals idle open chunks and merges quiet pending entries into `plan` (`force`: all). */
  sweep(nowMs: number, plan: WritePlan, force: boolean): void {
    this.#sealer.sweep(nowMs, plan, force);
  }

  /**
   * Commits the plan (see `_commit.ts`). When a day's commit fails, the plan becomes pending:
   * the days not yet committed are committed before the next write (`retryPending`), queries
   * read what it sealed from memory meanwhile, and this throws `StorageUnavailableError`.
   * Nothing acknowledged is lost: a failed day's head-log rows and chunks stay as they were.
   */
  commit(plan: WritePlan): void {
    if (this.#pending !== undefined) {
      throw new Error("Cannot commit a plan while another one waits to be committed");
    }
    try {
      commitPlan(this.#state, plan, this.#nowMs);
    } catch (error) {
      this.#pending = { plan, error: error as Error, sinceMs: this.#clock.now() };
      this.#state.uncommitted = plan;
      // The pending plan keeps viewing its buffers; later plans get their own.
      this.#buffers = new PlanBuffers();
      throw unavailable(error as Error);
    } finally {
      this.#state.partitions.evictIdle();
    }
    plan.buffers.recycle();
  }
}

function judge(stored: number, value: number, result: WriteResult): Outcome {
  if (sameFloat64Bits(stored, value)) result.duplicates++;
  else result.conflicts++;
  return NOT_STORED;
}
