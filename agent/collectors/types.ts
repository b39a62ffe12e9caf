/**
 * What a collector is: something that reads the host once per round and returns samples. The
 * agent stamps them with its id and the round's timestamp, so collectors know neither.
 */
import type { Labels } from "../../shared/types.ts";

/** One value a collector read, before the agent stamps it into a `MetricDataPoint`. */
export interface Sample {
  name: string;
  value: number;
  labels?: Labels;
}

/** Per-round facts a collector may need. */
export interface CollectContext {
  /**
   * Monotonic milliseconds (e.g. `performance.now()`) at which the round started. Rates divide
   * counter deltas by the difference between two rounds' `monotonicMs`, so a wall-clock jump
   * cannot produce a negative or huge rate.
   */
  monotonicMs: number;
}

export interface Collector {
  readonly name: string;
  collect(context: CollectContext): Sample[] | Promise<Sample[]>;
  /** Releases what it keeps open between rounds (the files it reads); absent when nothing. */
  [Symbol.dispose]?(): void;
}

/** Include/exclude glob lists, as read from the `[filters]` config table. */
export interface NameFilter {
  include: readonly string[];
  exclude: readonly string[];
}

/** What collector factories receive: OS roots and the name filters, nothing else. */
export interface CollectorOptions {
  /** Root of the proc file system. Default `/proc`. */
  procRoot: string;
  /** Root of sysfs. Default `/sys`. */
  sysRoot: string;
  mounts: NameFilter;
  /** File system types that are never reported as disks (tmpfs, overlay, proc, …). */
  fsTypesExclude: readonly string[];
  devices: NameFilter;
  interfaces: NameFilter;
}
