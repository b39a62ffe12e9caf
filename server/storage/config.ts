/**
 * `[storage.rollups]` of the server TOML: how long raw samples and each rollup tier are kept.
 *
 * ```toml
 * [storage.rollups]
 * raw_days = 15           # raw samples (the same setting as the top-level retention_days)
 * five_minute_days = 90   # 5-minute min/max/sum/count per series; 0 keeps none
 * one_hour_days = 730     # 1-hour min/max/sum/count per series; 0 keeps none
 * ```
 *
 * `raw_days` and the original `retention_days` are one setting under two names, so an existing
 * config keeps meaning what it did: `retention_days = 7` still keeps raw samples 7 days (and
 * the tiers keep their own defaults). Giving both with different values is an error. With
 * neither, raw samples are kept 15 days.
 */
import type { TableReader } from "../../shared/config/mod.ts";

export interface StorageRetention {
  /** Days of raw samples kept (and accepted: older samples are refused). */
  rawDays: number;
  /** Days the 5-minute tier is kept; 0 keeps none. */
  fiveMinuteDays: number;
  /** Days the 1-hour tier is kept; 0 keeps none. */
  oneHourDays: number;
}

export const DEFAULT_RAW_DAYS = 15;
export const DEFAULT_FIVE_MINUTE_DAYS = 90;
export const DEFAULT_ONE_HOUR_DAYS = 730;

/** Reads `retention_days` and `[storage.rollups]` from the root table. */
export function readStorageRetention(root: TableReader): StorageRetention {
  const storage = root.table("storage");
  const rollups = storage.table("rollups");
  const legacy = root.has("retention_days")
    ? root.integer("retention_days", { min: 1 })
    : undefined;
  const raw = rollups.has("raw_days") ? rollups.integer("raw_days", { min: 1 }) : undefined;
  if (legacy !== undefined && raw !== undefined && legacy !== raw) {
    rollups.problem(
      "raw_days",
      `${raw} conflicts with retention_days = ${legacy} (the same setting); give one of them`,
    );
  }
  const retention = {
    rawDays: raw ?? legacy ?? DEFAULT_RAW_DAYS,
    fiveMinuteDays: rollups.integer("five_minute_days", {
      default: DEFAULT_FIVE_MINUTE_DAYS,
      min: 0,
    }),
    oneHourDays: rollups.integer("one_hour_days", { default: DEFAULT_ONE_HOUR_DAYS, min: 0 }),
  };
  rollups.finish();
  storage.finish();
  return retention;
}
