/**
 * One remote-write endpoint's queue on disk: encoded `WriteRequest.timeseries` entries (records)
 * appended to segment files, read oldest first, and released once the endpoint has them. The
 * read position is kept in `cursor.json`, so a restart resumes where delivery stopped; records
 * are stored encoded and are never re-encoded on retry.
 *
 * Bounded in bytes: when the unsent records pass `maxBytes`, the oldest segment is dropped (its
 * samples counted, logged) — the newest data matters most after a long outage.
 *
 * Record: `u32 payload length`, `u32 samples`, `f64 appended-at ms`, payload (little endian).
 * A torn record at the end of the last segment (a crash mid-write) is cut off at open.
 */
import { join } from "node:path";
import type { Logger } from "../../shared/log.ts";

const HEADER_BYTES = 16;
const SEGMENT_NAME = /^(\d{12})\.seg$/;

export interface QueueOptions {
  dir: string;
  maxBytes: number;
  /** Segment size at which a new one is started. Default: maxBytes / 16, 64 KiB to 8 MiB. */
  segmentBytes?: number;
  log: Logger;
}

interface RecordRef {
  segment: number;
  offset: number;
  length: number;
  samples: number;
  appendedMs: number;
}

/** Records read for one send; `release` it with `commit` once delivered (or dropped). */
export interface QueueBatch {
  /** The concatenated records: a valid uncompressed WriteRequest. */
  payload: Uint8Array;
  samples: number;
  records: number;
  /** When the oldest record was appended (epoch ms). */
  oldestMs: number;
  /** Position after the batch. */
  end: { segment: number; offset: number };
}

export interface QueueStats {
  pendingBytes: number;
  pendingSamples: number;
  /** Samples dropped because the queue was full. */
  droppedSamples: number;
}

function segmentPath(dir: string, id: number): string {
  return join(dir, `${String(id).padStart(12, "0")}.seg`);
}

export class DiskQueue {
  readonly #dir: string;
  readonly #maxBytes: number;
  readonly #segmentBytes: number;
  readonly #log: Logger;
  /** Unsent records, oldest first (`#head` is the first unsent). */
  #records: RecordRef[] = [];
  #head = 0;
  #pendingBytes = 0;
  #pendingSamples = 0;
  #droppedSamples = 0;
  #writeSegment = 0;
  #writeSize = 0;
  /** Id of the next segment started. */
  #nextSegment = 0;
  #writer: Deno.FsFile | undefined;
  /** The segment last read, kept open. */
  #reader: { id: number; file: Deno.FsFile } | undefined;
  #closed = false;

