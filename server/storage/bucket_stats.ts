/**
 * Bucket statistics that come out the same whatever order and grouping the samples arrive in:
 * count, min, max and an exact sum. Both engines aggregate with them, and rollup tiers store
 * them, so a bucket built from rollups is identical, bit for bit, to one built from raw samples
 * (a float sum would differ in its last bits between "30 samples, then 12 partial sums" and
 * "360 samples").
 *
 * The sum is defined exactly. Values that are short decimals (at most 9 fractional digits,
 * scaled below 2^50: everything agents send) are added as decimals: an integer `scaled` at the
 * bucket's largest number of digits `digits` (a BigInt once past 2^53). Other values are added
 * exactly in binary, as Shewchuk's non-overlapping partials (Python's `math.fsum`). The sum is
 * the correctly rounded total of the partials and `Number(scaled) / 10^digits`, so 0.1 + 0.2 is
 * 0.3, and sums of integers stay integers.
 *
 * Min and max break the tie between 0 and -0 the same way every time (min takes -0, max 0), and
 * the sum of a bucket of only -0 is -0, as IEEE addition gives.
 */
import { decimalDigits, MAX_DECIMAL_DIGITS, POWERS_OF_TEN as POWERS } from "./_decimal.ts";

const BIG_POWERS = Array.from({ length: MAX_DECIMAL_DIGITS + 1 }, (_, d) => 10n ** BigInt(d));

/**
 * The canonical short-decimal form of `value`: its digits after the point without trailing
 * zeros, and the value times 10^digits, or `undefined` when it is not a short decimal (-0 is
 * not one: it is kept apart so its sign survives).
 */
export function shortDecimal(value: number): { digits: number; scaled: number } | undefined {
  const digits = decimalDigits(value);
  return digits < 0 ? undefined : { digits, scaled: Math.round(value * POWERS[digits]) };
}

/** Adds `x` to Shewchuk partials (ascending magnitude, non-overlapping), exactly. */
function addPartial(partials: number[], x: number): void {
  let kept = 0;
  for (let j = 0; j < partials.length; j++) {
    let y = partials[j];
    if (Math.abs(x) < Math.abs(y)) {
      const t = x;
      x = y;
      y = t;
    }
    const hi = x + y;
    const lo = y - (hi - x);
    if (lo !== 0) partials[kept++] = lo;
    x = hi;
  }
  partials.length = kept;
  partials.push(x);
}

/** The correctly rounded sum of Shewchuk partials (Python's `fsum` final step). */
function roundPartials(partials: readonly number[]): number {
  let n = partials.length;
  if (n === 0) return 0;
  let hi = partials[--n];
  let lo = 0;
  while (n > 0) {
    const x = hi;
    const y = partials[--n];
    hi = x + y;
    lo = y - (hi - x);
    if (lo !== 0) break;
  }
  // Half-way cases: the partials below decide which way to round.
  if (n > 0 && ((lo < 0 && partials[n - 1] < 0) || (lo > 0 && partials[n - 1] > 0))) {
    const y = lo * 2;
    const x = hi + y;
    if (y === x - hi) hi = x;
  }
  return hi;
}

function isSafe(n: number): boolean {
  return n <= Number.MAX_SAFE_INTEGER && n >= -Number.MAX_SAFE_INTEGER;
}

/** Statistics of one bucket (or one rollup interval); see the module comment. */
export class BucketStats {
  count = 0;
  min = 0;
  max = 0;
  /** Fractional digits of the decimal part, -1 before the first decimal value. */
  digits = -1;
  /** Sum of the decimal values times 10^digits: a number while safe, then a BigInt. */
  scaled: number | bigint = 0;
  /** Exact binary sum of the other values (Shewchuk partials). */
  partials: number[] = [];

  /** Adds one sample value (finite). */
  add(value: number): void {
    this.#count(value, value, 1);
    if (value === 0) return;
    const digits = decimalDigits(value);
    if (digits < 0) {
      addPartial(this.partials, value);
      return;
    }
    let scaled = Math.round(value * POWERS[digits]);
    let canonical = digits;
    while (canonical > 0 && scaled % 10 === 0) {
      scaled /= 10;
      canonical--;
    }
    this.addDecimal(scaled, canonical);
  }

