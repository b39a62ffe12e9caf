/**
 * The agent's spool: unsent batches on disk (`spool_dir`), one file per batch, so an agent
 * restart, crash or host reboot during a server outage loses nothing.
 *
 * A batch is written to `.<id>.tmp`, flushed to disk, then renamed to `<id>.batch` (ids grow,
 * so names sort in collection order): a crash mid-write leaves only a `.tmp`, removed at the
 * next open. Each file holds the encoded request with a header and a CRC-32, so a damaged
 * entry is found when it is read and skipped with a warning, never sent and never a crash.
 *
 * Layout (little-endian): `"OXSP"`, version u8, reserved u8, points u32, batch time f64,
 * request length u32, request bytes, CRC-32 u32 of all before.
 */
import { crc32 } from "../shared/crc32.ts";
import type { Logger } from "../shared/log.ts";

const MAGIC = [0x4f, 0x58, 0x53, 0x50]; // "OXSP"
const VERSION = 1;
const HEADER_BYTES = 22;
const TRAILER_BYTES = 4;
const ENTRY = /^(\d{16})\.batch$/;
const TEMP = /^\.\d+\.tmp$/;

/** What the queue keeps in memory of a spooled batch. */
export interface SpoolEntry {
  id: number;
  /** Bytes of the file. */
  fileBytes: number;
  timestampMs: number;
  points: number;
}

/** A spool entry that cannot be read back as written. */
export class SpoolEntryError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "SpoolEntryError";
  }
}

export interface OpenedSpool {
  spool: Spool;
  /** The batches left from before, oldest first. */
  entries: SpoolEntry[];
  /** Half-written entries (`.tmp`) of a crash, removed. */
  halfWritten: number;
  /** Entries whose header is damaged, removed. */
  damaged: number;
}

export class Spool {
  readonly dir: string;
  #nextId: number;

  private constructor(dir: string, nextId: number) {
    this.dir = dir;
    this.#nextId = nextId;
  }

  /**
   * Opens (creating, mode 0700) the spool in `dir`: removes half-written entries, reads the
   * header of every other one. Throws an error naming `dir` when it cannot be used at all.
   */
  static open(dir: string, log: Logger): OpenedSpool {
    try {
      Deno.mkdirSync(dir, { recursive: true, mode: 0o700 });
    } catch (error) {
      throw new Error(`Cannot use spool_dir ${dir}: ${(error as Error).message}`, { cause: error });
    }
    const entries: SpoolEntry[] = [];
    let halfWritten = 0;
    let damaged = 0;
    let names: string[];
    try {
      names = [...Deno.readDirSync(dir)].filter((entry) => entry.isFile).map((entry) => entry.name);
    } catch (error) {
      throw new Error(`Cannot use spool_dir ${dir}: ${(error as Error).message}`, { cause: error });
    }
    for (const name of names.sort()) {
      if (TEMP.test(name)) {
        halfWritten++;
        removeQuietly(`${dir}/${name}`);
        continue;
      }
      const match = ENTRY.exec(name);
      if (!match) continue;
      const id = Number(match[1]);
      try {
        entries.push(readHeader(`${dir}/${name}`, id));
      } catch (error) {
        damaged++;
        log.warn("spool entry is damaged; skipped and removed", {
          file: `${dir}/${name}`,
          error,
        });
        removeQuietly(`${dir}/${name}`);
      }
    }
    if (halfWritten > 0) {
      log.warn("spool entries half-written by a crash were removed", {
        dir,
        entries: halfWritten,
      });
    }
    const nextId = entries.length > 0 ? entries[entries.length - 1].id + 1 : 1;
    return { spool: new Spool(dir, nextId), entries, halfWritten, damaged };
  }

