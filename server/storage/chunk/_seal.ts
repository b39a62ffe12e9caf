/**
 * Sealing and merging, the half of the write side that moves samples out of memory: an open
 * chunk is sealed into a new chunk (or, with late samples of its hour waiting, into a rewrite
 * of the hour with them); a pending entry is merged into the sealed chunks of its hour (of its
 * day, once compacted) when it has been quiet; sweeps find idle open chunks and quiet entries;
 * and memory is relieved when too many late samples wait. `_append.ts` routes samples here;
 * `_commit.ts` writes what this puts in the plan.
 */
import { dayName, MS_PER_DAY, MS_PER_HOUR, MS_PER_MINUTE } from "../../../shared/time.ts";
import { HEAD_MAX_SAMPLES } from "./_head.ts";
import type { PendingEntry } from "./_pending.ts";
import type { DayPlan, WritePlan } from "./_plan.ts";
import { newChunk } from "./_new_chunk.ts";
import { NO_DAY, PENDING_LOG_ID, slotOf } from "./_series_state.ts";
import type { StoreState } from "./_store_state.ts";

/** Where a sealing chunk is unpacked before encoding (shared: writes are synchronous). */
const sealTimestamps = new Float64Array(HEAD_MAX_SAMPLES);
const sealValues = new Float64Array(HEAD_MAX_SAMPLES);
/** How long after its hour an open chunk waits for stragglers before a sweep may seal it. */
const SWEEP_GRACE_MS = 5 * MS_PER_MINUTE;
/** An open chunk of a past hour is sealed once no sample came for this long. */
export const HEAD_IDLE_MS = MS_PER_MINUTE;
/** A pending entry without an open chunk is merged once no sample came for this long. */
export const PENDING_QUIET_MS = MS_PER_MINUTE;
/**
 * Pending samples held at most (about 100 bytes each in memory); past it the least recently
 * touched entries are merged until half of it is left.
 */
export const PENDING_MAX_SAMPLES = 200_000;

export class Sealer {
  readonly #state: StoreState;

  constructor(state: StoreState) {
    this.#state = state;
  }

  /** Newest sealed timestamp of a series in a day, counting what the plan is about to seal. */
  ensureSealed(id: number, dayNum: number, plan: WritePlan): void {
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

  /** Makes the day's commit write the series' identity record unless known to be there. */
  noteSeries(day: DayPlan, id: number): void {
    const states = this.#state.states;
    if (states.recordedDay[id] === day.dayNum) return;
    // Marked now: the plan either commits or stays pending until it does.
    states.recordedDay[id] = day.dayNum;
    day.unrecorded.push(id);
  }

  /** Records that samples up to `lastTs` of a series were sealed in a day by this plan. */
  noteSealed(id: number, dayNum: number, lastTs: number, plan: WritePlan): void {
    const states = this.#state.states;
    this.ensureSealed(id, dayNum, plan);
    if (lastTs > states.sealedUpTo[id]) states.sealedUpTo[id] = lastTs;
    states.maySealed[id] = 1;
    const day = plan.day(dayNum);
    this.noteSeries(day, id);
    day.noteSealed(id, lastTs);
  }

  /**
   * Moves the open chunk of a slot into the plan: a new chunk, or, with a pending entry of the
   * same hour, a rewrite of the hour with both.
   */
  seal(slot: number, plan: WritePlan): void {
    const state = this.#state;
    const { states, heads, pending } = state;
    const id = slot >> 1;
    const dayNum = states.headDay[slot];
    const hour = states.windowStart[slot];
    const count = heads.copyTo(slot, sealTimestamps, sealValues);
    let lastTs = heads.lastTs(slot);
    heads.release(slot);
    const firstLogId = states.firstLogId[slot];
    if (firstLogId !== PENDING_LOG_ID) state.logRefs(dayNum).release(firstLogId);
    states.headDay[slot] = NO_DAY;
    states.openHeads--;
    const day = plan.day(dayNum);
    day.cleanLog = true;
    const entry = pending.get(id, hour);
    if (entry !== undefined && entry.samples.size > 0) {
      const late = entry.sorted();
      this.#releaseEntry(entry);
      const { timestamps, values } = mergeSorted(
        sealTimestamps,
        sealValues,
        count,
        late.timestamps,
        late.values,
      );
      lastTs = timestamps[timestamps.length - 1];
      day.rewrites.push({
        seriesId: id,
        fromMs: hour,
        toMs: hour + MS_PER_HOUR - 1,
        timestamps,
        values,
      });
    } else {
      if (entry !== undefined) pending.remove(entry);
      day.seals.push(newChunk(id, sealTimestamps, sealValues, count, { out: plan.buffers.chunks }));
    }
    this.noteSealed(id, dayNum, lastTs, plan);
  }

  /** Takes an entry out of the pending table and releases its head-log row. */
  #releaseEntry(entry: PendingEntry): void {
    this.#state.pending.remove(entry);
    if (entry.firstLogId !== PENDING_LOG_ID && entry.samples.size > 0) {
      this.#state.logRefs(entry.dayNum).release(entry.firstLogId);
    }
  }

