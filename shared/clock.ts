/**
 * Time as a dependency: alert, silence and retention logic take a `Clock` so tests control time
 * without sleeping.
 */
export interface Clock {
  /** Milliseconds since the Unix epoch. */
  now(): number;
}

export const systemClock: Clock = Object.freeze({ now: () => Date.now() });

/** A clock that moves only when told to. */
export class ManualClock implements Clock {
  #nowMs: number;
  constructor(startMs = 0) {
    this.#nowMs = startMs;
  }
  now(): number {
    return this.#nowMs;
  }
  set(ms: number): void {
    this.#nowMs = ms;
  }
  advance(ms: number): void {
    this.#nowMs += ms;
  }
}
