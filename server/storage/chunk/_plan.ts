/**
 * What one write (or the replay at open, or a sweep) will commit, gathered per day before any
 * file is touched, plus the bookkeeping of which head-log rows open chunks and pending entries
 * still need.
 */
import { ByteWriter } from "./_bytes.ts";
import { HeadLogRowWriter } from "./_head_log.ts";
import type { NewChunk } from "./_partition.ts";
import type { PendingEntry } from "./_pending.ts";
import type { WriteResult } from "../types.ts";

/**
 * Samples to merge with what is sealed of one series over `[fromMs, toMs]` (an hour, or the
 * whole day in a compacted partition): the sealed chunks there are rewritten once with them.
 */
export interface PlannedRewrite {
  seriesId: number;
  fromMs: number;
  toMs: number;
  /** Ascending, none of them stored yet. */
  timestamps: number[];
  values: number[];
}

export class DayPlan {
  readonly dayNum: number;
  readonly seals: NewChunk[] = [];
  readonly rewrites: PlannedRewrite[] = [];
  /** Head slots whose open chunk began in this write. */
  readonly pendingHeads: number[] = [];
  /** Pending entries whose first sample is in this write. */
  readonly pendingEntries: PendingEntry[] = [];
  /** Newest timestamp sealed in this plan per series id, seen before the commit. */
  readonly sealedMax = new Map<number, number>();
  log: HeadLogRowWriter | undefined;
  /** Delete the head-log rows no open chunk or pending entry needs any more. */
  cleanLog = false;
  /** Series whose identity record this day's partition may lack; recorded by the commit. */
  readonly unrecorded: number[] = [];
  /** Set once this day's transaction is committed (a plan left pending skips it on retry). */
  committed = false;
  readonly #buffers: PlanBuffers;

  constructor(dayNum: number, buffers: PlanBuffers) {
    this.dayNum = dayNum;
    this.#buffers = buffers;
  }

  noteSealed(seriesId: number, ts: number): void {
    const known = this.sealedMax.get(seriesId);
    if (known === undefined || ts > known) this.sealedMax.set(seriesId, ts);
  }

  logSample(seriesId: number, ts: number, value: number): void {
    (this.log ??= this.#buffers.logWriter()).add(seriesId, ts, value);
  }
}

/**
 * Buffers a store reuses from one write to the next: head-log rows and sealed chunk bytes were
 * a fresh allocation per write and per chunk, most of the garbage a write made.
 */
export class PlanBuffers {
  /** Encoded chunks of the plan being built, back to back; `NewChunk.data` views into it. */
  readonly chunks = new ByteWriter(64 * 1024);
  readonly #logWriters: HeadLogRowWriter[] = [];
  #logWritersUsed = 0;

  logWriter(): HeadLogRowWriter {
    if (this.#logWritersUsed === this.#logWriters.length) {
      this.#logWriters.push(new HeadLogRowWriter());
    }
    const writer = this.#logWriters[this.#logWritersUsed++];
    writer.reset();
    return writer;
  }

  /** Called when a plan is done with: what it viewed may now be overwritten. */
  recycle(): void {
    this.#logWritersUsed = 0;
    // A rare huge plan (conversion at open) should not pin its buffer for good.
    if (this.chunks.bytes.length > 4 * 1024 * 1024) this.chunks.bytes = new Uint8Array(64 * 1024);
    this.chunks.length = 0;
  }
}

export class WritePlan {
  readonly days = new Map<number, DayPlan>();
  readonly buffers: PlanBuffers;
  /** What routing made of the samples. */
  readonly result: WriteResult;

  constructor(
    buffers: PlanBuffers,
    result: WriteResult = { written: 0, duplicates: 0, conflicts: 0 },
  ) {
    this.buffers = buffers;
    this.result = result;
  }

  /** The day asked for last: a write's samples are nearly all of one day. */
  #last: DayPlan | undefined = undefined;

  day(dayNum: number): DayPlan {
    const last = this.#last;
    if (last !== undefined && last.dayNum === dayNum) return last;
    let plan = this.days.get(dayNum);
    if (!plan) this.days.set(dayNum, plan = new DayPlan(dayNum, this.buffers));
    this.#last = plan;
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