  /** Adds a decimal part: `scaled / 10^digits` exactly (any number of digits up to 9). */
  addDecimal(scaled: number | bigint, digits: number): void {
    if (digits > this.digits) this.#rescale(digits);
    const shift = this.digits - digits;
    if (typeof scaled === "number" && typeof this.scaled === "number") {
      const addend = shift === 0 ? scaled : scaled * POWERS[shift];
      const total = this.scaled + addend;
      if (isSafe(addend) && isSafe(total)) {
        this.scaled = total;
        return;
      }
    }
    this.scaled = BigInt(this.scaled) + BigInt(scaled) * BIG_POWERS[shift];
  }

  #rescale(digits: number): void {
    if (this.digits < 0) {
      this.digits = digits;
      return;
    }
    const shift = digits - this.digits;
    this.digits = digits;
    if (this.scaled === 0) return;
    if (typeof this.scaled === "number") {
      const rescaled = this.scaled * POWERS[shift];
      if (isSafe(rescaled)) {
        this.scaled = rescaled;
        return;
      }
    }
    this.scaled = BigInt(this.scaled) * BIG_POWERS[shift];
  }

  #count(min: number, max: number, count: number): void {
    if (this.count === 0) {
      this.min = min;
      this.max = max;
    } else {
      if (min < this.min || (min === 0 && this.min === 0 && Object.is(min, -0))) this.min = min;
      if (max > this.max || (max === 0 && this.max === 0 && Object.is(this.max, -0))) {
        this.max = max;
      }
    }
    this.count += count;
  }

  /** Adds another bucket's statistics (of other samples), exactly. */
  merge(other: BucketStats): void {
    if (other.count === 0) return;
    this.#count(other.min, other.max, other.count);
    if (other.digits >= 0) this.addDecimal(other.scaled, other.digits);
    for (const partial of other.partials) addPartial(this.partials, partial);
  }

  /** The exact sum, rounded once (see the module comment). */
  get sum(): number {
    let total: number;
    const decimal = this.digits < 0 ? 0 : Number(this.scaled) / POWERS[this.digits];
    if (this.partials.length === 0) {
      total = decimal;
    } else {
      const all = [...this.partials];
      if (decimal !== 0) addPartial(all, decimal);
      total = roundPartials(all);
    }
    // Only -0 samples: IEEE addition keeps the sign.
    if (total === 0 && Object.is(this.min, -0) && Object.is(this.max, -0)) return -0;
    return total;
  }

  get avg(): number {
    return this.sum / this.count;
  }

  clone(): BucketStats {
    const copy = new BucketStats();
    copy.count = this.count;
    copy.min = this.min;
    copy.max = this.max;
    copy.digits = this.digits;
    copy.scaled = this.scaled;
    copy.partials = [...this.partials];
    return copy;
  }
}

/** One bucket of a query answer. */
export interface BucketOut {
  timestampMs: number;
  avg: number;
  min: number;
  max: number;
  count: number;
}

/**
 * Buckets of `stepMs` from `originMs`, fed samples or whole intervals in any order (the result
 * does not depend on it); empty buckets are left out of the answer.
 */
export class BucketAccumulator {
  readonly #originMs: number;
  readonly #stepMs: number;
  readonly #buckets = new Map<number, BucketStats>();
  /** The bucket of the previous sample: samples mostly come in runs of one bucket. */
  #lastIndex = NaN;
  #last: BucketStats | undefined;

  constructor(originMs: number, stepMs: number) {
    this.#originMs = originMs;
    this.#stepMs = stepMs;
  }

  indexOf(ts: number): number {
    return Math.floor((ts - this.#originMs) / this.#stepMs);
  }

  #bucket(index: number): BucketStats {
    if (index === this.#lastIndex) return this.#last!;
    let bucket = this.#buckets.get(index);
    if (bucket === undefined) this.#buckets.set(index, bucket = new BucketStats());
    this.#lastIndex = index;
    this.#last = bucket;
    return bucket;
  }

  add(ts: number, value: number): void {
    this.#bucket(this.indexOf(ts)).add(value);
  }

  /** Adds the statistics of an interval that lies inside the bucket of `ts`. */
  addStats(ts: number, stats: BucketStats): void {
    this.#bucket(this.indexOf(ts)).merge(stats);
  }

  get size(): number {
    return this.#buckets.size;
  }

  finish(): BucketOut[] {
    return [...this.#buckets.entries()].sort((a, b) => a[0] - b[0]).map(([index, stats]) => ({
      timestampMs: this.#originMs + index * this.#stepMs,
      avg: stats.avg,
      min: stats.min,
      max: stats.max,
      count: stats.count,
    }));
  }
}
