/**
 * Rollup tier files: beside the day partitions, one SQLite file per tier and UTC month
 * (`rollup-5m-2026-11.db`, `rollup-1h-2026-11.db`) holding, per finished day and series, the
 * rollup intervals of that day in one row. Rows are written when a day is compacted (moved
 * from the rollups its chunks got as they were sealed) and rewritten when late samples are
 * merged into a compacted day. Each tier has its own retention, honoured by deleting whole
 * month files once the month is entirely older than it.
 *
 * A row holds one day of a group of 64 series (ids 0–63, 64–127, …): a directory of series ids
 * and lengths, then each series' encoded intervals. Rows of one series a day were a few hundred
 * bytes to 2 KB, and SQLite left a quarter of each page empty around them (measured on the
 * synthetic day: 5-minute tier 0.18–0.20 bytes per raw sample on 4 KiB pages against 0.148 of
 * data; grouped, 0.15). Pages are 1 KiB: a file holding one day costs 2 KiB, not 8.
 */
import type { DatabaseSync, StatementSync } from "node:sqlite";
import { join } from "node:path";
import { dayName, MS_PER_DAY } from "../../../shared/time.ts";
import { openDatabase, prepareReturningArrays } from "../../sqlite.ts";
import { ByteReader, ByteWriter } from "./_bytes.ts";
import { sqliteFileBytes } from "../partition_files.ts";
import { FIVE_MINUTES_MS, ONE_HOUR_MS, type RowPacking } from "./_rollup.ts";

/** One rollup tier. */
export interface TierSpec {
  /** Short name used in file names: `5m`, `1h`. */
  name: string;
  resolutionMs: number;
  /** Days kept; 0 keeps none (the tier is off). */
  retentionDays: number;
  packing: RowPacking;
}

/** The tiers and their default retention: 5 minutes for 90 days, 1 hour for 2 years. */
export const DEFAULT_TIERS: readonly TierSpec[] = Object.freeze([
  { name: "5m", resolutionMs: FIVE_MINUTES_MS, retentionDays: 90, packing: "zstd" },
  { name: "1h", resolutionMs: ONE_HOUR_MS, retentionDays: 730, packing: "brotli" },
]);

const FILE = /^rollup-(\w+)-(\d{4}-\d{2})\.db$/;
/** Row id: day number times 2^25 plus the group (series id / 64; ids stay below 2^31). */
const GROUP_SHIFT = 6;
const GROUPS_PER_DAY = 2 ** 25;
const SCHEMA = "CREATE TABLE IF NOT EXISTS groups (id INTEGER PRIMARY KEY, data BLOB NOT NULL)";
/**
 * The row listing every series with a row in the file (varint deltas), so pruning `index.db`
 * keeps them: one row, not a table of ids, which cost 2 KB in a file of one day.
 */
const SERIES_ROW_ID = -1;

function parseIds(data: Uint8Array | undefined): number[] {
  if (data === undefined) return [];
  const reader = new ByteReader(data);
  const ids: number[] = [];
  let id = 0;
  while (reader.remaining > 0) ids.push(id += reader.varint());
  return ids;
}

function buildIds(ids: Iterable<number>): Uint8Array {
  const sorted = [...ids].sort((a, b) => a - b);
  const out = new ByteWriter(8 + sorted.length * 2);
  let previous = 0;
  for (const id of sorted) {
    out.varint(id - previous);
    previous = id;
  }
  return out.finish();
}
export const TIER_PAGE_SIZE = 1024;

function groupRowId(dayNum: number, seriesId: number): number {
  return dayNum * GROUPS_PER_DAY + Math.floor(seriesId / 2 ** GROUP_SHIFT);
}

/** Parses a group row into series id → encoded intervals (views into `data`). */
function parseGroup(data: Uint8Array): Map<number, Uint8Array> {
  const reader = new ByteReader(data);
  const count = reader.varint();
  const ids: number[] = [];
  const lengths: number[] = [];
  let id = 0;
  for (let i = 0; i < count; i++) {
    id += reader.varint();
    ids.push(id);
    lengths.push(reader.varint());
  }
  const series = new Map<number, Uint8Array>();
  let offset = reader.offset;
  for (let i = 0; i < count; i++) {
    if (offset + lengths[i] > data.length) throw new RangeError("group row truncated");
    series.set(ids[i], data.subarray(offset, offset + lengths[i]));
    offset += lengths[i];
  }
  if (offset !== data.length) throw new RangeError("group row has trailing bytes");
  return series;
}

