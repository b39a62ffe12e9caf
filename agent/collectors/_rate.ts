/**
 * Turns monotonically increasing counters into per-second rates over the measured time between
 * rounds. A key seen for the first time, or whose counter went backwards (reboot of a device,
 * 32-bit wrap, driver reset), yields no rate for that round instead of a fake 0 or a huge spike.
 */
export class RateTracker {
  /** Last value of each key, and the round it was observed in (entries are updated in place). */
  #previous = new Map<string, { value: number; atMs: number; round: number }>();
  #round = 0;

  /** Records `value` for `key` at `atMs`; returns the rate per second, or undefined. */
  observe(key: string, value: number, atMs: number): number | undefined {
    const previous = this.#previous.get(key);
    if (!previous) {
      this.#previous.set(key, { value, atMs, round: this.#round });
      return undefined;
    }
    const elapsedMs = atMs - previous.atMs;
    const rate = elapsedMs > 0 && value >= previous.value
      ? ((value - previous.value) * 1000) / elapsedMs
      : undefined;
    previous.value = value;
    previous.atMs = atMs;
    previous.round = this.#round;
    return rate;
  }

  /**
   * Forgets keys not observed since the last call, so a device that disappears does not keep
   * memory and, when it returns, starts over with no rate.
   */
  endRound(): void {
    for (const [key, entry] of this.#previous) {
      if (entry.round !== this.#round) this.#previous.delete(key);
    }
    this.#round++;
  }
}
