/**
 * The bounded buffer between collection and sending.
 *
 * Drop policy: when a batch arrives and the buffer is full, the OLDEST batch is dropped,
 * counted and reported through `onDrop`; recent data is worth more to a monitor than old data.
 * The sender takes the oldest batch out, and on failure returns it to the front, so batches
 * always leave in collection order; a returned batch that no longer fits is itself the oldest
 * and is the one dropped.
 */
import type { MetricBatch } from "../shared/types.ts";

export class BatchBuffer {
  readonly maxSize: number;
  #batches: MetricBatch[] = [];
  #dropped = 0;
  readonly #onDrop: (batch: MetricBatch, droppedTotal: number) => void;
  #waiters: (() => void)[] = [];

  constructor(
    maxSize: number,
    options: { onDrop?: (batch: MetricBatch, droppedTotal: number) => void } = {},
  ) {
    if (!Number.isInteger(maxSize) || maxSize < 1) {
      throw new RangeError(
        `Cannot create a batch buffer: expected a positive size, got ${maxSize}`,
      );
    }
    this.maxSize = maxSize;
    this.#onDrop = options.onDrop ?? (() => {});
  }

  get size(): number {
    return this.#batches.length;
  }

  /** Batches dropped because the buffer was full, since it was created. */
  get dropped(): number {
    return this.#dropped;
  }

  /** Appends the newest batch, dropping the oldest when full. */
  push(batch: MetricBatch): void {
    this.#batches.push(batch);
    this.#trim();
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const wake of waiters) wake();
  }

  /** Takes the oldest batch out. */
  shift(): MetricBatch | undefined {
    return this.#batches.shift();
  }

  /** Puts a batch that could not be sent back in front, where it came from. */
  returnFront(batch: MetricBatch): void {
    this.#batches.unshift(batch);
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

  #trim(): void {
    while (this.#batches.length > this.maxSize) {
      const dropped = this.#batches.shift()!;
      this.#dropped++;
      this.#onDrop(dropped, this.#dropped);
    }
  }
}
