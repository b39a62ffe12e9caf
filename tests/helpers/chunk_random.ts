/** The one seeded PRNG of the tests and benchmarks (mulberry32): reproducible random data. */
export class Random {
  #state: number;

  constructor(seed: number) {
    this.#state = seed >>> 0;
  }

  /** Uniform in [0, 1). */
  next(): number {
    let t = (this.#state = (this.#state + 0x6d2b79f5) >>> 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  /** Integer in [min, max]. */
  int(min: number, max: number): number {
    return min + Math.floor(this.next() * (max - min + 1));
  }

  pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.next() * items.length)];
  }

  chance(probability: number): boolean {
    return this.next() < probability;
  }

  /** Any float64 bit pattern that is not NaN (NaN payloads are not promised to survive JS). */
  float64Bits(): number {
    const words = new Int32Array(2);
    for (;;) {
      words[0] = this.int(0, 0xffffffff) | 0;
      words[1] = this.int(0, 0xffffffff) | 0;
      const value = new Float64Array(words.buffer)[0];
      if (!Number.isNaN(value)) return value;
    }
  }
}
