/**
 * The collection schedule: ticks at start + n × interval, on a fixed grid, so rounds do not
 * drift by the time each takes. A round that overruns skips the ticks it missed instead of
 * bunching up. One abort listener serves the whole schedule and each tick is one timer: at a
 * 1 s interval this runs every second, interpreted, where `delay` with a signal adds and removes
 * a listener every round.
 */
import { startTimer, type Timer } from "../shared/deadline.ts";

export interface TickerOptions {
  /** Monotonic time source. Default `performance.now`. */
  now?: () => number;
}

export class Ticker implements Disposable {
  readonly #intervalMs: number;
  readonly #signal: AbortSignal;
  readonly #now: () => number;
  readonly #startedAt: number;
  #tick = 0;
  #waiting?: { timer: Timer; resolve(ticked: boolean): void };
  readonly #onAbort = () => this.#wake(false);

  /** Starts the grid now; `signal` ends it. */
  constructor(intervalMs: number, signal: AbortSignal, options: TickerOptions = {}) {
    if (!(intervalMs > 0)) {
      throw new RangeError(
        `Cannot create a ticker: expected a positive interval, got ${intervalMs}`,
      );
    }
    this.#intervalMs = intervalMs;
    this.#signal = signal;
    this.#now = options.now ?? (() => performance.now());
    this.#startedAt = this.#now();
    signal.addEventListener("abort", this.#onAbort, { once: true });
  }

  /**
   * Resolves with true at the next tick still ahead, or with false as soon as the signal aborts
   * (at once when it already has).
   */
  next(): Promise<boolean> {
    if (this.#signal.aborted) return Promise.resolve(false);
    const elapsed = this.#now() - this.#startedAt;
    this.#tick = Math.max(this.#tick + 1, Math.ceil(elapsed / this.#intervalMs));
    const waitMs = this.#startedAt + this.#tick * this.#intervalMs - this.#now();
    return new Promise((resolve) => {
      this.#waiting = { timer: startTimer(waitMs, () => this.#wake(true)), resolve };
    });
  }

  #wake(ticked: boolean): void {
    const waiting = this.#waiting;
    this.#waiting = undefined;
    waiting?.timer.cancel();
    waiting?.resolve(ticked);
  }

  /** Stops a pending wait (it resolves false) and lets go of the signal. */
  [Symbol.dispose](): void {
    this.#signal.removeEventListener("abort", this.#onAbort);
    this.#wake(false);
  }
}
