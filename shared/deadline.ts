/**
 * One way to bound how long something may take (denoland/std's `async/deadline` and `delay`),
 * instead of a hand-written `Promise.race` with a timer in every module.
 */

/** The longest delay `setTimeout` honours; a longer one fires at once. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/** Thrown by `deadline` when the time is up. */
export class DeadlineError extends Error {
  constructor(ms: number) {
    super(`Deadline of ${ms} ms exceeded`);
    this.name = "DeadlineError";
  }
}

/** A timer from `startTimer`. */
export interface Timer {
  /** Stops it; `onTime` will not be called. Harmless after it fired. */
  cancel(): void;
}

/**
 * Calls `onTime` once `ms` have passed (at once for 0 or less) unless cancelled first. Delays
 * past 24.8 days wait in steps, as `setTimeout` alone would fire at once. For code that runs
 * every round: no promise and no abort event, which `delay` with its own `AbortController`
 * costs per use.
 */
export function startTimer(ms: number, onTime: () => void): Timer {
  let timer: ReturnType<typeof setTimeout> | undefined;
  let leftMs = Math.max(0, ms);
  const step = () => {
    const stepMs = Math.min(leftMs, MAX_TIMER_MS);
    leftMs -= stepMs;
    timer = setTimeout(leftMs > 0 ? step : onTime, stepMs);
  };
  step();
  return { cancel: () => clearTimeout(timer) };
}

/**
 * Many deadlines on one timer, for work that starts and ends often (the agent's gRPC call every
 * second): a deadline released in time leaves the timer as it is, and the timer is set again only
 * when it fires or an earlier deadline comes. At one call a second with the same timeout that is
 * once per timeout rather than twice per call. Measured with the agent's flags: `startTimer` and
 * `cancel` 2.2–2.6 µs back to back and 14–37 µs once every few milliseconds, as a round calls it;
 * `add` and its release 0.35–0.40 and 3–6 µs. Times are `Date.now()` milliseconds unless `now`
 * says otherwise.
 */
export class DeadlineTimer implements Disposable {
  readonly #now: () => number;
  readonly #pending = new Set<{ atMs: number; onExpire(): void }>();
  #timer: { timer: Timer; atMs: number } | undefined;

  constructor(options: { now?: () => number } = {}) {
    this.#now = options.now ?? Date.now;
  }

  /**
   * Calls `onExpire` once `atMs` has passed, unless the returned function is called first
   * (calling it later is harmless).
   */
  add(atMs: number, onExpire: () => void): () => void {
    const deadline = { atMs, onExpire };
    this.#pending.add(deadline);
    this.#arm(atMs);
    return () => this.#pending.delete(deadline);
  }

  #arm(atMs: number): void {
    if (this.#timer && this.#timer.atMs <= atMs) return;
    this.#timer?.timer.cancel();
    this.#timer = { atMs, timer: startTimer(atMs - this.#now(), () => this.#fire()) };
  }

  #fire(): void {
    this.#timer = undefined;
    const now = this.#now();
    const expired = [];
    let next = Infinity;
    for (const deadline of this.#pending) {
      if (deadline.atMs <= now) expired.push(deadline);
      else next = Math.min(next, deadline.atMs);
    }
    for (const deadline of expired) this.#pending.delete(deadline);
    // Armed before the callbacks run, so one that throws cannot strand the later deadlines.
    if (next !== Infinity) this.#arm(next);
    for (const deadline of expired) deadline.onExpire();
  }

  /** Stops the timer: no pending deadline expires any more. */
  [Symbol.dispose](): void {
    this.#timer?.timer.cancel();
    this.#timer = undefined;
    this.#pending.clear();
  }
}

/**
 * Resolves after `ms` (at once for 0 or less), or rejects with the signal's reason as soon as it
 * aborts. Delays past 24.8 days wait in steps, as `setTimeout` alone would fire at once.
 */
export function delay(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const onAbort = () => {
      timer.cancel();
      reject(signal!.reason);
    };
    const timer = startTimer(ms, () => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    });
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}

export interface DeadlineOptions {
  /** Gives up early with the signal's reason. */
  signal?: AbortSignal;
}

/**
 * Settles like `promise`, or rejects with a `DeadlineError` once `ms` have passed (never for
 * `Infinity`). The timer is cleared either way, so nothing keeps the process alive afterwards.
 * `promise` itself is not cancelled: pass the same signal to it for that.
 */
export function deadline<T>(
  promise: Promise<T>,
  ms: number,
  options: DeadlineOptions = {},
): Promise<T> {
  if (ms === Infinity && !options.signal) return promise;
  const controller = new AbortController();
  const signal = options.signal
    ? AbortSignal.any([controller.signal, options.signal])
    : controller.signal;
  const timeUp = ms === Infinity
    ? new Promise<never>((_, reject) =>
      signal.addEventListener("abort", () => reject(signal.reason), { once: true })
    )
    : delay(ms, signal).then(() => Promise.reject(new DeadlineError(ms)));
  // The losing side's rejection must not surface as unhandled once the winner is known.
  timeUp.catch(() => {});
  return Promise.race([promise, timeUp]).finally(() => controller.abort());
}

/**
 * Waits for `promise` at most `ms`: true when it settled (resolved or rejected) in time, false
 * when the time ran out. For shutdown paths that go on either way.
 */
export async function settlesWithin(promise: Promise<unknown>, ms: number): Promise<boolean> {
  try {
    await deadline(promise.then(() => {}, () => {}), ms);
    return true;
  } catch (error) {
    if (error instanceof DeadlineError) return false;
    throw error;
  }
}
