/**
 * Commits a `WritePlan`, one transaction per day: new chunks (with their rollup intervals),
 * rewrites (the sealed chunks of an hour, or of a series' compacted day, merged with pending
 * samples: each rewrites its chunks once), the write's head-log row, and the removal of
 * head-log rows no open chunk or pending entry needs any more.
 *
 * A rewrite in a compacted day also replaces that series' rows of the day in the rollup tier
 * files, computed from the merged samples, before the day's transaction commits. A crash in
 * between leaves tier rows that already count samples the day file does not have yet; the head
 * log still has them, replay puts them back into pending entries, and queries answer hours
 * with pending samples from raw data, so nothing is counted twice, and the next merge writes
 * the same tier rows again.
 */
import { dayName, dayNumber, MS_PER_DAY } from "../../../shared/time.ts";
import { sameFloat64Bits } from "../points.ts";
import { CHUNK_MAX_SAMPLES, newChunk } from "./_new_chunk.ts";
import type { ChunkPartition } from "./_partition.ts";
import type { DayPlan, PlannedRewrite, WritePlan } from "./_plan.ts";
import { coarsen, encodeIntervals, intervalsOf } from "./_rollup.ts";
import { PENDING_LOG_ID } from "./_series_state.ts";
import { decodeStoredChunk, describeSeries, type StoreState } from "./_store_state.ts";

/** Samples per block of a compacted day (a day at 10 s is 8,640). */
export const DAY_BLOCK_MAX_SAMPLES = 16_384;

/** Commits each day of the plan not committed yet; the failing day is rolled back. */
export function commitPlan(state: StoreState, plan: WritePlan, nowMs: number): void {
  let current: ChunkPartition | undefined;
  try {
    for (const day of plan.ordered()) {
      if (day.committed) continue;
      const partition = state.partitions.get(dayName(day.dayNum), true);
      current = partition;
      partition.begin();
      for (const id of day.unrecorded) {
        const entry = state.states.entries[id]!;
        partition.recordSeries(id, entry.agentId, entry.metricName, entry.labelsJson);
      }
      for (const chunk of day.seals) partition.insertChunk(chunk);
      for (const rewrite of day.rewrites) applyRewrite(state, partition, rewrite);
      let rowId = Infinity;
      if (day.log !== undefined && day.log.count > 0) {
        rowId = partition.appendLog(day.log.finish());
      }
      const refs = state.logRefs(day.dayNum);
      if (day.cleanLog) partition.deleteLogBelow(Math.min(refs.minLive(), rowId));
      partition.commit();
      current = undefined;
      day.committed = true;
      adoptPending(state, day, rowId);
      if (
        day.cleanLog && rowId === Infinity && refs.minLive() === Infinity &&
        day.dayNum < dayNumber(nowMs)
      ) {
        // A past day whose last open chunk is sealed: its head log is empty for good.
        try {
          partition.releaseFreePages();
        } catch {
          // Only space is not given back yet; the next seal of the day tries again.
        }
      }
    }
  } catch (error) {
    current?.rollback();
    // SQLite's words ("database or disk is full") do not say which file; this does.
    const message = (error as Error).message;
    if (current === undefined || message.includes(current.path)) throw error;
    throw new Error(`${current.path}: ${message}`, { cause: error });
  }
}

/** Open chunks and pending entries begun by the committed write now reference its log row. */
function adoptPending(state: StoreState, day: DayPlan, rowId: number): void {
  const { states, pending } = state;
  const fail = (what: string) => {
    throw new Error(`${what} has no head-log row`);
  };
  for (const slot of day.pendingHeads) {
    if (states.headDay[slot] !== day.dayNum || states.firstLogId[slot] !== PENDING_LOG_ID) continue;
    if (rowId === Infinity) fail(`open chunk of ${describeSeries(states.entries[slot >> 1]!)}`);
    states.firstLogId[slot] = rowId;
    state.logRefs(day.dayNum).add(rowId);
  }
  for (const entry of day.pendingEntries) {
    if (pending.get(entry.seriesId, entry.hourStart) !== entry) continue;
    if (entry.firstLogId !== PENDING_LOG_ID || entry.samples.size === 0) continue;
    if (rowId === Infinity) {
      fail(`pending samples of ${describeSeries(states.entries[entry.seriesId]!)}`);
    }
    entry.firstLogId = rowId;
    state.logRefs(day.dayNum).add(rowId);
  }
}