  /** Writes a batch durably (flushed to disk before it is renamed into place). */
  async write(request: Uint8Array, meta: { timestampMs: number; points: number }): Promise<
    SpoolEntry
  > {
    const id = this.#nextId++;
    const bytes = new Uint8Array(HEADER_BYTES + request.length + TRAILER_BYTES);
    const view = new DataView(bytes.buffer);
    bytes.set(MAGIC, 0);
    bytes[4] = VERSION;
    view.setUint32(6, meta.points, true);
    view.setFloat64(10, meta.timestampMs, true);
    view.setUint32(18, request.length, true);
    bytes.set(request, HEADER_BYTES);
    view.setUint32(
      bytes.length - TRAILER_BYTES,
      crc32(bytes, 0, bytes.length - TRAILER_BYTES),
      true,
    );
    const temp = `${this.dir}/.${id}.tmp`;
    const file = await Deno.open(temp, { write: true, create: true, truncate: true, mode: 0o600 });
    try {
      let written = 0;
      while (written < bytes.length) written += await file.write(bytes.subarray(written));
      await file.syncData();
    } catch (error) {
      file.close();
      removeQuietly(temp);
      throw error;
    }
    file.close();
    await Deno.rename(temp, this.#path(id));
    return { id, fileBytes: bytes.length, timestampMs: meta.timestampMs, points: meta.points };
  }

  /** The request bytes of an entry; throws `SpoolEntryError` when the file is damaged or gone. */
  read(entry: SpoolEntry): Uint8Array {
    const path = this.#path(entry.id);
    let bytes: Uint8Array;
    try {
      bytes = Deno.readFileSync(path);
    } catch (error) {
      throw new SpoolEntryError(`cannot read ${path}: ${(error as Error).message}`, {
        cause: error,
      });
    }
    const length = checkEntry(bytes, path);
    return bytes.subarray(HEADER_BYTES, HEADER_BYTES + length);
  }

  /** Removes an entry (sent, refused, or dropped); one already gone is fine. */
  remove(entry: SpoolEntry): void {
    removeQuietly(this.#path(entry.id));
  }

  #path(id: number): string {
    return `${this.dir}/${String(id).padStart(16, "0")}.batch`;
  }
}

/** Checks magic, version, length and CRC; returns the request length. */
function checkEntry(bytes: Uint8Array, path: string): number {
  if (bytes.length < HEADER_BYTES + TRAILER_BYTES) {
    throw new SpoolEntryError(`${path}: ${bytes.length} bytes, shorter than any entry`);
  }
  if (MAGIC.some((byte, i) => bytes[i] !== byte)) {
    throw new SpoolEntryError(`${path}: not a spool entry (no OXSP header)`);
  }
  if (bytes[4] !== VERSION) throw new SpoolEntryError(`${path}: unknown version ${bytes[4]}`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const length = view.getUint32(18, true);
  if (HEADER_BYTES + length + TRAILER_BYTES !== bytes.length) {
    throw new SpoolEntryError(
      `${path}: says ${length} request bytes, holds ${bytes.length - HEADER_BYTES - TRAILER_BYTES}`,
    );
  }
  const stored = view.getUint32(bytes.length - TRAILER_BYTES, true);
  if (stored !== crc32(bytes, 0, bytes.length - TRAILER_BYTES)) {
    throw new SpoolEntryError(`${path}: checksum mismatch`);
  }
  return length;
}

function readHeader(path: string, id: number): SpoolEntry {
  using file = Deno.openSync(path, { read: true });
  const header = new Uint8Array(HEADER_BYTES);
  let read = 0;
  while (read < HEADER_BYTES) {
    const n = file.readSync(header.subarray(read));
    if (n === null) break;
    read += n;
  }
  const fileBytes = file.statSync().size;
  if (read < HEADER_BYTES || MAGIC.some((byte, i) => header[i] !== byte) || header[4] !== VERSION) {
    throw new SpoolEntryError(`${path}: no valid entry header`);
  }
  const view = new DataView(header.buffer);
  const length = view.getUint32(18, true);
  if (HEADER_BYTES + length + TRAILER_BYTES !== fileBytes) {
    throw new SpoolEntryError(`${path}: cut short (${fileBytes} bytes, header says more)`);
  }
  return {
    id,
    fileBytes,
    timestampMs: view.getFloat64(10, true),
    points: view.getUint32(6, true),
  };
}

function removeQuietly(path: string): void {
  try {
    Deno.removeSync(path);
  } catch {
    // Already gone.
  }
}
