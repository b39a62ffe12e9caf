/**
 * `oxmon-server --check-data`: checks a data directory without serving it. Every SQLite file
 * gets `PRAGMA integrity_check`; every day partition also has each chunk decoded (its checksum
 * checked), each head-log row decoded, and its series identity records compared with
 * `index.db`. The report says per file what is wrong, so a damaged file can be moved aside or
 * restored from a backup before the server is started on it. Nothing is written.
 */
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { decodeChunk } from "./storage/chunk/codec.ts";
import { decodeHeadLogRow } from "./storage/chunk/_head_log.ts";

export interface FileReport {
  /** File name in the data directory. */
  file: string;
  /** Problems found; empty when the file is sound. */
  problems: string[];
  /** What was checked, e.g. "1,204 chunks, 3 head-log rows, 250 series". */
  checked: string;
}

/** Problems listed per file, at most; the count says how many there were. */
const MAX_PROBLEMS = 20;
const PARTITION = /^\d{4}-\d{2}-\d{2}\.db$/;
const QUARANTINED = /\.damaged-\d{8}T\d{6}Z(?:-\d+)?$/;

/** Checks every SQLite file of `dataDir`; throws only when the folder cannot be read. */
export function checkDataDir(dataDir: string): FileReport[] {
  const names = [...Deno.readDirSync(dataDir)]
    .filter((entry) => entry.isFile && (entry.name.endsWith(".db") || QUARANTINED.test(entry.name)))
    .map((entry) => entry.name)
    .sort();
  const index = names.includes("index.db") ? readIndex(join(dataDir, "index.db")) : undefined;
  const reports: FileReport[] = [];
  if (index === undefined && names.some((name) => PARTITION.test(name))) {
    reports.push({
      file: "index.db",
      problems: ["missing; the server rebuilds it from the partitions' identity records at start"],
      checked: "not found",
    });
  }
  for (const name of names) {
    if (QUARANTINED.test(name)) {
      reports.push({
        file: name,
        problems: ["moved aside as damaged by the server; remove it or restore it from a backup"],
        checked: "not checked",
      });
      continue;
    }
    reports.push(checkFile(join(dataDir, name), name, PARTITION.test(name) ? index : null));
  }
  return reports;
}

/** index.db's series by id, as identity text; an error message when it cannot be read. */
function readIndex(path: string): Map<number, string> | string {
  let db: DatabaseSync | undefined;
  try {
    db = openForCheck(path);
    const byId = new Map<number, string>();
    const rows = db.prepare("SELECT id, agent_id, metric_name, labels FROM series").all();
    for (const row of rows) {
      byId.set(Number(row.id), identity(row.agent_id, row.metric_name, row.labels));
    }
    return byId;
  } catch (error) {
    return (error as Error).message;
  } finally {
    if (db?.isOpen) db.close();
  }
}

/**
 * A plain connection that reads and never writes: a read-only one would leave `-wal` and `-shm`
 * files behind, while this one, the last to close, removes them (folding a log a crash left into
 * the file, as a start of the server would).
 */
function openForCheck(path: string): DatabaseSync {
  return new DatabaseSync(path, { timeout: 5_000 });
}

function identity(agentId: unknown, metricName: unknown, labels: unknown): string {
  return JSON.stringify([agentId, metricName, labels]);
}

/**
 * One file: integrity, then for a partition (`index` not null) its chunks, head log and
 * identity records.
 */
function checkFile(
  path: string,
  name: string,
  index: Map<number, string> | string | undefined | null,
): FileReport {
  const problems: string[] = [];
  let extra = 0;
  const problem = (text: string) => {
    if (problems.length < MAX_PROBLEMS) problems.push(text);
    else extra++;
  };
  const counts: string[] = [];
  let db: DatabaseSync | undefined;
  try {
    db = openForCheck(path);
    const integrity = db.prepare("PRAGMA integrity_check(20)").all()
      .map((row) => String(Object.values(row)[0]));
    if (!(integrity.length === 1 && integrity[0] === "ok")) {
      for (const line of integrity) problem(`integrity_check: ${line}`);
    }
    if (index !== null) checkPartition(db, { index, problem, counts });
  } catch (error) {
    problem((error as Error).message);
  } finally {
    if (db?.isOpen) db.close();
  }
  if (extra > 0) problems.push(`and ${extra} more`);
  return { file: name, problems, checked: ["integrity", ...counts].join(", ") };
}

/** What a partition check reports into: its problems and what it counted. */
interface PartitionCheck {
  /** index.db's series by id; a message when it cannot be read, undefined when missing. */
  index: Map<number, string> | string | undefined;
  problem: (text: string) => void;
  counts: string[];
}

function checkPartition(db: DatabaseSync, check: PartitionCheck): void {
  const { index, problem, counts } = check;
  const tables = new Set(
    db.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").all().map((row) =>
      String(row.name)
    ),
  );
  const held = new Set<number>();
  if (tables.has("chunks")) {
    let chunks = 0;
    const rows = db.prepare("SELECT series_id, start_ts, data FROM chunks").iterate();
    for (const row of rows) {
      chunks++;
      held.add(Number(row.series_id));
      try {
        decodeChunk(
          row.data as Uint8Array,
          `chunk of series ${row.series_id} starting ${
            new Date(Number(row.start_ts)).toISOString()
          }`,
        );
      } catch (error) {
        problem((error as Error).message);
      }
    }
    counts.push(`${chunks} chunks decoded`);
  }
  if (tables.has("head_log")) {
    let logRows = 0;
    for (const row of db.prepare("SELECT id, data FROM head_log").iterate()) {
      logRows++;
      try {
        const where = `head-log row ${row.id}`;
        for (const [id] of decodeHeadLogRow(row.data as Uint8Array, where)) held.add(id);
      } catch (error) {
        problem((error as Error).message);
      }
    }
    counts.push(`${logRows} head-log rows`);
  }
  if (tables.has("samples")) counts.push("row-engine samples (converted at the next start)");
  if (!tables.has("series")) {
    counts.push("no identity records (written by an older oxmon)");
    return;
  }
  const records = new Map<number, string>();
  for (const row of db.prepare("SELECT id, agent_id, metric_name, labels FROM series").all()) {
    records.set(Number(row.id), identity(row.agent_id, row.metric_name, row.labels));
  }
  counts.push(`${records.size} series`);
  const version = db.prepare("PRAGMA user_version").get() as { user_version: number };
  if (version.user_version >= 1) {
    for (const id of held) {
      if (!records.has(id)) problem(`series ${id} holds data here but has no identity record`);
    }
  }
  // A missing or unreadable index.db is reported once, as its own file.
  if (index instanceof Map) {
    let differ = 0;
    for (const [id, text] of records) {
      if (index.get(id) !== text) differ++;
    }
    if (differ > 0) {
      problem(
        `${differ} of its series ids are missing from index.db or name other series there; ` +
          "the server rebuilds index.db from the identity records at start",
      );
    }
  }
}

/** The report as text, one line per file and one per problem; `ok` when all are sound. */
export function formatCheckReport(dataDir: string, reports: readonly FileReport[]): string {
  const lines = [`oxmon data check of ${dataDir}: ${reports.length} files`];
  for (const report of reports) {
    const state = report.problems.length === 0 ? "ok     " : "DAMAGED";
    lines.push(`${state} ${report.file} (${report.checked})`);
    for (const text of report.problems) lines.push(`        - ${text}`);
  }
  const bad = reports.filter((report) => report.problems.length > 0).length;
  lines.push(bad === 0 ? "all files are sound" : `${bad} of ${reports.length} files have problems`);
  return lines.join("\n");
}
