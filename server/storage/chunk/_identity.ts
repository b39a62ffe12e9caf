/**
 * Series identity cannot drift: every partition records which series (agent, metric, labels)
 * each id it holds names, and at open `index.db` is checked against those records. An emptied,
 * deleted, damaged or older `index.db` disagrees with them (ids missing, or naming other
 * series): it is rebuilt from the records before anything is read or written, so no id is
 * handed to a new series while old chunks still carry it, and no query reads one series' data
 * under another's name.
 *
 * Partitions written before identity records existed (`user_version` 0) are filled in from
 * `index.db` once it agrees with every recorded partition.
 */
import type { Logger } from "../../../shared/log.ts";
import type { PartitionCache } from "../partition_cache.ts";
import { seriesIdentity } from "../points.ts";
import type { SeriesIndex } from "../series_index.ts";
import { readHeadLogRow } from "./_head_log.ts";
import type { ChunkPartition, SeriesRecord } from "./_partition.ts";

/** Examples named in a warning, at most. */
const MAX_EXAMPLES = 5;

export interface IdentityReport {
  /** Identity records read from the partitions. */
  records: number;
  /** Of those, ids `index.db` lacked or gave to another series. */
  mismatched: number;
  /** Whether `index.db` was rebuilt. */
  rebuilt: boolean;
  /** Ids two partitions give to different series (data mixed before records existed). */
  conflicts: number;
  /** Older partitions given their identity records now. */
  filledIn: string[];
}

const identityOf = (record: SeriesRecord) => seriesIdentity(record[1], record[2], record[3]);

/** Checks `index.db` against the partitions' identity records and rebuilds it when they differ. */
export function reconcileSeriesIdentity(
  index: SeriesIndex,
  partitions: PartitionCache<ChunkPartition>,
  log: Logger,
): IdentityReport {
  const report: IdentityReport = {
    records: 0,
    mismatched: 0,
    rebuilt: false,
    conflicts: 0,
    filledIn: [],
  };
  /** id → record, the newest partition first. */
  const truth = new Map<number, SeriesRecord>();
  const legacy: string[] = [];
  const conflictExamples: string[] = [];
  for (const day of partitions.days().reverse()) {
    const partition = partitions.get(day);
    if (!partition.identityRecorded) {
      legacy.push(day);
    } else {
      for (const record of partition.seriesRecords()) {
        report.records++;
        const known = truth.get(record[0]);
        if (known === undefined) {
          truth.set(record[0], record);
        } else if (identityOf(known) !== identityOf(record)) {
          report.conflicts++;
          if (conflictExamples.length < MAX_EXAMPLES) {
            conflictExamples.push(`${record[0]} in ${day}.db`);
          }
        }
      }
    }
    partitions.evictIdle();
  }
  if (report.conflicts > 0) {
    log.error("partitions give one series id to different series; the newest is kept", {
      conflicts: report.conflicts,
      examples: conflictExamples.join(", "),
    });
  }

  const examples: string[] = [];
  for (const record of truth.values()) {
    const entry = index.byId(record[0]);
    if (
      entry === undefined || entry.agentId !== record[1] || entry.metricName !== record[2] ||
      entry.labelsJson !== record[3]
    ) {
      report.mismatched++;
      if (examples.length < MAX_EXAMPLES) {
        examples.push(`${record[0]}: ${entry ? "names another series" : "missing"}`);
      }
    }
  }
  if (report.mismatched > 0) {
    const before = index.size;
    // The partitions are the truth; what index.db knows besides stays unless they contradict it.
    const merged = new Map(truth);
    const claimed = new Set([...truth.values()].map(identityOf));
    for (const entry of index.match()) {
      const record: SeriesRecord = [entry.id, entry.agentId, entry.metricName, entry.labelsJson];
      if (!merged.has(entry.id) && !claimed.has(identityOf(record))) merged.set(entry.id, record);
    }
    index.replaceAll(merged.values());
    report.rebuilt = true;
    log.warn("index.db disagreed with the partitions' identity records; rebuilt it from them", {
      file: index.path,
      mismatched_ids: report.mismatched,
      examples: examples.join(", "),
      series_before: before,
      series_after: index.size,
    });
  }

  for (const day of legacy) {
    if (fillIn(partitions.get(day), index, log)) report.filledIn.push(day);
    partitions.evictIdle();
  }
  return report;
}

/** Gives an older partition its identity records from `index.db`; false if ids are unknown. */
function fillIn(partition: ChunkPartition, index: SeriesIndex, log: Logger): boolean {
  const ids = new Set(partition.chunkSeriesIds());
  for (const [logId, data] of partition.readLog()) {
    try {
      readHeadLogRow(data, `head-log row ${logId} of ${partition.day}.db`, (id) => ids.add(id));
    } catch {
      // Replay reports damaged rows; they name no series anyone can read.
    }
  }
  const unknown: number[] = [];
  partition.begin();
  try {
    for (const id of ids) {
      const entry = index.byId(id);
      if (entry === undefined) unknown.push(id);
      else partition.recordSeries(id, entry.agentId, entry.metricName, entry.labelsJson);
    }
    if (unknown.length === 0) partition.markIdentityRecorded();
    partition.commit();
  } catch (error) {
    partition.rollback();
    throw error;
  }
  if (unknown.length > 0) {
    log.warn("a partition holds series ids index.db does not know; their samples are unreadable", {
      file: partition.path,
      unknown_ids: unknown.length,
      examples: unknown.slice(0, MAX_EXAMPLES).join(","),
    });
    return false;
  }
  return true;
}
