/** Chunk statistics and bucket aggregation shared by sealing, merging and queries. */
import type { Bucket } from "../types.ts";

import { CompensatedSum } from "../compensated_sum.ts";

export { CompensatedSum };

export interface ChunkStats {
  min: number;
  max: number;
  sum: number;
}

export function chunkStats(values: ArrayLike<number>, count = values.length): ChunkStats {
  let min = values[0];
  let max = values[0];
  const sum = new CompensatedSum();
  for (let i = 0; i < count; i++) {
    const value = values[i];
    if (value < min) min = value;
    if (value > max) max = value;
    sum.add(value);
  }
  return { min, max, sum: sum.value };
}

/** Builds ascending buckets of `stepMs` from `originMs` out of ascending samples or chunks. */
export class BucketAccumulator {
  readonly buckets: Bucket[] = [];
  readonly #originMs: number;
  readonly #stepMs: number;
  #index = -1;
  #sum = new CompensatedSum();
  #min = 0;
  #max = 0;
  #count = 0;

  constructor(originMs: number, stepMs: number) {
    this.#originMs = originMs;
    this.#stepMs = stepMs;
  }

  indexOf(ts: number): number {
    return Math.floor((ts - this.#originMs) / this.#stepMs);
  }

  #moveTo(index: number): void {
    if (index === this.#index) return;
    this.#flush();
    this.#index = index;
    this.#sum = new CompensatedSum();
    this.#count = 0;
  }

  add(ts: number, value: number): void {
    this.#moveTo(this.indexOf(ts));
    if (this.#count === 0 || value < this.#min) this.#min = value;
    if (this.#count === 0 || value > this.#max) this.#max = value;
    this.#sum.add(value);
    this.#count++;
  }

  /** Adds a whole chunk that lies inside bucket `index`, from its stored statistics. */
  addChunk(index: number, count: number, stats: ChunkStats): void {
    this.#moveTo(index);
    if (this.#count === 0 || stats.min < this.#min) this.#min = stats.min;
    if (this.#count === 0 || stats.max > this.#max) this.#max = stats.max;
    this.#sum.add(stats.sum);
    this.#count += count;
  }

  #flush(): void {
    if (this.#count === 0) return;
    this.buckets.push({
      timestampMs: this.#originMs + this.#index * this.#stepMs,
      avg: this.#sum.value / this.#count,
      min: this.#min,
      max: this.#max,
      count: this.#count,
    });
    this.#count = 0;
  }

  finish(): Bucket[] {
    this.#flush();
    return this.buckets;
  }
}
