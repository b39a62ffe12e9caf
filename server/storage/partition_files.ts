/**
 * The on-disk layout every engine shares: one SQLite file per UTC day, `YYYY-MM-DD.db`, under
 * `data_dir`, with its `-wal` and `-shm` companions.
 */
import { join } from "node:path";
import { dayStartMs, MS_PER_DAY, utcDay } from "../../shared/time.ts";
import type { StorageStats } from "./types.ts";

const PARTITION_FILE = /^(\d{4}-\d{2}-\d{2})\.db$/;
const COMPANIONS = ["", "-wal", "-shm"] as const;

export function partitionPath(dataDir: string, day: string): string {
  return join(dataDir, `${day}.db`);
}

/** Days that have a partition file in `dataDir`, ascending. */
export function listPartitionDays(dataDir: string): string[] {
  const days: string[] = [];
  for (const entry of Deno.readDirSync(dataDir)) {
    const match = entry.isFile ? PARTITION_FILE.exec(entry.name) : null;
    if (match && !Number.isNaN(dayStartMs(match[1]))) days.push(match[1]);
  }
  return days.sort();
}

/** Size of a file in bytes, 0 when it does not exist. */
export function fileBytes(path: string): number {
  try {
    return Deno.statSync(path).size;
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return 0;
    throw error;
  }
}

/** A SQLite file with its `-wal` and `-shm`, in bytes. */
export function sqliteFileBytes(path: string): number {
  let bytes = 0;
  for (const suffix of COMPANIONS) bytes += fileBytes(path + suffix);
  return bytes;
}

/** Removes a partition's file and its `-wal`/`-shm`; its connections must be closed first. */
export function removePartitionFiles(dataDir: string, day: string): void {
  const path = partitionPath(dataDir, day);
  for (const suffix of COMPANIONS) {
    try {
      Deno.removeSync(path + suffix);
    } catch (error) {
      if (!(error instanceof Deno.errors.NotFound)) throw error;
    }
  }
}

/**
 * Days whose partition may go: the whole day ends at or before `cutoffMs`, and it is not the
 * day of `nowMs` (which is still being written, whatever the cutoff says).
 */
export function expiredDays(days: Iterable<string>, cutoffMs: number, nowMs: number): string[] {
  const today = utcDay(nowMs);
  const expired: string[] = [];
  for (const day of days) {
    if (day !== today && dayStartMs(day) + MS_PER_DAY <= cutoffMs) expired.push(day);
  }
  return expired.sort();
}

/**
 * The partitions `deleteBefore(cutoffMs, nowMs)` removes: among `knownDays` and the files in
 * `dataDir` (in case a partition appeared behind the engine's back), see `expiredDays`.
 */
export function partitionsToDelete(
  dataDir: string,
  knownDays: Iterable<string>,
  cutoffMs: number,
  nowMs: number,
): string[] {
  for (const [name, value] of [["cutoffMs", cutoffMs], ["nowMs", nowMs]] as const) {
    if (typeof value !== "number" || !Number.isFinite(value)) {
      throw new TypeError(
        `Cannot delete partitions: ${name} must be a finite number, got ${value}`,
      );
    }
  }
  const candidates = new Set([...knownDays, ...listPartitionDays(dataDir)]);
  return expiredDays(candidates, cutoffMs, nowMs);
}

/** `MetricStore.stats()` from the partition days and the series index file. */
export function partitionStats(
  engine: string,
  dataDir: string,
  days: Iterable<string>,
  index: { size: number; path: string },
): StorageStats {
  const partitions = [...days].sort().map((day) => ({
    day,
    bytes: sqliteFileBytes(partitionPath(dataDir, day)),
  }));
  const partitionBytes = partitions.reduce((sum, partition) => sum + partition.bytes, 0);
  return {
    engine,
    seriesCount: index.size,
    partitions,
    totalBytes: partitionBytes + sqliteFileBytes(index.path),
  };
}