  constructor(options: QueueOptions) {
    if (!Number.isInteger(options.maxBytes) || options.maxBytes < 1024) {
      throw new RangeError(
        `Cannot open the remote-write queue: maxBytes must be an integer of at least 1024, got ${options.maxBytes}`,
      );
    }
    this.#dir = options.dir;
    this.#maxBytes = options.maxBytes;
    this.#segmentBytes = options.segmentBytes ??
      Math.min(8 << 20, Math.max(64 << 10, Math.floor(options.maxBytes / 16)));
    this.#log = options.log;
    Deno.mkdirSync(this.#dir, { recursive: true });
    this.#load();
  }

  stats(): QueueStats {
    return {
      pendingBytes: this.#pendingBytes,
      pendingSamples: this.#pendingSamples,
      droppedSamples: this.#droppedSamples,
    };
  }

  get empty(): boolean {
    return this.#head >= this.#records.length;
  }

  /** When the oldest unsent record was appended, or undefined when there is none. */
  get oldestMs(): number | undefined {
    return this.empty ? undefined : this.#records[this.#head].appendedMs;
  }

  /** Appends one record (encoded timeseries entries); drops the oldest data past `maxBytes`. */
  append(payload: Uint8Array, samples: number, nowMs: number): void {
    this.#assertOpen();
    if (payload.length === 0) return;
    if (!this.#writer || this.#writeSize >= this.#segmentBytes) this.#startSegment();
    const record = new Uint8Array(HEADER_BYTES + payload.length);
    const view = new DataView(record.buffer);
    view.setUint32(0, payload.length, true);
    view.setUint32(4, samples, true);
    view.setFloat64(8, nowMs, true);
    record.set(payload, HEADER_BYTES);
    writeAll(this.#writer!, record);
    this.#records.push({
      segment: this.#writeSegment,
      offset: this.#writeSize,
      length: record.length,
      samples,
      appendedMs: nowMs,
    });
    this.#writeSize += record.length;
    this.#pendingBytes += record.length;
    this.#pendingSamples += samples;
    if (this.#pendingBytes > this.#maxBytes) this.#dropOldest();
  }

  /** The oldest unsent records, up to `maxSamples` (at least one record), or undefined. */
  peek(maxSamples: number): QueueBatch | undefined {
    this.#assertOpen();
    if (this.empty) return undefined;
    const parts: Uint8Array[] = [];
    let samples = 0;
    let index = this.#head;
    let size = 0;
    while (index < this.#records.length) {
      const ref = this.#records[index];
      if (parts.length > 0 && samples + ref.samples > maxSamples) break;
      const record = this.#read(ref);
      parts.push(record.subarray(HEADER_BYTES));
      size += ref.length - HEADER_BYTES;
      samples += ref.samples;
      index++;
    }
    const payload = new Uint8Array(size);
    let offset = 0;
    for (const part of parts) {
      payload.set(part, offset);
      offset += part.length;
    }
    const last = this.#records[index - 1];
    return {
      payload,
      samples,
      records: index - this.#head,
      oldestMs: this.#records[this.#head].appendedMs,
      end: { segment: last.segment, offset: last.offset + last.length },
    };
  }

  /**
   * Marks everything before `end` as delivered. A position at or before the current one (the
   * records were dropped meanwhile) changes nothing.
   */
  commit(end: { segment: number; offset: number }): void {
    this.#assertOpen();
    let moved = false;
    while (!this.empty) {
      const ref = this.#records[this.#head];
      if (ref.segment > end.segment || (ref.segment === end.segment && ref.offset >= end.offset)) {
        break;
      }
      this.#consume(ref);
      moved = true;
    }
    if (moved) this.#afterAdvance();
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#writer?.close();
    this.#reader?.file.close();
    this.#writer = undefined;
    this.#reader = undefined;
  }

  #assertOpen(): void {
    if (this.#closed) throw new Error(`Cannot use the remote-write queue in ${this.#dir}: closed`);
  }

  #consume(ref: RecordRef): void {
    this.#head++;
    this.#pendingBytes -= ref.length;
    this.#pendingSamples -= ref.samples;
  }

  /** Persists the cursor, deletes segments wholly behind it, compacts the record list. */
  #afterAdvance(): void {
    const next = this.empty
      ? { segment: this.#writeSegment, offset: this.#writeSize }
      : { segment: this.#records[this.#head].segment, offset: this.#records[this.#head].offset };
    const cursorPath = join(this.#dir, "cursor.json");
    Deno.writeTextFileSync(cursorPath + ".tmp", JSON.stringify(next));
    Deno.renameSync(cursorPath + ".tmp", cursorPath);
    const first = this.#head > 0 ? this.#records[0].segment : next.segment;
    for (let id = first; id < next.segment; id++) {
      if (this.#reader?.id === id) {
        this.#reader.file.close();
        this.#reader = undefined;
      }
      try {
        Deno.removeSync(segmentPath(this.#dir, id));
      } catch (error) {
        if (!(error instanceof Deno.errors.NotFound)) throw error;
      }
    }
    if (this.#head > 1024 && this.#head * 2 > this.#records.length) {
      this.#records = this.#records.slice(this.#head);
      this.#head = 0;
    }
  }

  #dropOldest(): void {
    let dropped = 0;
    let records = 0;
    while (this.#pendingBytes > this.#maxBytes && !this.empty) {
      const segment = this.#records[this.#head].segment;
      while (!this.empty && this.#records[this.#head].segment === segment) {
        const ref = this.#records[this.#head];
        // The segment being written is dropped record by record.
        if (segment === this.#writeSegment && this.#pendingBytes <= this.#maxBytes) break;
        dropped += ref.samples;
        records++;
        this.#consume(ref);
      }
    }
    this.#droppedSamples += dropped;
    this.#log.warn("remote-write queue full: oldest samples dropped", {
      dir: this.#dir,
      dropped_samples: dropped,
      dropped_records: records,
      max_bytes: this.#maxBytes,
    });
    this.#afterAdvance();
  }

  #startSegment(): void {
    this.#writer?.close();
    this.#writeSegment = this.#nextSegment++;
    this.#writer = Deno.openSync(segmentPath(this.#dir, this.#writeSegment), {
      write: true,
      create: true,
      append: true,
    });
    this.#writeSize = this.#writer.statSync().size;
  }

