/**
 * What one write (or the replay at open) will commit, gathered per day before any file is
 * touched, plus the bookkeeping of which head-log rows open chunks still need.
 */
import type { SeriesEntry } from "../series_index.ts";
import type { HeadBuffer } from "./_head.ts";
import { HeadLogRowWriter } from "./_head_log.ts";
import type { NewChunk } from "./_partition.ts";

/** `firstLogId` of a head whose first sample is in the write being committed. */
export const PENDING_LOG_ID = 0;

export interface OpenHead {
  state: SeriesState;
  dayNum: number;
  windowStart: number;
  buffer: HeadBuffer;
  /** The oldest head-log row holding one of its samples. */
  firstLogId: number;
}

export interface SeriesState {
  entry: SeriesEntry;
  labelCount: number;
  head: OpenHead | undefined;
  /** Day (days since the epoch) that `sealedUpTo` describes; -1 when unknown. */
  sealedDay: number;
  /** Newest sealed timestamp of the series in `sealedDay`, or -Infinity. */
  sealedUpTo: number;
}

export class DayPlan {
  readonly dayNum: number;
  readonly seals: NewChunk[] = [];
  /** Samples for sealed chunks, per series, in arrival order. */
  readonly late = new Map<SeriesState, Array<[number, number]>>();
  readonly pendingHeads: OpenHead[] = [];
  /** Newest timestamp sealed in this plan per series id, seen before the commit. */
  readonly sealedMax = new Map<number, number>();
  log: HeadLogRowWriter | undefined;
  /** Delete the head-log rows no open chunk needs any more. */
  cleanLog = false;

  constructor(dayNum: number) {
    this.dayNum = dayNum;
  }

  addLate(state: SeriesState, ts: number, value: number): void {
    let list = this.late.get(state);
    if (!list) this.late.set(state, list = []);
    list.push([ts, value]);
    this.noteSealed(state.entry.id, ts);
  }

  noteSealed(seriesId: number, ts: number): void {
    const known = this.sealedMax.get(seriesId);
    if (known === undefined || ts > known) this.sealedMax.set(seriesId, ts);
  }

  logSample(seriesId: number, ts: number, value: number): void {
    (this.log ??= new HeadLogRowWriter()).add(seriesId, ts, value);
  }
}

export class WritePlan {
  readonly days = new Map<number, DayPlan>();

  day(dayNum: number): DayPlan {
    let plan = this.days.get(dayNum);
    if (!plan) this.days.set(dayNum, plan = new DayPlan(dayNum));
    return plan;
  }

  /** Day plans in ascending day order. */
  ordered(): DayPlan[] {
    return [...this.days.values()].sort((a, b) => a.dayNum - b.dayNum);
  }
}

/**
 * Head-log rows of one day that open chunks still reference. Row ids only grow, and a chunk's
 * samples all come from rows at or after its first one, so every row below the smallest
 * referenced id is fully sealed and can go.
 */
export class LogReferences {
  readonly #counts = new Map<number, number>();
  readonly #order: number[] = [];
  #cursor = 0;

  add(id: number): void {
    const count = this.#counts.get(id);
    if (count === undefined) {
      this.#counts.set(id, 1);
      const order = this.#order;
      if (order.length === 0 || id > order[order.length - 1]) {
        order.push(id);
      } else {
        // Replay may re-reference a row after releasing it; keep the order sorted.
        let at = 0;
        while (at < order.length && order[at] < id) at++;
        if (order[at] !== id) order.splice(at, 0, id);
        if (at < this.#cursor) this.#cursor = at;
      }
    } else {
      this.#counts.set(id, count + 1);
    }
  }

  release(id: number): void {
    const count = this.#counts.get(id);
    if (count === undefined) return;
    if (count > 1) this.#counts.set(id, count - 1);
    else this.#counts.delete(id);
  }

  /** The smallest referenced row id, or Infinity. */
  minLive(): number {
    const order = this.#order;
    while (this.#cursor < order.length && !this.#counts.has(order[this.#cursor])) this.#cursor++;
    if (this.#cursor > 1024 && this.#cursor * 2 > order.length) {
      order.splice(0, this.#cursor);
      this.#cursor = 0;
    }
    return this.#cursor < order.length ? order[this.#cursor] : Infinity;
  }
}