/**
 * Merges a rewrite's samples with the chunks of its series it overlaps, and replaces those
 * chunks (and the rollups they feed) with the result.
 */
function applyRewrite(state: StoreState, partition: ChunkPartition, rewrite: PlannedRewrite): void {
  const id = rewrite.seriesId;
  const entry = state.states.entries[id]!;
  const rows = partition.chunksOverlapping(id, rewrite.fromMs, rewrite.toMs);
  let timestamps = rewrite.timestamps;
  let values = rewrite.values;
  if (rows.length > 0) {
    // Stored chunks are ascending and do not overlap: their samples, in order, merged with
    // the rewrite's (which routing checked against them: none is stored yet).
    const storedTs: number[] = [];
    const storedValues: number[] = [];
    for (const row of rows) {
      const decoded = decodeStoredChunk(row, entry, partition.day);
      for (let i = 0; i < decoded.timestamps.length; i++) {
        storedTs.push(decoded.timestamps[i]);
        storedValues.push(decoded.values[i]);
      }
    }
    timestamps = [];
    values = [];
    let i = 0;
    let j = 0;
    while (i < storedTs.length || j < rewrite.timestamps.length) {
      const next = rewrite.timestamps[j];
      if (j >= rewrite.timestamps.length || (i < storedTs.length && storedTs[i] < next)) {
        timestamps.push(storedTs[i]);
        values.push(storedValues[i++]);
        continue;
      }
      if (i < storedTs.length && storedTs[i] === next) {
        if (!sameFloat64Bits(storedValues[i], rewrite.values[j])) {
          // Routing checked every pending sample against what is sealed: this is a bug.
          throw new Error(
            `merge of ${describeSeries(entry)} found ${next} stored as ${storedValues[i]}, ` +
              `pending as ${rewrite.values[j]}`,
          );
        }
        i++;
      }
      timestamps.push(next);
      values.push(rewrite.values[j++]);
    }
  }
  for (const row of rows) partition.deleteChunk(row.rowid);
  if (partition.layout === "day") {
    const dayNum = dayNumber(timestamps[0]);
    writeTierRows(state, id, dayNum, timestamps, values);
    insertPieces(partition, id, timestamps, values, DAY_BLOCK_MAX_SAMPLES, true);
    return;
  }
  insertPieces(partition, id, timestamps, values, CHUNK_MAX_SAMPLES, false);
}

/**
 * Inserts samples as chunks of at most `maxSamples` of even size (hourly chunks never cross
 * their hour: rewrites of an hourly partition are one hour).
 */
function insertPieces(
  partition: ChunkPartition,
  id: number,
  timestamps: number[],
  values: number[],
  maxSamples: number,
  block: boolean,
): void {
  const pieces = Math.ceil(timestamps.length / maxSamples);
  const size = Math.ceil(timestamps.length / pieces);
  for (let start = 0; start < timestamps.length; start += size) {
    const end = Math.min(timestamps.length, start + size);
    partition.insertChunk(
      newChunk(id, timestamps.slice(start, end), values.slice(start, end), end - start, { block }),
    );
  }
}

/** Replaces a series' rows of one day in every rollup tier, from all its samples that day. */
export function writeTierRows(
  state: StoreState,
  id: number,
  dayNum: number,
  timestamps: ArrayLike<number>,
  values: ArrayLike<number>,
): void {
  const tiers = state.tiers.tiers;
  if (tiers.length === 0) return;
  const dayStart = dayNum * MS_PER_DAY;
  const fine = intervalsOf(timestamps, values, timestamps.length, tiers[0].resolutionMs);
  for (const tier of tiers) {
    const intervals = tier === tiers[0] ? fine : coarsen(fine, tier.resolutionMs);
    state.tiers.put(tier, [[
      dayNum,
      id,
      encodeIntervals(dayStart, tier.resolutionMs, intervals, tier.packing),
    ]]);
  }
}
