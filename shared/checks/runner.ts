/**
 * Runs checks on their intervals, at most `maxConcurrent` at once, each bounded by its timeout.
 *
 * Every check has a planned start time that advances by exactly its interval (fixed rate: a
 * slow run does not push later runs back). One timer wakes the runner at the earliest planned
 * time; due checks start at once while slots are free and wait in arrival order otherwise. A
 * run that is still going (or still waiting) when its next one comes due makes that next one a
 * skip, so a hanging target costs one slot for at most its timeout and never piles up runs. The
 * delay from the planned start to the actual one is recorded: that is the scheduling jitter.
 *
 * First runs are spread over up to `spreadMs` by a hash of the name, so a thousand checks with
 * the same interval do not all start in the same millisecond.
 */
import type { Clock } from "../clock.ts";
import { deadline } from "../deadline.ts";
import type { Logger } from "../log.ts";
import type { CheckOutcome, CheckResult, CheckType } from "./spec.ts";
import { CheckTimeoutError, describeProbeError } from "./_errors.ts";

/** One check as the runner sees it: when to run it and how to probe. */
export interface RunnableCheck {
  name: string;
  type: CheckType;
  target: string;
  intervalMs: number;
  timeoutMs: number;
  /** Probes once. It should stop when `signal` aborts; the runner gives up on it then anyway. */
  probe(signal: AbortSignal): Promise<CheckOutcome>;
}

export interface CheckRunnerOptions {
  /** Most runs at once. */
  maxConcurrent: number;
  clock: Clock;
  log: Logger;
  /** Receives every result, scheduled or run by `runNow`. */
  onResult(result: CheckResult): void;
  /** First runs are spread over min(this, the check's interval). Default 60,000 ms. */
  spreadMs?: number;
}

export interface CheckRunnerStats {
  checks: number;
  /** Runs started since `start`. */
  runs: number;
  /** Runs not started because the previous run of the same check was still going or waiting. */
  skipped: number;
  running: number;
  waiting: number;
  /** Delay from planned to actual start over the latest runs (up to 10,000), in ms. */
  delayMs: { p50: number; p99: number; max: number; samples: number };
}

interface Entry {
  check: RunnableCheck;
  plannedMs: number;
  /** Running or waiting for a slot. */
  busy: boolean;
}

const DELAY_SAMPLES = 10_000;

export class CheckRunner {
  readonly #entries: Entry[];
  readonly #byName = new Map<string, Entry>();
  readonly #maxConcurrent: number;
  readonly #clock: Clock;
  readonly #log: Logger;
  readonly #onResult: (result: CheckResult) => void;
  readonly #spreadMs: number;
  readonly #waiting: { entry: Entry; plannedMs: number }[] = [];
  readonly #inFlight = new Set<Promise<unknown>>();
  readonly #stopController = new AbortController();
  readonly #delays = new Float64Array(DELAY_SAMPLES);
  #delayCount = 0;
  #running = 0;
  #runs = 0;
  #skipped = 0;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #started = false;
  #stopped = false;

