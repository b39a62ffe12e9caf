/**
 * Replay of the head logs at open: every row is read back in order and its samples go to the
 * open chunks they came from, so the store resumes where a crash (or SIGKILL) left it.
 *
 * A sample sealed (or merged) before the restart is found among the sealed samples of its hour
 * and skipped; the others go back to open chunks and pending entries exactly as when written.
 * What replay cannot place, samples of a series id `index.db` does not know, is counted and
 * reported in one line at the end (as Prometheus does for "unknown series references"), not a
 * line per sample: a damaged index could otherwise write millions of lines.
 */
import type { Logger } from "../../../shared/log.ts";
import { dayNumber, dayStartMs } from "../../../shared/time.ts";
import { DamagedDataError, StorageUnavailableError } from "../types.ts";
import { type Appender, STORED } from "./_append.ts";
import { decodeHeadLogRow, type HeadLogSample } from "./_head_log.ts";
import type { StoreState } from "./_store_state.ts";

/** Series ids named in the warning, at most; the counts cover all of them. */
const MAX_IDS_LOGGED = 10;

export interface ReplayStats {
  /** Head-log rows read. */
  rows: number;
  /** Samples put back into open chunks or pending entries. */
  samples: number;
  /** Samples skipped because they were sealed before the restart. */
  alreadySealed: number;
  /** Samples skipped because `index.db` does not know their series id. */
  unknownSeriesSamples: number;
  /** Distinct unknown series ids. */
  unknownSeries: number;
  /** Rows skipped because their checksum failed. */
  damagedRows: number;
}

export interface ReplayOptions {
  /** Where the head logs' samples go back. */
  appender: Appender;
  /** Gets one line at the end, and one warning when samples could not be placed. */
  log: Logger;
}

/** Replays every day's head log into `state` through the appender, then commits once. */
export function replayHeadLogs(state: StoreState, options: ReplayOptions): ReplayStats {
  const { appender, log } = options;
  const started = performance.now();
  const { states, partitions } = state;
  const plan = appender.newPlan();
  const stats: ReplayStats = {
    rows: 0,
    samples: 0,
    alreadySealed: 0,
    unknownSeriesSamples: 0,
    unknownSeries: 0,
    damagedRows: 0,
  };
  /** Samples per unknown series id. */
  const unknown = new Map<number, number>();
  const damagedFiles = new Set<string>();
  const place = (logId: number) => (id: number, ts: number, value: number) => {
    if (states.entries[id] === undefined) {
      unknown.set(id, (unknown.get(id) ?? 0) + 1);
      return;
    }
    if (appender.route(id, ts, value, plan, logId) === STORED) stats.samples++;
    else stats.alreadySealed++;
  };
  appender.setNow(appender.clock.now());
  for (const day of partitions.days()) {
    const rows = partitions.get(day).readLog();
    if (rows.length === 0) continue;
    plan.day(dayNumber(dayStartMs(day))).cleanLog = true;
    for (const [logId, data] of rows) {
      stats.rows++;
      const where = `head-log row ${logId} of ${day}.db`;
      let samples: HeadLogSample[];
      try {
        samples = decodeHeadLogRow(data, where);
      } catch (error) {
        // A row SQLite returns but whose checksum fails: its samples are lost, the rest is not.
        stats.damagedRows++;
        state.noteDamage(new DamagedDataError(`${day}.db`, (error as Error).message));
        damagedFiles.add(`${day}.db`);
        continue;
      }
      const visit = place(logId);
      for (const [id, ts, value] of samples) visit(id, ts, value);
    }
  }
  if (damagedFiles.size > 0) {
    log.error("head-log replay skipped damaged rows; their samples are lost", {
      rows: stats.damagedRows,
      files: [...damagedFiles].join(","),
    });
  }
  if (stats.rows === 0) return stats;
  try {
    appender.commit(plan);
  } catch (error) {
    if (!(error instanceof StorageUnavailableError)) throw error;
    // Memory holds every replayed sample; the commit (seals, log clean-up) waits for space.
    log.warn("chunk store replay could not commit; retrying before the next write", { error });
  }
  if (unknown.size > 0) {
    stats.unknownSeries = unknown.size;
    for (const count of unknown.values()) stats.unknownSeriesSamples += count;
    log.warn("head-log replay skipped samples of series unknown to index.db", {
      samples: stats.unknownSeriesSamples,
      series: stats.unknownSeries,
      series_ids: [...unknown.keys()].sort((a, b) => a - b).slice(0, MAX_IDS_LOGGED).join(","),
    });
  }
  log.info("chunk store replayed its head log", {
    rows: stats.rows,
    samples: stats.samples,
    already_sealed: stats.alreadySealed,
    open_chunks: states.openHeads,
    ms: Math.round(performance.now() - started),
  });
  return stats;
}
