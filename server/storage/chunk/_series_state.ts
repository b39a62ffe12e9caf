/**
 * What the chunk engine tracks per series besides the open chunk's samples (`HeadTable`), in
 * typed arrays indexed by series id: ids are dense (SQLite rowids), and one object per series
 * was most of the JS heap at 100k series.
 */
import type { SeriesEntry } from "../series_index.ts";

/** `firstLogId` of a head whose first sample is in the write being committed. */
export const PENDING_LOG_ID = 0;
/** `headDay` and `sealedDay` when there is none. */
export const NO_DAY = -1;

export class SeriesStates {
  /** The catalogue entry per id, or undefined for ids not (or no longer) in use. */
  readonly entries: (SeriesEntry | undefined)[] = [];
  /** Day (since the epoch) of the open chunk, or `NO_DAY` when the series has none. */
  headDay = new Int32Array(0);
  /** Start of the clock hour the open chunk covers. */
  windowStart = new Float64Array(0);
  /** The oldest head-log row holding a sample of the open chunk, or `PENDING_LOG_ID`. */
  firstLogId = new Float64Array(0);
  /** Day that `sealedUpTo` describes, or `NO_DAY` when unknown. */
  sealedDay = new Int32Array(0);
  /** Newest sealed timestamp of the series in `sealedDay`, or -Infinity. */
  sealedUpTo = new Float64Array(0);
  /**
   * 0 while the series has no sealed chunk in any day: created by this process and nothing
   * sealed or merged since. Spares a query per new series and day (5,000 of them made the
   * first writes after new agents arrived several times slower).
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
    if (id >= this.headDay.length) this.#grow(id);
    this.entries[id] = entry;
    this.headDay[id] = NO_DAY;
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
    let capacity = Math.max(1024, this.headDay.length);
    while (capacity <= id) capacity *= 2;
    const grow = <T extends Int32Array | Float64Array | Uint8Array>(array: T, fill: number): T => {
      const bigger = new (array.constructor as new (length: number) => T)(capacity);
      bigger.set(array);
      bigger.fill(fill, array.length);
      return bigger;
    };
    this.headDay = grow(this.headDay, NO_DAY);
    this.windowStart = grow(this.windowStart, 0);
    this.firstLogId = grow(this.firstLogId, PENDING_LOG_ID);
    this.sealedDay = grow(this.sealedDay, NO_DAY);
    this.sealedUpTo = grow(this.sealedUpTo, -Infinity);
    this.maySealed = grow(this.maySealed, 1);
    this.recordedDay = grow(this.recordedDay, NO_DAY);
  }
}
