/**
 * The bounded queue between collection and sending, holding encoded requests (never encoded
 * again for a retry), in memory or, with a spool, on disk.
 *
 * Bounds: at most `maxBatches` batches; at most `maxMemoryBytes` of requests held in memory;
 * with a spool, at most `maxSpoolBytes` on disk. Drop policy: when a bound is passed, the
 * OLDEST batch counting against it is dropped, counted and reported through `onDrop`; recent
 * data is worth more to a monitor than old data. The sender takes the oldest batch out and, on
 * failure, returns it to the front, so batches leave in collection order; a returned batch that
 * no longer fits is itself the oldest and is the one dropped. A sent (or refused) batch is
 * `ack`ed, which removes its spool file.
 *
 * With a spool, a batch is written to disk before it counts as buffered, and only its header
 * stays in memory; a batch the spool cannot take (disk full) is kept in memory instead.
 */
import type { Logger } from "../shared/log.ts";
import { type Spool, type SpoolEntry, SpoolEntryError } from "./spool.ts";

/** One buffered batch. */
export interface QueuedBatch {
  /** The encoded request, when held in memory. */
  request?: Uint8Array;
  /** Its spool entry, when on disk. */
  spooled?: SpoolEntry;
  /** Bytes it holds (in memory or on disk). */
  bytes: number;
  timestampMs: number;
  points: number;
}

export type DropReason = "full" | "damaged";

export interface BatchBufferOptions {
  /** Most batches kept (`buffer_max_size`), at least 1. */
  maxBatches: number;
  /** Most bytes of requests kept in memory (`buffer_max_bytes`). Default: no limit. */
  maxMemoryBytes?: number;
  /** Where batches are kept across restarts. Default: memory only. */
  spool?: Spool;
  /** Batches the spool held at start, oldest first. */
  spooled?: readonly SpoolEntry[];
  /** Most bytes kept in the spool (`spool_max_bytes`). Default: no limit. */
  maxSpoolBytes?: number;
  /** Told of every batch dropped: the queue was full, or its spool entry was damaged. */
  onDrop?: (batch: QueuedBatch, reason: DropReason, droppedTotal: number) => void;
  log?: Logger;
}

export class BatchBuffer {
  readonly maxBatches: number;
  readonly #maxMemoryBytes: number;
  readonly #maxSpoolBytes: number;
  readonly #spool?: Spool;
  readonly #onDrop: NonNullable<BatchBufferOptions["onDrop"]>;
  readonly #log?: Logger;
  #batches: QueuedBatch[] = [];
  #memoryBytes = 0;
  #spoolBytes = 0;
  #dropped = 0;
  #damaged = 0;
  #spoolFailing = false;
  #waiters: (() => void)[] = [];

