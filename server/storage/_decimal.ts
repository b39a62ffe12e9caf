/**
 * Short decimals: values written exactly by at most 9 fractional digits, scaled below 2^50
 * (everything agents send). The chunk codecs store them as scaled integers, and bucket
 * statistics add them as decimals, so a sum of 0.1 and 0.2 is 0.3.
 */

/** More fractional digits than any metric needs; beyond it a value counts as binary. */
export const MAX_DECIMAL_DIGITS = 9;
/** Scaled integers stay below 2^50 so their delta-of-deltas (4×) stay exact doubles. */
export const MAX_SCALED = 2 ** 50;
/** 10^0 to 10^18: a sum may carry twice the digits of its values. */
export const POWERS_OF_TEN = Array.from({ length: 2 * MAX_DECIMAL_DIGITS + 1 }, (_, d) => 10 ** d);

/** Fewest fractional digits that write `value` exactly, or -1 (-0 is not a short decimal). */
export function decimalDigits(value: number): number {
  if (Number.isInteger(value)) {
    return Math.abs(value) <= MAX_SCALED && !Object.is(value, -0) ? 0 : -1;
  }
  const magnitude = Math.abs(value);
  for (let d = 1; d <= MAX_DECIMAL_DIGITS; d++) {
    const power = POWERS_OF_TEN[d];
    if (magnitude * power > MAX_SCALED) return -1;
    if (Math.round(value * power) / power === value) return d;
  }
  return -1;
}

function gcd(a: number, b: number): number {
  while (b !== 0) {
    const r = a % b;
    a = b;
    b = r;
  }
  return a;
}

/**
 * Writes `values` times 10^digits into `scaled`, at the largest number of digits among them, and
 * returns those digits and the greatest common divisor of consecutive differences (1 when there
 * is none); `undefined` when a value is not a short decimal. Each scaled value divided by
 * 10^digits gives the value back exactly, as the decoders compute it.
 */
export function scaleDecimals(
  values: ArrayLike<number>,
  count: number,
  scaled: { [index: number]: number },
): { digits: number; factor: number } | undefined {
  let digits = 0;
  for (let i = 0; i < count; i++) {
    const d = decimalDigits(values[i]);
    if (d < 0) return undefined;
    if (d > digits) digits = d;
  }
  const power = POWERS_OF_TEN[digits];
  let factor = 0;
  for (let i = 0; i < count; i++) {
    const m = Math.round(values[i] * power);
    if (Math.abs(m) > MAX_SCALED || m / power !== values[i]) return undefined;
    scaled[i] = m;
    if (i > 0 && factor !== 1) factor = gcd(factor, Math.abs(m - scaled[i - 1]));
  }
  return { digits, factor: factor === 0 ? 1 : factor };
}
