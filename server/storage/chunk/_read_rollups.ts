/**
 * Which parts of a bucketed query rollups answer. Rollup intervals (5 minutes in the rollups
 * of each sealed chunk, 5 minutes and 1 hour in the tier files of finished days) are used when
 * the step and the query start are multiples of their resolution, so an interval never
 * straddles two buckets; they are exact (`BucketStats`), so a bucket comes out identical from
 * rollups or from raw samples. Everything else is read raw:
 *
 * - intervals cut by the end of the range, while raw data for them exists;
 * - hours of a series that still have an open chunk or pending samples (not in any rollup yet);
 * - days written by a version without rollups (until they are compacted).
 *
 * Days whose raw partition is gone (older than the raw retention) are answered from the
 * coarsest tier that divides the step and still holds the day; there an interval cut by the
 * end of the range counts whole, as nothing finer is left. A step that no tier divides is
 * answered from raw data alone, so only within the raw retention.
 */
import { dayName, dayNumber, MS_PER_DAY, MS_PER_HOUR } from "../../../shared/time.ts";
import type { SeriesEntry } from "../series_index.ts";
import {
  decodeIntervals,
  FIVE_MINUTES_MS,
  mergeIntervals,
  type RollupInterval,
} from "./_rollup.ts";
import { describeSeries, type StoreState } from "./_store_state.ts";
import type { TierSpec } from "./_tiers.ts";

type SizedInterval = RollupInterval & { resolutionMs: number };

/** A piece of a bucketed query: rollup intervals, or a time range to read raw. */
export type QueryPart =
  | { kind: "intervals"; intervals: RollupInterval[] }
  | { kind: "raw"; days: string[]; fromMs: number; toMs: number };

export class RollupPlanner {
  readonly #state: StoreState;
  readonly #fromMs: number;
  readonly #toMs: number;
  /** Tiers whose resolution divides the step and the start, coarsest first. */
  readonly #tiers: TierSpec[];
  /** Whether the rollups of sealed chunks (5-minute intervals) may be used. */
  readonly #hourly: boolean;
  readonly #rawDays: string[];
  /** Days that may hold data: with a raw partition, or in a month a tier has a file for. */
  readonly #days: number[];