  #read(ref: RecordRef): Uint8Array {
    if (this.#reader?.id !== ref.segment) {
      this.#reader?.file.close();
      this.#reader = {
        id: ref.segment,
        file: Deno.openSync(segmentPath(this.#dir, ref.segment), { read: true }),
      };
    }
    const buffer = new Uint8Array(ref.length);
    const file = this.#reader.file;
    file.seekSync(ref.offset, Deno.SeekMode.Start);
    let read = 0;
    while (read < ref.length) {
      const n = file.readSync(buffer.subarray(read));
      if (n === null) {
        throw new Error(
          `Cannot read the remote-write queue: segment ${ref.segment} ends before offset ${
            ref.offset + ref.length
          }`,
        );
      }
      read += n;
    }
    return buffer;
  }

  /** Rebuilds the record list from the segments at and after the cursor. */
  #load(): void {
    let cursor = { segment: 0, offset: 0 };
    try {
      const parsed = JSON.parse(Deno.readTextFileSync(join(this.#dir, "cursor.json")));
      if (Number.isInteger(parsed?.segment) && Number.isInteger(parsed?.offset)) cursor = parsed;
    } catch (error) {
      if (!(error instanceof Deno.errors.NotFound)) {
        this.#log.warn("remote-write queue: unreadable cursor, starting from the oldest segment", {
          dir: this.#dir,
          error,
        });
      }
    }
    const ids: number[] = [];
    for (const entry of Deno.readDirSync(this.#dir)) {
      const match = SEGMENT_NAME.exec(entry.name);
      if (match) ids.push(Number(match[1]));
    }
    ids.sort((a, b) => a - b);
    for (const id of ids) {
      if (id < cursor.segment) {
        Deno.removeSync(segmentPath(this.#dir, id));
        continue;
      }
      const data = Deno.readFileSync(segmentPath(this.#dir, id));
      const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
      let offset = 0;
      while (offset + HEADER_BYTES <= data.length) {
        const length = HEADER_BYTES + view.getUint32(offset, true);
        if (offset + length > data.length) break;
        if (id > cursor.segment || offset >= cursor.offset) {
          const samples = view.getUint32(offset + 4, true);
          this.#records.push({
            segment: id,
            offset,
            length,
            samples,
            appendedMs: view.getFloat64(offset + 8, true),
          });
          this.#pendingBytes += length;
          this.#pendingSamples += samples;
        }
        offset += length;
      }
      if (offset < data.length) {
        this.#log.warn("remote-write queue: torn record at the end of a segment cut off", {
          dir: this.#dir,
          segment: id,
          bytes: data.length - offset,
        });
        Deno.truncateSync(segmentPath(this.#dir, id), offset);
      }
      this.#nextSegment = id + 1;
    }
    // Appends go to a fresh segment, so a cut-off segment is never appended to.
    this.#writeSegment = this.#nextSegment;
    this.#writeSize = 0;
  }
}

function writeAll(file: Deno.FsFile, bytes: Uint8Array): void {
  let written = 0;
  while (written < bytes.length) written += file.writeSync(bytes.subarray(written));
}