  constructor(options: BatchBufferOptions) {
    const { maxBatches } = options;
    if (!Number.isInteger(maxBatches) || maxBatches < 1) {
      throw new RangeError(
        `Cannot create a batch buffer: expected a positive size, got ${maxBatches}`,
      );
    }
    this.maxBatches = maxBatches;
    this.#maxMemoryBytes = options.maxMemoryBytes ?? Infinity;
    this.#maxSpoolBytes = options.maxSpoolBytes ?? Infinity;
    this.#spool = options.spool;
    this.#onDrop = options.onDrop ?? (() => {});
    this.#log = options.log;
    for (const entry of options.spooled ?? []) {
      this.#batches.push({
        spooled: entry,
        bytes: entry.fileBytes,
        timestampMs: entry.timestampMs,
        points: entry.points,
      });
      this.#spoolBytes += entry.fileBytes;
    }
    this.#trim();
  }

  get size(): number {
    return this.#batches.length;
  }

  /** Bytes of requests held in memory. */
  get memoryBytes(): number {
    return this.#memoryBytes;
  }

  /** Bytes of the spool's entries. */
  get spoolBytes(): number {
    return this.#spoolBytes;
  }

  /** Batches dropped (the queue was full, or a spool entry was damaged), since creation. */
  get dropped(): number {
    return this.#dropped;
  }

  /** Of those, spool entries found damaged. */
  get damaged(): number {
    return this.#damaged;
  }

  /** Appends the newest batch (to the spool first, when there is one), dropping the oldest. */
  async push(request: Uint8Array, meta: { timestampMs: number; points: number }): Promise<void> {
    let batch: QueuedBatch | undefined;
    if (this.#spool) {
      try {
        const spooled = await this.#spool.write(request, meta);
        batch = { spooled, bytes: spooled.fileBytes, ...meta };
        this.#spoolBytes += spooled.fileBytes;
        if (this.#spoolFailing) {
          this.#spoolFailing = false;
          this.#log?.info("spool writable again", { dir: this.#spool.dir });
        }
      } catch (error) {
        // Disk full or gone: the batch is kept in memory, within the memory bound, meanwhile.
        if (!this.#spoolFailing) {
          this.#spoolFailing = true;
          this.#log?.warn("cannot write to the spool; keeping batches in memory", {
            dir: this.#spool.dir,
            error,
          });
        }
      }
    }
    batch ??= { request, bytes: request.length, ...meta };
    if (batch.request) this.#memoryBytes += batch.bytes;
    this.#batches.push(batch);
    this.#trim();
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const wake of waiters) wake();
  }

  /** Takes the oldest batch out; `requestOf` gives its bytes, `ack` or `returnFront` follows. */
  shift(): QueuedBatch | undefined {
    const batch = this.#batches.shift();
    if (batch) this.#forget(batch);
    return batch;
  }

  /**
   * The request of a batch taken out, read from the spool when it is there; undefined (the
   * batch dropped, counted and reported) when its spool entry is damaged.
   */
  requestOf(batch: QueuedBatch): Uint8Array | undefined {
    if (batch.request) return batch.request;
    try {
      return this.#spool!.read(batch.spooled!);
    } catch (error) {
      if (!(error instanceof SpoolEntryError)) throw error;
      this.#log?.warn("spool entry is damaged; skipped", { error });
      this.#damaged++;
      this.#drop(batch, "damaged");
      return undefined;
    }
  }

  /** A batch taken out is done with (sent, or refused for good): its spool file goes. */
  ack(batch: QueuedBatch): void {
    if (batch.spooled) this.#spool!.remove(batch.spooled);
  }

  /** Puts a batch that could not be sent back in front, where it came from. */
  returnFront(batch: QueuedBatch): void {
    this.#batches.unshift(batch);
    if (batch.request) this.#memoryBytes += batch.bytes;
    else this.#spoolBytes += batch.bytes;
    this.#trim();
  }

  /** Resolves once the buffer holds a batch or the signal aborts. */
  waitForBatch(signal: AbortSignal): Promise<void> {
    if (this.#batches.length > 0 || signal.aborted) return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        signal.removeEventListener("abort", done);
        this.#waiters = this.#waiters.filter((waiter) => waiter !== done);
        resolve();
      };
      this.#waiters.push(done);
      signal.addEventListener("abort", done, { once: true });
    });
  }

  #forget(batch: QueuedBatch): void {
    if (batch.request) this.#memoryBytes -= batch.bytes;
    else this.#spoolBytes -= batch.bytes;
  }

  #drop(batch: QueuedBatch, reason: DropReason): void {
    if (batch.spooled) this.#spool!.remove(batch.spooled);
    this.#dropped++;
    this.#onDrop(batch, reason, this.#dropped);
  }

  /** Drops, oldest first, what passes a bound: count, memory bytes, spool bytes. */
  #trim(): void {
    const batches = this.#batches;
    while (batches.length > this.maxBatches) this.#dropAt(0);
    while (this.#memoryBytes > this.#maxMemoryBytes) {
      this.#dropAt(batches.findIndex((batch) => batch.request !== undefined));
    }
    while (this.#spoolBytes > this.#maxSpoolBytes) {
      this.#dropAt(batches.findIndex((batch) => batch.request === undefined));
    }
  }

  #dropAt(index: number): void {
    const [batch] = this.#batches.splice(index, 1);
    this.#forget(batch);
    this.#drop(batch, "full");
  }
}