  /**
   * Merges a pending entry into the sealed chunks of its hour (in a compacted day: every pending
   * entry of the series and day into its day block). An entry whose hour has an open chunk waits
   * for that chunk to be sealed instead, unless `evenWithHead`.
   */
  mergePending(entry: PendingEntry, plan: WritePlan, evenWithHead: boolean): void {
    const state = this.#state;
    const { states, pending } = state;
    const { seriesId: id, dayNum, hourStart } = entry;
    if (dayNum === state.compactingDay) return;
    if (entry.samples.size === 0) {
      pending.remove(entry);
      return;
    }
    const slot = slotOf(id, hourStart);
    if (states.headDay[slot] !== NO_DAY && states.windowStart[slot] === hourStart) {
      if (evenWithHead) this.seal(slot, plan);
      return;
    }
    const day = plan.day(dayNum);
    day.cleanLog = true;
    const compacted = state.layoutOf(dayNum) === "day";
    const entries = compacted
      ? [...pending.ofSeries(id)].filter((other) => other.dayNum === dayNum)
      : [entry];
    const merged = new Map<number, number>();
    for (const one of entries) {
      for (const [ts, value] of one.samples) merged.set(ts, value);
      this.#releaseEntry(one);
    }
    if (merged.size === 0) return;
    const timestamps = [...merged.keys()].sort((a, b) => a - b);
    const values = timestamps.map((ts) => merged.get(ts)!);
    const fromMs = compacted ? dayNum * MS_PER_DAY : hourStart;
    const toMs = compacted ? fromMs + MS_PER_DAY - 1 : hourStart + MS_PER_HOUR - 1;
    day.rewrites.push({ seriesId: id, fromMs, toMs, timestamps, values });
    this.noteSealed(id, dayNum, timestamps[timestamps.length - 1], plan);
  }

  /**
   * Seals open chunks whose hour ended before `endedBeforeMs - SWEEP_GRACE_MS` and that got no
   * sample for `HEAD_IDLE_MS`, and merges pending entries quiet for `PENDING_QUIET_MS`; `force`
   * seals and merges everything. It seals at most `budget` open chunks: returns true when it
   * stopped there with more due, before merging (a fleet's open chunks of an hour all become due
   * in the same sweep). Pending entries are not counted: some stay due without work to do (their
   * hour's chunk is open), and each write would sweep again for them.
   */
  sweep(nowMs: number, plan: WritePlan, force: boolean, budget = Infinity): boolean {
    const state = this.#state;
    const states = state.states;
    let left = budget;
    if (states.openHeads > 0) {
      const endedBefore = nowMs - SWEEP_GRACE_MS;
      const idleBefore = nowMs - HEAD_IDLE_MS;
      const due = (slot: number) =>
        states.headDay[slot] !== NO_DAY &&
        (force || (states.windowStart[slot] + MS_PER_HOUR <= endedBefore &&
          states.lastAppendMs[slot] <= idleBefore));
      for (let id = 0; id < states.limit; id++) {
        const even = 2 * id;
        const odd = even + 1;
        // The older hour first, so chunks are sealed in time order.
        const first = states.windowStart[odd] < states.windowStart[even] ? odd : even;
        const second = first === even ? odd : even;
        if (left <= 0 && (due(first) || due(second))) return true;
        if (due(first)) {
          this.seal(first, plan);
          left--;
        }
        if (due(second)) {
          this.seal(second, plan);
          left--;
        }
      }
    }
    if (state.pending.samples > 0 || state.pending.size > 0) {
      const quietBefore = nowMs - PENDING_QUIET_MS;
      for (const entry of [...state.pending.all()]) {
        if (force || entry.samples.size === 0 || entry.lastAddMs <= quietBefore) {
          this.mergePending(entry, plan, force);
        }
      }
    }
    return false;
  }

  /** Merges the least recently touched pending entries while more than the cap are held. */
  relieve(plan: WritePlan): void {
    const pending = this.#state.pending;
    if (pending.samples <= PENDING_MAX_SAMPLES) return;
    const entries = [...pending.all()].sort((a, b) => a.lastAddMs - b.lastAddMs);
    for (const entry of entries) {
      if (pending.samples <= PENDING_MAX_SAMPLES / 2) break;
      this.mergePending(entry, plan, true);
    }
  }
}

/** Two ascending sample lists without a timestamp in common, merged. */
function mergeSorted(
  aTs: ArrayLike<number>,
  aValues: ArrayLike<number>,
  aCount: number,
  bTs: readonly number[],
  bValues: readonly number[],
): { timestamps: number[]; values: number[] } {
  const timestamps = new Array<number>(aCount + bTs.length);
  const values = new Array<number>(aCount + bTs.length);
  let i = 0;
  let j = 0;
  for (let k = 0; k < timestamps.length; k++) {
    if (j >= bTs.length || (i < aCount && aTs[i] < bTs[j])) {
      timestamps[k] = aTs[i];
      values[k] = aValues[i++];
    } else {
      timestamps[k] = bTs[j];
      values[k] = bValues[j++];
    }
  }
  return { timestamps, values };
}
