/**
 * Conversion of a data directory the row engine wrote: the engines share `index.db` and the day
 * files, so opening the chunk store on it moves each day's `samples` table into chunks, slice
 * by slice, then drops the table. Interrupted, it resumes at the next open: samples already in
 * chunks count as duplicates.
 */
import type { Logger } from "../../../shared/log.ts";
import type { WriteResult } from "../types.ts";
import type { Appender } from "./_append.ts";
import { PENDING_LOG_ID } from "./_series_state.ts";
import type { StoreState } from "./_store_state.ts";

/** Row-engine samples converted per transaction. */
const CONVERT_SLICE = 100_000;

export interface ConvertOptions {
  /** Where the row-engine samples go. */
  appender: Appender;
  /** Gets one line per converted day. */
  log: Logger;
}

/** Converts every day partition that still holds row-engine samples. */
export function convertRowPartitions(state: StoreState, options: ConvertOptions): void {
  const { appender, log } = options;
  const { states, partitions } = state;
  for (const day of partitions.days()) {
    if (!partitions.get(day).hasRowSamples()) continue;
    const started = performance.now();
    const result: WriteResult = { written: 0, duplicates: 0, conflicts: 0 };
    let after: [number, number] = [-1, -1];
    for (;;) {
      const slice = partitions.get(day).rowSamplesAfter(after, CONVERT_SLICE);
      if (slice.length === 0) break;
      const plan = appender.newPlan(result);
      for (const [id, ts, value] of slice) {
        if (states.entries[id] === undefined) {
          throw new Error(
            `Cannot convert ${day}.db from the row engine: series ${id} is not in index.db`,
          );
        }
        appender.route(id, ts, value, plan, PENDING_LOG_ID);
      }
      // Converted samples are in no head log: an open chunk or pending entry keeping them past
      // the commit would hold them in memory only once the row table is dropped.
      appender.sweep(Infinity, plan, true);
      appender.commit(plan);
      const last = slice[slice.length - 1];
      after = [last[0], last[1]];
    }
    partitions.get(day).dropRowSamples();
    log.info("chunk store converted a row-engine partition", {
      day,
      ...result,
      ms: Math.round(performance.now() - started),
    });
  }
}