function buildGroup(series: Map<number, Uint8Array>): Uint8Array {
  const ids = [...series.keys()].sort((a, b) => a - b);
  const out = new ByteWriter(64 + ids.reduce((sum, id) => sum + series.get(id)!.length, 0));
  out.varint(ids.length);
  let previous = 0;
  for (const id of ids) {
    out.varint(id - previous);
    out.varint(series.get(id)!.length);
    previous = id;
  }
  for (const id of ids) out.append(series.get(id)!);
  return out.finish();
}

/** `YYYY-MM` of a day number. */
export function monthOf(dayNum: number): string {
  return dayName(dayNum).slice(0, 7);
}

/** Epoch ms of the first instant after the month `YYYY-MM`. */
function monthEndMs(month: string): number {
  const [year, monthIndex] = month.split("-").map(Number);
  return Date.UTC(year, monthIndex, 1);
}

class TierFile {
  readonly db: DatabaseSync;
  readonly #put: StatementSync;
  readonly #get: StatementSync;
  /** The group row read last: a query asks for the series of one group day after day. */
  #cached: { id: number; series: Map<number, Uint8Array> } | undefined;

  constructor(path: string, cacheSizeKib: number) {
    this.db = openDatabase(path, { cacheSizeKib, pageSize: TIER_PAGE_SIZE });
    try {
      this.db.exec(SCHEMA);
      this.#put = this.db.prepare("INSERT OR REPLACE INTO groups (id, data) VALUES (?, ?)");
      this.#get = prepareReturningArrays(this.db, "SELECT data FROM groups WHERE id = ?");
    } catch (error) {
      this.db.close();
      throw error;
    }
  }

  #group(id: number): Map<number, Uint8Array> {
    if (this.#cached?.id === id) return this.#cached.series;
    const row = this.#get.get(id) as unknown as [Uint8Array] | undefined;
    const series = row === undefined ? new Map() : parseGroup(row[0]);
    this.#cached = { id, series };
    return series;
  }

