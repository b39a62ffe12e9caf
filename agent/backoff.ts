/**
 * Capped exponential backoff with "equal jitter": the n-th consecutive failure waits between
 * half and all of `min(maxMs, baseMs * 2^(n-1))`, so many agents that lost the same server do
 * not come back in lockstep, yet none retries sooner than half the nominal delay.
 */
export interface BackoffOptions {
  /** Delay after the first failure. Default 500 ms. */
  baseMs?: number;
  /** Upper bound of any delay. Default 30,000 ms. */
  maxMs?: number;
  /** Uniform [0, 1) source. Default `Math.random`. */
  random?: () => number;
}

export function backoffDelayMs(failures: number, options: BackoffOptions = {}): number {
  const baseMs = options.baseMs ?? 500;
  const maxMs = options.maxMs ?? 30_000;
  const random = options.random ?? Math.random;
  const exponent = Math.min(Math.max(failures - 1, 0), 30);
  const capped = Math.min(maxMs, baseMs * 2 ** exponent);
  return capped / 2 + random() * (capped / 2);
}
