/**
 * SIGINT/SIGTERM handling shared by the two programs. The first signal asks for a graceful stop.
 * One keystroke or one `kill -TERM -- -PGID` can reach a program more than once: the terminal
 * signals the whole process group, and `deno task` or the demo forwards the signal again a few
 * milliseconds later. Repeats within `repeatWindowMs` are therefore the same request; a signal
 * after that means the operator will not wait for the graceful stop.
 */

/** Longer than any forwarding delay, shorter than a person pressing Ctrl-C again on purpose. */
export const REPEAT_WINDOW_MS = 1_000;

export interface StopSignalOptions {
  /** Called once, on the first signal. */
  onStop(signal: Deno.Signal): void;
  /** Called on a signal that arrives `repeatWindowMs` or more after the first. */
  onForce?(signal: Deno.Signal): void;
  /** Called for a signal ignored as a repeat of the first. */
  onRepeat?(signal: Deno.Signal): void;
  /** Default `REPEAT_WINDOW_MS`. */
  repeatWindowMs?: number;
  /** Default `Date.now`. */
  now?: () => number;
}

/** The signals a program can listen for here: Windows has no SIGTERM listener. */
export function stopSignals(os: string = Deno.build.os): Deno.Signal[] {
  return os === "windows" ? ["SIGINT"] : ["SIGINT", "SIGTERM"];
}

/** A handler applying the repeat rule; separate from the listeners so it is testable. */
export function stopSignalHandler(options: StopSignalOptions): (signal: Deno.Signal) => void {
  const window = options.repeatWindowMs ?? REPEAT_WINDOW_MS;
  const now = options.now ?? Date.now;
  let firstAt: number | undefined;
  return (signal) => {
    const at = now();
    if (firstAt === undefined) {
      firstAt = at;
      options.onStop(signal);
    } else if (at - firstAt < window) {
      options.onRepeat?.(signal);
    } else {
      options.onForce?.(signal);
    }
  };
}

/**
 * Listens for the stop signals until the process exits. Returns `stopped`, to call once the
 * program has stopped: a signal after that is passed to `onRepeat` only, neither stopping nor
 * forcing anything.
 *
 * The listeners are never removed. Without one, the default action applies again: a signal that
 * arrives while the program exits — the demo's or `deno task`'s forwarded copy, a beat late on a
 * loaded machine — kills it with 130 or 143 after a clean stop. For programs that end with
 * `Deno.exit()` (a listener does not keep a process alive).
 */
export function onStopSignals(options: StopSignalOptions): () => void {
  const handle = stopSignalHandler(options);
  let stopped = false;
  for (const signal of stopSignals()) {
    Deno.addSignalListener(signal, () => {
      if (stopped) options.onRepeat?.(signal);
      else handle(signal);
    });
  }
  return () => {
    stopped = true;
  };
}