  constructor(checks: readonly RunnableCheck[], options: CheckRunnerOptions) {
    if (!Number.isInteger(options.maxConcurrent) || options.maxConcurrent < 1) {
      throw new RangeError(
        `Cannot create the check runner: maxConcurrent must be a positive integer, got ${options.maxConcurrent}`,
      );
    }
    this.#maxConcurrent = options.maxConcurrent;
    this.#clock = options.clock;
    this.#log = options.log;
    this.#onResult = options.onResult;
    this.#spreadMs = options.spreadMs ?? 60_000;
    this.#entries = checks.map((check) => {
      if (!(check.intervalMs > 0) || !(check.timeoutMs > 0)) {
        throw new RangeError(
          `Cannot schedule check "${check.name}": interval and timeout must be positive`,
        );
      }
      if (this.#byName.has(check.name)) {
        throw new TypeError(`Cannot schedule check "${check.name}" twice`);
      }
      const entry: Entry = { check, plannedMs: 0, busy: false };
      this.#byName.set(check.name, entry);
      return entry;
    });
  }

  /** Plans every check's first run and starts the timer. */
  start(): void {
    if (this.#started) throw new Error("Cannot start the check runner twice");
    this.#started = true;
    const nowMs = this.#clock.now();
    for (const entry of this.#entries) {
      const spread = Math.min(this.#spreadMs, entry.check.intervalMs);
      entry.plannedMs = nowMs + (spread > 0 ? hashOf(entry.check.name) % spread : 0);
    }
    this.poll();
  }

  /**
   * Starts every run that is due by the clock and sets the timer for the next one. The timer
   * calls it; a test with a manual clock calls it after moving the clock.
   */
  poll(): void {
    if (!this.#started || this.#stopped) return;
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
    const nowMs = this.#clock.now();
    let nextMs = Infinity;
    for (const entry of this.#entries) {
      if (entry.plannedMs <= nowMs) {
        const plannedMs = entry.plannedMs;
        const interval = entry.check.intervalMs;
        // Runs missed while the process was stopped or busy are skipped, not made up.
        const missed = Math.floor((nowMs - plannedMs) / interval);
        entry.plannedMs = plannedMs + (missed + 1) * interval;
        this.#skipped += missed;
        if (entry.busy) this.#skipped++;
        else this.#admit(entry, plannedMs + missed * interval);
      }
      if (entry.plannedMs < nextMs) nextMs = entry.plannedMs;
    }
    if (nextMs !== Infinity) {
      this.#timer = setTimeout(() => this.poll(), Math.max(0, nextMs - this.#clock.now()));
    }
  }

  /**
   * Runs one check at once, outside its schedule and the concurrency cap (an operator asked for
   * it), and hands the result to `onResult` as well. Undefined for an unknown name.
   */
  runNow(name: string): Promise<CheckResult> | undefined {
    const entry = this.#byName.get(name);
    if (!entry || this.#stopped) return undefined;
    return this.#track(this.#run(entry.check));
  }

  /** The checks, in configuration order, with the planned time of each one's next run. */
  schedule(): { name: string; nextRunMs: number; busy: boolean }[] {
    return this.#entries.map((entry) => ({
      name: entry.check.name,
      nextRunMs: entry.plannedMs,
      busy: entry.busy,
    }));
  }

  stats(): CheckRunnerStats {
    const count = Math.min(this.#delayCount, DELAY_SAMPLES);
    const sorted = this.#delays.slice(0, count).sort();
    const at = (q: number) => count === 0 ? 0 : sorted[Math.min(count - 1, Math.floor(q * count))];
    return {
      checks: this.#entries.length,
      runs: this.#runs,
      skipped: this.#skipped,
      running: this.#running,
      waiting: this.#waiting.length,
      delayMs: {
        p50: at(0.5),
        p99: at(0.99),
        max: count === 0 ? 0 : sorted[count - 1],
        samples: count,
      },
    };
  }

  /** Stops the timer, aborts runs in progress and waits for them; waiting runs are dropped. */
  async stop(): Promise<void> {
    this.#stopped = true;
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#waiting.length = 0;
    this.#stopController.abort(new Error("the check runner stopped"));
    await Promise.allSettled([...this.#inFlight]);
  }

  #admit(entry: Entry, plannedMs: number): void {
    entry.busy = true;
    if (this.#running < this.#maxConcurrent) this.#launch(entry, plannedMs);
    else this.#waiting.push({ entry, plannedMs });
  }

  #launch(entry: Entry, plannedMs: number): void {
    this.#running++;
    this.#runs++;
    this.#delays[this.#delayCount++ % DELAY_SAMPLES] = Math.max(0, this.#clock.now() - plannedMs);
    this.#track(this.#run(entry.check)).finally(() => {
      this.#running--;
      entry.busy = false;
      const next = this.#waiting.shift();
      if (next && !this.#stopped) this.#launch(next.entry, next.plannedMs);
    });
  }

  #track<T>(run: Promise<T>): Promise<T> {
    this.#inFlight.add(run);
    run.finally(() => this.#inFlight.delete(run)).catch(() => {});
    return run;
  }

  async #run(check: RunnableCheck): Promise<CheckResult> {
    const timestampMs = this.#clock.now();
    const timeout = new AbortController();
    const signal = AbortSignal.any([timeout.signal, this.#stopController.signal]);
    const timer = setTimeout(
      () => timeout.abort(new CheckTimeoutError(check.timeoutMs)),
      check.timeoutMs,
    );
    const started = performance.now();
    let outcome: CheckOutcome;
    try {
      // The deadline frees the slot even if a probe ignores its signal.
      outcome = await deadline(check.probe(signal), check.timeoutMs + 1_000, { signal });
    } catch (error) {
      outcome = {
        up: false,
        durationMs: performance.now() - started,
        message: describeProbeError(error, signal),
      };
    } finally {
      clearTimeout(timer);
    }
    const result: CheckResult = {
      ...outcome,
      name: check.name,
      type: check.type,
      target: check.target,
      timestampMs,
    };
    if (!this.#stopController.signal.aborted) {
      try {
        this.#onResult(result);
      } catch (error) {
        this.#log.error("check result handler failed", { check: check.name, error });
      }
    }
    return result;
  }
}

/** FNV-1a: a stable spread of first runs across restarts. */
function hashOf(text: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return hash >>> 0;
}
