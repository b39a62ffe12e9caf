/**
 * Gathers the samples that checks produce one run at a time and commits them together every
 * `flushMs` (or once `maxPoints` are waiting), so a thousand checks a minute cost a few storage
 * transactions per second rather than one each. `close` commits what is left.
 */
import type { Logger } from "../../shared/log.ts";
import type { MetricDataPoint } from "../../shared/types.ts";

export interface PointBatcherOptions {
  commit(points: MetricDataPoint[]): void;
  log: Logger;
  /** Default 250 ms. */
  flushMs?: number;
  /** Default 5,000. */
  maxPoints?: number;
}

export class PointBatcher {
  readonly #options: PointBatcherOptions;
  readonly #flushMs: number;
  readonly #maxPoints: number;
  #pending: MetricDataPoint[] = [];
  #timer: ReturnType<typeof setTimeout> | undefined;
  #closed = false;

  constructor(options: PointBatcherOptions) {
    this.#options = options;
    this.#flushMs = options.flushMs ?? 250;
    this.#maxPoints = options.maxPoints ?? 5_000;
  }

  add(points: readonly MetricDataPoint[]): void {
    if (this.#closed) return;
    for (const point of points) this.#pending.push(point);
    if (this.#pending.length >= this.#maxPoints) this.flush();
    else this.#timer ??= setTimeout(() => this.flush(), this.#flushMs);
  }

  /** Commits everything waiting now. A failed commit is logged and its points dropped. */
  flush(): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
    if (this.#pending.length === 0) return;
    const points = this.#pending;
    this.#pending = [];
    try {
      this.#options.commit(points);
    } catch (error) {
      this.#options.log.error("cannot store check results", { points: points.length, error });
    }
  }

  close(): void {
    this.flush();
    this.#closed = true;
  }
}
