/**
 * The statistics stored with each chunk (count, min, max, sum), for readers that aggregate
 * chunks without decoding them. Queries do not use the sum: theirs are exact (`BucketStats`).
 */

/**
 * A compensated (Kahan–Babuška–Neumaier) sum, as SQLite's `total()` computes it, so chunk and
 * row engines agree on averages to the last bits instead of drifting with summation order.
 */
export class CompensatedSum {
  #sum = 0;
  #compensation = 0;

  add(x: number): void {
    const t = this.#sum + x;
    if (Math.abs(this.#sum) >= Math.abs(x)) this.#compensation += this.#sum - t + x;
    else this.#compensation += x - t + this.#sum;
    this.#sum = t;
  }

  get value(): number {
    // Past overflow the compensation is ±Infinity or NaN and would turn the sum into NaN.
    return Number.isFinite(this.#sum) ? this.#sum + this.#compensation : this.#sum;
  }
}

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
