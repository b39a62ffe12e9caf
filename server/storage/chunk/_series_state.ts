/**
 * What the chunk engine tracks per series besides the samples it holds (`HeadTable`,
 * `PendingTable`), in typed arrays indexed by series id: ids are dense (SQLite rowids), and one
 * object per series was most of the JS heap at 100k series.
 *
 * Each series has two head slots, one for even and one for odd clock hours (`slotOf`), so the
 * stragglers of an hour still find its open chunk after the next hour has begun: batches that
 * race each other over several connections cross hour boundaries without touching sealed data.
 */
import type { SeriesEntry } from "../series_index.ts";
import { MS_PER_HOUR } from "../../../shared/time.ts";

/** `firstLogId` of a head whose first sample is in the write being committed. */
export const PENDING_LOG_ID = 0;
/** `headDay` and `sealedDay` when there is none. */
export const NO_DAY = -1;

/** The head slot of a series for the clock hour of `ts`. */
export function slotOf(seriesId: number, ts: number): number {
  return seriesId * 2 + (Math.floor(ts / MS_PER_HOUR) & 1);
}

/**
 * A number in `[0, 2^bits)` fixed per slot, to spread over time the work that series started
 * together would otherwise all do in the same write (freezing, sealing). Fibonacci hashing of
 * the slot: the slots of one clock hour share a parity, so `slot mod n` would use half the range.
 */
export function slotSpread(slot: number, bits: number): number {
  return Math.imul(slot, 0x9e3779b1) >>> (32 - bits);
}

/**
 * The length a per-series (or per-slot) array grows to so that `index` fits: a quarter more at a
 * time, in steps of 1,024. These arrays hold ~190 bytes per series together (the open chunks'
 * bookkeeping, two slots per series); doubling reserved up to twice that, and the arrays filled
 * with a marker (`NO_DAY`, −1) are resident in full (150k series of a 3,000-agent fleet: 524k
 * slots for 300k; measured ~8 MB less RSS in the fleet bench).
 */
export function perSeriesCapacity(current: number, index: number): number {
  let capacity = Math.max(1024, current);
  while (capacity <= index) capacity = Math.ceil((capacity * 1.25) / 1024) * 1024;
  return capacity;
}

export class SeriesStates {
  /** The catalogue entry per id, or undefined for ids not (or no longer) in use. */
  readonly entries: (SeriesEntry | undefined)[] = [];
  /** Per slot: day (since the epoch) of the open chunk, or `NO_DAY` when there is none. */
  headDay = new Int32Array(0);
  /** Per slot: start of the clock hour the open chunk covers. */
  windowStart = new Float64Array(0);
  /** Per slot: the oldest head-log row holding a sample of the open chunk, or `PENDING_LOG_ID`. */
  firstLogId = new Float64Array(0);
  /** Per slot: clock time of the last sample appended (idle heads are sealed). */
  lastAppendMs = new Float64Array(0);
  /** Per series: day that `sealedUpTo` describes, or `NO_DAY` when unknown. */
  sealedDay = new Int32Array(0);
  /** Per series: newest sealed timestamp of the series in `sealedDay`, or -Infinity. */
  sealedUpTo = new Float64Array(0);
  /**
   * Per series: 0 while the series has no sealed chunk in any day: created by this process and
   * nothing sealed or merged since. Spares a query per new series and day (5,000 of them made
   * the first writes after new agents arrived several times slower).
   */
  maySealed = new Uint8Array(0);
  /**
   * The day whose partition is known to hold this series' identity record (or whose pending
   * commit writes it), or `NO_DAY`: spares an insert per sample.
   */
  recordedDay = new Int32Array(0);
  /** Open chunks, for the close and sweep shortcuts. */
  openHeads = 0;

  /** Tracks a series; `created` when it was just added to the catalogue (no chunks yet). */
  add(entry: SeriesEntry, created: boolean): void {
    const id = entry.id;
    if (id >= this.sealedDay.length) this.#grow(id);
    this.entries[id] = entry;
    this.headDay[2 * id] = NO_DAY;
    this.headDay[2 * id + 1] = NO_DAY;
    this.sealedDay[id] = NO_DAY;
    this.sealedUpTo[id] = -Infinity;
    this.maySealed[id] = created ? 0 : 1;
    this.recordedDay[id] = NO_DAY;
  }

  remove(id: number): void {
    this.entries[id] = undefined;
  }

  /** Ids below this may be in use. */
  get limit(): number {
    return this.entries.length;
  }

  #grow(id: number): void {
    const capacity = perSeriesCapacity(this.sealedDay.length, id);
    const grow = <T extends Int32Array | Float64Array | Uint8Array>(
      array: T,
      length: number,
      fill: number,
    ): T => {
      const bigger = new (array.constructor as new (length: number) => T)(length);
      bigger.set(array);
      bigger.fill(fill, array.length);
      return bigger;
    };
    const slots = 2 * capacity;
    this.headDay = grow(this.headDay, slots, NO_DAY);
    this.windowStart = grow(this.windowStart, slots, 0);
    this.firstLogId = grow(this.firstLogId, slots, PENDING_LOG_ID);
    this.lastAppendMs = grow(this.lastAppendMs, slots, 0);
    this.sealedDay = grow(this.sealedDay, capacity, NO_DAY);
    this.sealedUpTo = grow(this.sealedUpTo, capacity, -Infinity);
    this.maySealed = grow(this.maySealed, capacity, 1);
    this.recordedDay = grow(this.recordedDay, capacity, NO_DAY);
  }
}
