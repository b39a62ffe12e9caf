/**
 * The one place oxmon opens a SQLite file: WAL with `synchronous = NORMAL` (the defaults are a
 * rollback journal and `FULL`, an fsync per commit, which this kind of disk pays dearly for), a
 * busy timeout so a second connection waits instead of failing, and a page cache sized per file.
 * Opening and pragma errors name the file: `Cannot open /data/2026-11-28.db: file is not a
 * database`.
 */
import { DatabaseSync, type StatementSync } from "node:sqlite";

export interface OpenDatabaseOptions {
  /** Open without write access: the file must exist, and its journal mode is left alone. Default false. */
  readOnly?: boolean;
  /** How long a statement waits for another connection's lock, in ms. Default 5,000. */
  busyTimeoutMs?: number;
  /**
   * Page cache of this connection in KiB, at least 1,024 (smaller values are raised). Default:
   * SQLite's own (2 MiB), right for small files.
   */
  cacheSizeKib?: number;
  /**
   * `auto_vacuum = INCREMENTAL`, for files that free about as many pages as they fill:
   * `PRAGMA incremental_vacuum` then gives free pages back to the file system. Only takes effect
   * in a file without tables yet. Default false.
   */
  incrementalVacuum?: boolean;
  /**
   * WAL pages (4 KiB) between automatic checkpoints, and the size a checkpoint truncates the WAL
   * file back to. Default: SQLite's 1,000 pages, WAL file never truncated.
   */
  walAutocheckpointPages?: number;
  /** Page size in bytes (a power of two, 512–65536) for a file created now. Default SQLite's 4096. */
  pageSize?: number;
  /**
   * No syncs (`synchronous = OFF`) and a rollback journal instead of WAL, for a file built whole
   * and synced by its builder before anything depends on it (after a crash it is thrown away).
   * (`journal_mode = OFF` would save the journal too, but SQLite's defensive mode, on in Deno,
   * refuses it.) Default false.
   */
  unsynced?: boolean;
}

/** Opens (creating unless `readOnly`) the SQLite file at `path`; `":memory:"` works too. */
export function openDatabase(path: string, options: OpenDatabaseOptions = {}): DatabaseSync {
  const {
    readOnly = false,
    busyTimeoutMs = 5_000,
    cacheSizeKib,
    incrementalVacuum = false,
    walAutocheckpointPages,
    pageSize,
    unsynced = false,
  } = options;
  const numbers = { busyTimeoutMs, cacheSizeKib, walAutocheckpointPages };
  for (const [name, value] of Object.entries(numbers)) {
    if (value !== undefined && (typeof value !== "number" || !(value >= 0) || value === Infinity)) {
      throw new RangeError(
        `Cannot open ${path}: ${name} must be a non-negative number, got ${value}`,
      );
    }
  }
  // auto_vacuum and page_size first: they must be set before the journal mode creates the
  // file's first page.
  const pragmas: string[] = [];
  if (pageSize !== undefined && !readOnly) {
    if (!Number.isInteger(Math.log2(pageSize)) || pageSize < 512 || pageSize > 65536) {
      throw new RangeError(
        `Cannot open ${path}: pageSize must be a power of two from 512 to 65536, got ${pageSize}`,
      );
    }
    pragmas.push(`PRAGMA page_size = ${pageSize};`);
  }
  if (incrementalVacuum && !readOnly) pragmas.push("PRAGMA auto_vacuum = INCREMENTAL;");
  if (!readOnly && unsynced) pragmas.push("PRAGMA synchronous = OFF;");
  else if (!readOnly) pragmas.push("PRAGMA journal_mode = WAL;", "PRAGMA synchronous = NORMAL;");
  if (cacheSizeKib !== undefined) {
    pragmas.push(`PRAGMA cache_size = -${Math.max(1024, Math.floor(cacheSizeKib))};`);
  }
  if (walAutocheckpointPages !== undefined) {
    const pages = Math.floor(walAutocheckpointPages);
    pragmas.push(
      `PRAGMA wal_autocheckpoint = ${pages};`,
      `PRAGMA journal_size_limit = ${pages * 4096};`,
    );
  }
  let db: DatabaseSync | undefined;
  try {
    db = new DatabaseSync(path, { readOnly, timeout: Math.floor(busyTimeoutMs) });
    // Also where a damaged or foreign file shows: SQLite reads the header on the first statement.
    db.exec(pragmas.length > 0 ? pragmas.join("\n") : "PRAGMA schema_version;");
    return db;
  } catch (error) {
    if (db?.isOpen) db.close();
    // Deno names the file itself when the open fails ("unable to open database file: PATH").
    const message = (error as Error).message;
    const reason = message.endsWith(`: ${path}`) ? message.slice(0, -(path.length + 2)) : message;
    throw new Error(`Cannot open ${path}: ${reason}`, { cause: error });
  }
}

/**
 * A number to bind into a column without declared type, so it reads back bit for bit: JS
 * numbers bind as REAL, so integral values go as BigInt (stored as compact INTEGERs, read back
 * as the same number) while `-0`, fractions and integers beyond 2^53 stay REAL.
 */
export function bindNumber(value: number): number | bigint {
  return Number.isSafeInteger(value) && !Object.is(value, -0) ? BigInt(value) : value;
}

/**
 * Prepares a statement whose rows come back as arrays, which skips building an object per row.
 * Deno's `node:sqlite` has `setReturnArrays` at run time but not yet in its type declarations.
 */
export function prepareReturningArrays(db: DatabaseSync, sql: string): StatementSync {
  const statement = db.prepare(sql) as StatementSync & { setReturnArrays(enabled: boolean): void };
  statement.setReturnArrays(true);
  return statement;
}