  put(rows: ReadonlyArray<readonly [number, number, Uint8Array]>): void {
    const groups = new Map<number, Map<number, Uint8Array>>();
    for (const [dayNum, seriesId, data] of rows) {
      const id = groupRowId(dayNum, seriesId);
      let group = groups.get(id);
      if (!group) groups.set(id, group = new Map(this.#group(id)));
      group.set(seriesId, data);
    }
    this.#cached = undefined;
    this.db.exec("BEGIN");
    try {
      for (const id of [...groups.keys()].sort((a, b) => a - b)) {
        this.#put.run(id, buildGroup(groups.get(id)!));
      }
      const known = this.seriesIds();
      const ids = new Set(known);
      for (const [, seriesId] of rows) ids.add(seriesId);
      if (ids.size > known.length) this.#put.run(SERIES_ROW_ID, buildIds(ids));
      this.db.exec("COMMIT");
    } catch (error) {
      if (this.db.isTransaction) this.db.exec("ROLLBACK");
      throw error;
    }
  }

  get(dayNum: number, seriesId: number): Uint8Array | undefined {
    return this.#group(groupRowId(dayNum, seriesId)).get(seriesId);
  }

  seriesIds(): number[] {
    const row = this.#get.get(SERIES_ROW_ID) as unknown as [Uint8Array] | undefined;
    return parseIds(row?.[0]);
  }
}

export interface RollupTiersOptions {
  tiers?: readonly TierSpec[];
  /** Connections kept open. Default 4. */
  maxOpen?: number;
  /** Page cache per connection, KiB. Default 2,048. */
  cacheSizeKib?: number;
}

export class RollupTiers {
  readonly dataDir: string;
  /** Tiers kept (retention above 0), finest first. */
  readonly tiers: readonly TierSpec[];
  readonly #maxOpen: number;
  readonly #cacheSizeKib: number;
  /** Existing file names. */
  readonly #files = new Set<string>();
  /** Open files, least recently used first. */
  readonly #open = new Map<string, TierFile>();

  constructor(dataDir: string, options: RollupTiersOptions = {}) {
    this.dataDir = dataDir;
    this.tiers = (options.tiers ?? DEFAULT_TIERS).filter((tier) => tier.retentionDays > 0)
      .sort((a, b) => a.resolutionMs - b.resolutionMs);
    this.#maxOpen = options.maxOpen ?? 4;
    this.#cacheSizeKib = options.cacheSizeKib ?? 2_048;
    for (const entry of Deno.readDirSync(dataDir)) {
      if (entry.isFile && FILE.test(entry.name)) this.#files.add(entry.name);
    }
  }

  tier(name: string): TierSpec | undefined {
    return this.tiers.find((tier) => tier.name === name);
  }

  #fileName(tier: TierSpec, dayNum: number): string {
    return `rollup-${tier.name}-${monthOf(dayNum)}.db`;
  }

  #file(name: string, create: boolean): TierFile | undefined {
    let file = this.#open.get(name);
    if (file) {
      this.#open.delete(name);
    } else {
      if (!create && !this.#files.has(name)) return undefined;
      file = new TierFile(join(this.dataDir, name), this.#cacheSizeKib);
      this.#files.add(name);
    }
    this.#open.set(name, file);
    for (const [openName, openFile] of this.#open) {
      if (this.#open.size <= this.#maxOpen) break;
      if (openFile === file) continue;
      openFile.db.close();
      this.#open.delete(openName);
    }
    return file;
  }

  /** Writes (or replaces) rows of one tier: `[dayNum, seriesId, data]`, one transaction a file. */
  put(tier: TierSpec, rows: ReadonlyArray<readonly [number, number, Uint8Array]>): void {
    const byFile = new Map<string, Array<readonly [number, number, Uint8Array]>>();
    for (const row of rows) {
      const name = this.#fileName(tier, row[0]);
      let list = byFile.get(name);
      if (!list) byFile.set(name, list = []);
      list.push(row);
    }
    for (const [name, list] of byFile) this.#file(name, true)!.put(list);
  }

  /** The row of a series and day in one tier, if written. */
  get(tier: TierSpec, dayNum: number, seriesId: number): Uint8Array | undefined {
    return this.#file(this.#fileName(tier, dayNum), false)?.get(dayNum, seriesId);
  }

  /** Series with a row in any tier file. */
  seriesIds(): Set<number> {
    const ids = new Set<number>();
    for (const name of [...this.#files]) {
      for (const id of this.#file(name, false)!.seriesIds()) ids.add(id);
    }
    return ids;
  }

  /** Day numbers in `[firstDay, lastDay]` whose month has a file of `tier`. */
  daysWithFiles(tier: TierSpec, firstDay: number, lastDay: number): number[] {
    const days: number[] = [];
    for (const name of this.#files) {
      const match = FILE.exec(name)!;
      if (match[1] !== tier.name) continue;
      const monthStart = Date.parse(`${match[2]}-01T00:00:00.000Z`) / MS_PER_DAY;
      const monthEnd = monthEndMs(match[2]) / MS_PER_DAY;
      for (let day = Math.max(firstDay, monthStart); day < monthEnd && day <= lastDay; day++) {
        days.push(day);
      }
    }
    return days;
  }

  /** Deletes tier files whose whole month ended before `nowMs` minus the tier's retention. */
  deleteExpired(nowMs: number): string[] {
    const removed: string[] = [];
    for (const name of [...this.#files].sort()) {
      const match = FILE.exec(name)!;
      const tier = this.tier(match[1]);
      // A file of a tier now switched off goes like an expired one.
      const retentionDays = tier?.retentionDays ?? 0;
      if (monthEndMs(match[2]) > nowMs - retentionDays * MS_PER_DAY) continue;
      this.#open.get(name)?.db.close();
      this.#open.delete(name);
      for (const suffix of ["", "-wal", "-shm"]) {
        try {
          Deno.removeSync(join(this.dataDir, name + suffix));
        } catch (error) {
          if (!(error instanceof Deno.errors.NotFound)) throw error;
        }
      }
      this.#files.delete(name);
      removed.push(name.slice(0, -3));
    }
    return removed;
  }

  /** Tier files and their bytes (with `-wal` and `-shm`). */
  files(): Array<{ name: string; bytes: number }> {
    return [...this.#files].sort().map((name) => ({
      name,
      bytes: sqliteFileBytes(join(this.dataDir, name)),
    }));
  }

  close(): void {
    for (const file of this.#open.values()) file.db.close();
    this.#open.clear();
  }
}
