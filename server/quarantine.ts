/**
 * Damaged SQLite files are moved aside, not fatal: `agents.db` becomes
 * `agents.db.damaged-20261130T031700Z` (with its `-wal` and `-shm`), the server logs the path and
 * SQLite's own words, and starts with a new empty file. The moved file stays in `data_dir` for
 * the operator (to inspect, recover with the `sqlite3` shell's `.recover`, or delete); while it is
 * there, health lists it and says `degraded`.
 */
import { DatabaseSync } from "node:sqlite";
import { basename, join } from "node:path";
import type { Logger } from "../shared/log.ts";

/** Marks a file moved aside: `<name>.damaged-<UTC time>`. */
const QUARANTINED = /^(.+)\.damaged-(\d{8}T\d{6}Z)(?:-\d+)?$/;
const COMPANIONS = ["-wal", "-shm"] as const;

/** SQLite's primary result codes for a file that is not (or no longer) a sound database. */
const SQLITE_CORRUPT = 11;
const SQLITE_NOTADB = 26;

/** Whether `error` says the file is damaged (as opposed to missing, locked, full or denied). */
export function isDamageError(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  for (let cause: unknown = error; cause instanceof Error; cause = cause.cause) {
    const code = (cause as { errcode?: number }).errcode;
    if (
      code !== undefined && ((code & 0xff) === SQLITE_CORRUPT || (code & 0xff) === SQLITE_NOTADB)
    ) {
      return true;
    }
    if (
      /database disk image is malformed|file is not a database|database corrupt/i.test(
        cause.message,
      )
    ) {
      return true;
    }
  }
  return false;
}

/**
 * Checks a SQLite file with `PRAGMA quick_check` (every page and index entry, without comparing
 * index contents to tables: seconds for gigabytes). Returns SQLite's complaint, or undefined
 * when the file is sound or does not exist. `integrity: true` runs the full `integrity_check`.
 */
export function checkSqliteFile(
  path: string,
  options: { integrity?: boolean } = {},
): string | undefined {
  try {
    Deno.statSync(path);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return undefined;
    throw error;
  }
  let db: DatabaseSync | undefined;
  try {
    db = new DatabaseSync(path, { timeout: 5_000 });
    const pragma = options.integrity ? "integrity_check" : "quick_check";
    const rows = db.prepare(`PRAGMA ${pragma}(20)`).all() as Record<string, unknown>[];
    const messages = rows.map((row) => String(Object.values(row)[0]));
    return messages.length === 1 && messages[0] === "ok" ? undefined : messages.join("; ");
  } catch (error) {
    if (isDamageError(error)) return (error as Error).message;
    throw new Error(`Cannot check ${path}: ${(error as Error).message}`, { cause: error });
  } finally {
    if (db?.isOpen) db.close();
  }
}

function stamp(nowMs: number): string {
  return new Date(nowMs).toISOString().replace(/[-:]/g, "").replace(/\.\d+Z$/, "Z");
}

/**
 * Moves `path` and its `-wal`/`-shm` aside under `<path>.damaged-<time>`; returns the new path.
 * The journal goes first: a new file must never meet the old file's write-ahead log.
 */
export function moveAside(path: string, nowMs: number): string {
  let target = `${path}.damaged-${stamp(nowMs)}`;
  for (let n = 2; exists(target); n++) target = `${path}.damaged-${stamp(nowMs)}-${n}`;
  for (const suffix of COMPANIONS) {
    try {
      Deno.renameSync(path + suffix, target + suffix);
    } catch (error) {
      if (!(error instanceof Deno.errors.NotFound)) throw error;
    }
  }
  Deno.renameSync(path, target);
  return target;
}

function exists(path: string): boolean {
  try {
    Deno.statSync(path);
    return true;
  } catch {
    return false;
  }
}

/** A file moved aside as damaged, as health reports it. */
export interface QuarantinedFile {
  /** Where it is now. */
  path: string;
  /** The file it was. */
  original: string;
  /** SQLite's complaint, when this process moved it (an earlier run's move says less). */
  reason?: string;
  /** When it was moved, epoch ms. */
  sinceMs: number;
}

/**
 * What this process moved aside, and what earlier runs left in `data_dir`: `list()` reads the
 * folder each time, so a file the operator removes or restores stops being reported at once.
 */
export class Quarantine {
  readonly #dataDir: string;
  readonly #log: Logger;
  readonly #now: () => number;
  readonly #reasons = new Map<string, string>();

  constructor(options: { dataDir: string; log: Logger; now: () => number }) {
    this.#dataDir = options.dataDir;
    this.#log = options.log;
    this.#now = options.now;
  }

  /**
   * Moves a damaged file aside and logs it loudly with what is lost (`lost`, e.g. "agents'
   * first and last seen times"); returns the new path.
   */
  quarantine(path: string, reason: string, lost: string): string {
    const moved = moveAside(path, this.#now());
    this.#reasons.set(basename(moved), reason);
    this.#log.error(`DAMAGED FILE moved aside; ${lost}`, {
      file: path,
      moved_to: moved,
      sqlite_error: reason,
    });
    return moved;
  }

  /**
   * Opens a SQLite-backed part with `open`, after checking its file: a damaged file (by
   * `quick_check`, or by the error `open` throws) is moved aside and `open` runs again on a new
   * empty file. Other errors name the file and are thrown.
   */
  open<T>(path: string, lost: string, open: () => T): T {
    const damage = checkSqliteFile(path);
    if (damage !== undefined) this.quarantine(path, damage, lost);
    try {
      return open();
    } catch (error) {
      if (!isDamageError(error)) {
        const message = (error as Error).message;
        if (message.includes(path)) throw error;
        throw new Error(`Cannot open ${path}: ${message}`, { cause: error });
      }
      this.quarantine(path, (error as Error).message, lost);
      return open();
    }
  }

  /** Every damaged file in `data_dir` (not companions), oldest first. */
  list(): QuarantinedFile[] {
    const found: QuarantinedFile[] = [];
    let entries: Deno.DirEntry[];
    try {
      entries = [...Deno.readDirSync(this.#dataDir)];
    } catch {
      return found;
    }
    for (const entry of entries) {
      const match = entry.isFile ? QUARANTINED.exec(entry.name) : null;
      if (!match) continue;
      const t = match[2];
      const sinceMs = Date.UTC(
        Number(t.slice(0, 4)),
        Number(t.slice(4, 6)) - 1,
        Number(t.slice(6, 8)),
        Number(t.slice(9, 11)),
        Number(t.slice(11, 13)),
        Number(t.slice(13, 15)),
      );
      const file: QuarantinedFile = {
        path: join(this.#dataDir, entry.name),
        original: join(this.#dataDir, match[1]),
        sinceMs,
      };
      const reason = this.#reasons.get(entry.name);
      if (reason !== undefined) file.reason = reason;
      found.push(file);
    }
    return found.sort((a, b) => a.sinceMs - b.sinceMs || (a.path < b.path ? -1 : 1));
  }
}