  constructor(state: StoreState, fromMs: number, toMs: number, stepMs: number) {
    this.#state = state;
    this.#fromMs = fromMs;
    this.#toMs = toMs;
    const fits = (resolutionMs: number) =>
      stepMs % resolutionMs === 0 && fromMs % resolutionMs === 0;
    this.#tiers = state.tiers.tiers.filter((tier) => fits(tier.resolutionMs)).reverse();
    this.#hourly = fits(FIVE_MINUTES_MS);
    this.#rawDays = state.partitions.daysOverlapping(fromMs, toMs);
    const firstDay = dayNumber(Math.max(0, fromMs));
    const lastDay = dayNumber(Math.max(0, toMs));
    const days = new Set(this.#rawDays.map((day) => dayNumber(Date.parse(day))));
    for (const tier of this.#tiers) {
      for (const dayNum of state.tiers.daysWithFiles(tier, firstDay, lastDay)) days.add(dayNum);
    }
    this.#days = [...days].sort((a, b) => a - b);
  }

  /** The parts that answer one series, together every sample in range exactly once. */
  parts(entry: SeriesEntry): QueryPart[] {
    if (!this.#hourly && this.#tiers.length === 0) {
      return [{ kind: "raw", days: this.#rawDays, fromMs: this.#fromMs, toMs: this.#toMs }];
    }
    const parts: QueryPart[] = [];
    const raw = new RawRanges();
    const live = this.#state.liveHours(entry.id);
    const rawDays = new Set(this.#rawDays);
    for (const dayNum of this.#days) {
      const day = dayName(dayNum);
      const fromMs = Math.max(this.#fromMs, dayNum * MS_PER_DAY);
      const toMs = Math.min(this.#toMs, (dayNum + 1) * MS_PER_DAY - 1);
      if (!rawDays.has(day)) {
        // Nothing finer is left: an interval cut by the end of the range counts whole.
        const intervals = this.#tierIntervals(entry, dayNum, fromMs, toMs);
        if (intervals !== undefined) parts.push({ kind: "intervals", intervals });
        continue;
      }
      const layout = this.#state.layoutOf(dayNum);
      let intervals: SizedInterval[] | undefined;
      if (layout === "day") {
        intervals = this.#tierIntervals(entry, dayNum, fromMs, toMs);
      } else if (this.#hourly && this.#state.partitions.get(day).rollupsComplete) {
        intervals = this.#hourIntervals(entry, day, fromMs, toMs, live);
      }
      if (intervals === undefined) {
        raw.add(day, fromMs, toMs);
        continue;
      }
      // Rollups hold every sealed sample of the day; the rest is read raw: the hours with
      // samples not in any rollup yet, and the interval cut by the end of the range.
      const kept: RollupInterval[] = [];
      for (const interval of intervals) {
        const { startMs, resolutionMs } = interval;
        const hour = startMs - (startMs % MS_PER_HOUR);
        if (live.has(hour) || (resolutionMs > MS_PER_HOUR && liveIn(live, startMs, resolutionMs))) {
          continue;
        }
        if (this.#whole(startMs, resolutionMs)) kept.push(interval);
        else raw.add(day, Math.max(startMs, fromMs), Math.min(startMs + resolutionMs - 1, toMs));
      }
      if (kept.length > 0) parts.push({ kind: "intervals", intervals: kept });
      for (const hour of [...live].sort((x, y) => x - y)) {
        raw.add(day, Math.max(hour, fromMs), Math.min(hour + MS_PER_HOUR - 1, toMs));
      }
    }
    for (const range of raw.ranges) parts.push({ kind: "raw", ...range });
    return parts;
  }

  #whole(startMs: number, resolutionMs: number): boolean {
    return startMs >= this.#fromMs && startMs + resolutionMs - 1 <= this.#toMs;
  }

  /**
   * 5-minute intervals of the sealed hours of a day, from their chunks' rollups; hours with a
   * chunk without rollups are added to `live` (read raw).
   */
  #hourIntervals(
    entry: SeriesEntry,
    day: string,
    fromMs: number,
    toMs: number,
    live: Set<number>,
  ): SizedInterval[] {
    const partition = this.#state.partitions.get(day);
    const fromHour = fromMs - (fromMs % MS_PER_HOUR);
    const byHour = new Map<number, RollupInterval[]>();
    for (const [startTs, data] of partition.rollupsBetween(entry.id, fromHour, toMs)) {
      const hour = startTs - (startTs % MS_PER_HOUR);
      if (live.has(hour)) continue;
      if (data === null) {
        live.add(hour);
        byHour.delete(hour);
        continue;
      }
      const where = `chunk at ${new Date(startTs).toISOString()} of ${
        describeSeries(entry)
      } in ${day}.db`;
      let list = byHour.get(hour);
      if (!list) byHour.set(hour, list = []);
      list.push(...decodeIntervals(data, hour, FIVE_MINUTES_MS, where));
    }
    const out: SizedInterval[] = [];
    for (const hour of [...byHour.keys()].sort((a, b) => a - b)) {
      const list = byHour.get(hour)!;
      const merged = mergeIntervals(list, []);
      for (const interval of merged) out.push({ ...interval, resolutionMs: FIVE_MINUTES_MS });
    }
    return out;
  }

  /** Intervals overlapping `[fromMs, toMs]` of the coarsest fitting tier holding the day. */
  #tierIntervals(
    entry: SeriesEntry,
    dayNum: number,
    fromMs: number,
    toMs: number,
  ): SizedInterval[] | undefined {
    const dayStart = dayNum * MS_PER_DAY;
    for (const tier of this.#tiers) {
      const data = this.#state.tiers.get(tier, dayNum, entry.id);
      if (data === undefined) continue;
      const where = `${dayName(dayNum)} of ${describeSeries(entry)} in the ${tier.name} tier`;
      const intervals = decodeIntervals(data, dayStart, tier.resolutionMs, where);
      return intervals
        .filter(({ startMs }) => startMs + tier.resolutionMs > fromMs && startMs <= toMs)
        .map((interval) => ({ ...interval, resolutionMs: tier.resolutionMs }));
    }
    return undefined;
  }
}

function liveIn(live: Set<number>, startMs: number, resolutionMs: number): boolean {
  for (const hour of live) if (hour >= startMs && hour < startMs + resolutionMs) return true;
  return false;
}

/** Raw ranges to read, merged when adjacent. */
class RawRanges {
  readonly ranges: Array<{ days: string[]; fromMs: number; toMs: number }> = [];

  add(day: string, fromMs: number, toMs: number): void {
    if (fromMs > toMs) return;
    const sameDay = this.ranges.find((range) =>
      range.days.includes(day) && fromMs >= range.fromMs && toMs <= range.toMs
    );
    if (sameDay !== undefined) return;
    const last = this.ranges[this.ranges.length - 1];
    if (last !== undefined && last.toMs + 1 === fromMs) {
      last.toMs = toMs;
      if (!last.days.includes(day)) last.days.push(day);
      return;
    }
    this.ranges.push({ days: [day], fromMs, toMs });
  }
}
