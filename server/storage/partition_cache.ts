/**
 * The day partitions of a data directory and the connections kept open to them, shared by both
 * engines: days are listed once at open and kept in step with the directory (not listed per
 * query); a partition is opened on demand and kept, least recently used first, until more than
 * `maxOpen` are open and it is idle.
 */
import { dayName, dayNumber } from "../../shared/time.ts";
import { MAX_TIMESTAMP_MS } from "./points.ts";
import {
  listPartitionDays,
  partitionPath,
  partitionsToDelete,
  removePartitionFiles,
} from "./partition_files.ts";

/** What the cache needs of an engine's partition. */
export interface CachedPartition {
  readonly inTransaction: boolean;
  close(): void;
}

export interface PartitionCacheOptions<P> {
  /** Idle connections kept open, at least 1. */
  maxOpen: number;
  /** Opens (creating if needed) one day's file. */
  openPartition: (day: string, path: string) => P;
}

export class PartitionCache<P extends CachedPartition> {
  readonly dataDir: string;
  readonly #openPartition: (day: string, path: string) => P;
  readonly #maxOpen: number;
  readonly #days: Set<string>;
  /** Open partitions, least recently used first. */
  readonly #open = new Map<string, P>();

  constructor(dataDir: string, options: PartitionCacheOptions<P>) {
    this.dataDir = dataDir;
    this.#maxOpen = options.maxOpen;
    this.#openPartition = options.openPartition;
    this.#days = new Set(listPartitionDays(dataDir));
  }

  has(day: string): boolean {
    return this.#days.has(day);
  }

  /** Days with a partition, ascending. */
  days(): string[] {
    return [...this.#days].sort();
  }

  /** Known days that can hold samples in `[fromMs, toMs]`, ascending. */
  daysOverlapping(fromMs: number, toMs: number): string[] {
    if (fromMs > toMs) return [];
    const clamp = (ms: number) => Math.min(MAX_TIMESTAMP_MS, Math.max(0, ms));
    const first = dayName(dayNumber(clamp(fromMs)));
    const last = dayName(dayNumber(clamp(toMs)));
    return this.days().filter((day) => day >= first && day <= last);
  }

  /**
   * The partition of `day`, most recently used from now on; opened on demand. A day without a
   * partition is created when `create`, else refused.
   */
  get(day: string, create = false): P {
    let partition = this.#open.get(day);
    if (partition) {
      this.#open.delete(day);
    } else {
      if (!create && !this.#days.has(day)) {
        throw new Error(`Cannot read partition ${day}: it does not exist`);
      }
      partition = this.#openPartition(day, partitionPath(this.dataDir, day));
      this.#days.add(day);
    }
    this.#open.set(day, partition);
    return partition;
  }

  /** Open partitions, least recently used first. */
  openPartitions(): IterableIterator<P> {
    return this.#open.values();
  }

  /**
   * Closes the least recently used partitions beyond `maxOpen`; never one inside a transaction
   * nor `keep`, the one about to be used.
   */
  evictIdle(keep?: P): void {
    if (this.#open.size <= this.#maxOpen) return;
    for (const [day, partition] of this.#open) {
      if (this.#open.size <= this.#maxOpen) break;
      if (partition === keep || partition.inTransaction) continue;
      partition.close();
      this.#open.delete(day);
    }
  }

  /** The days `MetricStore.deleteBefore(cutoffMs, nowMs)` removes (see `partitionsToDelete`). */
  expiredDays(cutoffMs: number, nowMs: number): string[] {
    return partitionsToDelete(this.dataDir, this.#days, cutoffMs, nowMs);
  }

  /** Closes one day's connection, if open; the cache opens it again on demand. */
  close(day: string): void {
    this.#open.get(day)?.close();
    this.#open.delete(day);
  }

  /** Closes each day's connection, removes its files and forgets the day. */
  remove(days: readonly string[]): void {
    for (const day of days) {
      this.#open.get(day)?.close();
      this.#open.delete(day);
      removePartitionFiles(this.dataDir, day);
      this.#days.delete(day);
    }
  }

  /** Closes every open partition; the cache can open them again. */
  closeAll(): void {
    for (const partition of this.#open.values()) partition.close();
    this.#open.clear();
  }
}
