/** One compensated sum for every engine and query that adds sample values. */

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
