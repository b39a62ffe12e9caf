/**
 * Turns monotonically increasing counters into per-second rates over the measured time between
 * rounds. A key seen for the first time, or whose counter went backwards (reboot of a device,
 * 32-bit wrap, driver reset), yields no rate for that round instead of a fake 0 or a huge spike.
 */
export class RateTracker {
  #previous = new Map<string, { value: number; atMs: number }>();
  #seen = new Set<string>();

  /** Records `value` for `key` at `atMs`; returns the rate per second, or undefined. */
  observe(key: string, value: number, atMs: number): number | undefined {
    this.#seen.add(key);
    const previous = this.#previous.get(key);
    this.#previous.set(key, { value, atMs });
    if (!previous) return undefined;
    const elapsedMs = atMs - previous.atMs;
    if (!(elapsedMs > 0) || value < previous.value) return undefined;
    return ((value - previous.value) * 1000) / elapsedMs;
  }

  /**
   * Forgets keys not observed since the last call, so a device that disappears does not keep
   * memory and, when it returns, starts over with no rate.
   */
  endRound(): void {
    for (const key of this.#previous.keys()) {
      if (!this.#seen.has(key)) this.#previous.delete(key);
    }
    this.#seen.clear();
  }
}
