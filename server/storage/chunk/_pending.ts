/**
 * Late and out-of-order samples waiting to be merged, per series and clock hour: a sample that
 * cannot be appended to its hour's open chunk in time order (older than the chunk's newest, of
 * an hour whose slot holds a newer one, or of an hour already sealed) lands here instead of
 * rewriting sealed chunks one batch at a time. An entry is merged once: into its hour's chunk
 * when that is sealed, or into the sealed chunks when the entry has been quiet for a while (or
 * memory runs short). Its samples are in the head log like any other, so a crash loses none.
 *
 * An entry answers "is this timestamp stored already?" for its hour: its own samples, and the
 * sealed ones (`base`, decoded the first time a sample at or below what is sealed arrives).
 */
import { PENDING_LOG_ID } from "./_series_state.ts";

export class PendingEntry {
  readonly seriesId: number;
  readonly hourStart: number;
  readonly dayNum: number;
  /** Samples by timestamp, in arrival order. */
  readonly samples = new Map<number, number>();
  /** Sealed samples of the hour, once loaded. */
  base: Map<number, number> | undefined;
  /** The oldest head-log row holding a sample of the entry, or `PENDING_LOG_ID`. */
  firstLogId = PENDING_LOG_ID;
  /** Clock time of the last sample added. */
  lastAddMs = 0;

  constructor(seriesId: number, hourStart: number, dayNum: number) {
    this.seriesId = seriesId;
    this.hourStart = hourStart;
    this.dayNum = dayNum;
  }

  /** The stored value at `ts` among the entry's samples and its loaded base. */
  valueAt(ts: number): number | undefined {
    return this.samples.get(ts) ?? this.base?.get(ts);
  }

  /** Timestamps and values, ascending. */
  sorted(): { timestamps: number[]; values: number[] } {
    const timestamps = [...this.samples.keys()].sort((a, b) => a - b);
    return { timestamps, values: timestamps.map((ts) => this.samples.get(ts)!) };
  }
}

export class PendingTable {
  readonly #bySeries = new Map<number, Map<number, PendingEntry>>();
  /** Samples held across all entries. */
  samples = 0;

  get(seriesId: number, hourStart: number): PendingEntry | undefined {
    return this.#bySeries.get(seriesId)?.get(hourStart);
  }

  getOrCreate(seriesId: number, hourStart: number, dayNum: number): PendingEntry {
    let hours = this.#bySeries.get(seriesId);
    if (!hours) this.#bySeries.set(seriesId, hours = new Map());
    let entry = hours.get(hourStart);
    if (!entry) hours.set(hourStart, entry = new PendingEntry(seriesId, hourStart, dayNum));
    return entry;
  }

  /**
   * Adds a sample not stored yet. The first sample's head-log row becomes the entry's
   * `firstLogId`: rows only grow, so later samples are in that row or newer ones.
   */
  add(entry: PendingEntry, ts: number, value: number, logId: number, nowMs: number): void {
    if (entry.samples.size === 0) entry.firstLogId = logId;
    entry.samples.set(ts, value);
    entry.lastAddMs = nowMs;
    this.samples++;
  }

  remove(entry: PendingEntry): void {
    const hours = this.#bySeries.get(entry.seriesId);
    if (hours?.get(entry.hourStart) !== entry) return;
    hours.delete(entry.hourStart);
    if (hours.size === 0) this.#bySeries.delete(entry.seriesId);
    this.samples -= entry.samples.size;
  }

  /** Entries of one series (any order). */
  ofSeries(seriesId: number): Iterable<PendingEntry> {
    return this.#bySeries.get(seriesId)?.values() ?? [];
  }

  hasSeries(seriesId: number): boolean {
    return this.#bySeries.has(seriesId);
  }

  *all(): Generator<PendingEntry> {
    for (const hours of this.#bySeries.values()) yield* hours.values();
  }

  get size(): number {
    let entries = 0;
    for (const hours of this.#bySeries.values()) entries += hours.size;
    return entries;
  }
}
