/**
 * Runs the server's periodic work (retention cleanup, the alert tick, agent liveness) on one
 * place. Each task receives the injected clock's time; a task that throws is logged and runs
 * again at its next interval; a task never overlaps itself.
 */
import type { Clock } from "../shared/clock.ts";
import type { Logger } from "../shared/log.ts";

export interface PeriodicTask {
  name: string;
  intervalMs: number;
  /** Also run once as soon as the scheduler starts. Default false. */
  runAtStart?: boolean;
  run(nowMs: number): void | Promise<void>;
}

export class Scheduler {
  readonly #clock: Clock;
  readonly #log: Logger;
  readonly #timers: ReturnType<typeof setInterval>[] = [];
  readonly #running = new Set<Promise<void>>();
  #stopped = false;

  constructor(options: { clock: Clock; log: Logger }) {
    this.#clock = options.clock;
    this.#log = options.log;
  }

  add(task: PeriodicTask): void {
    if (this.#stopped) throw new Error(`Cannot schedule ${task.name}: the scheduler is stopped`);
    let busy = false;
    const fire = () => {
      if (busy || this.#stopped) return;
      busy = true;
      const started = performance.now();
      const done = (async () => {
        try {
          await task.run(this.#clock.now());
        } catch (error) {
          this.#log.error("periodic task failed", { task: task.name, error });
        } finally {
          busy = false;
          const ms = performance.now() - started;
          if (ms > task.intervalMs) {
            this.#log.warn("periodic task overran its interval", { task: task.name, ms });
          }
        }
      })();
      this.#running.add(done);
      done.finally(() => this.#running.delete(done));
    };
    this.#timers.push(setInterval(fire, task.intervalMs));
    if (task.runAtStart) fire();
  }

  /** Stops every timer and waits for runs in progress. */
  async stop(): Promise<void> {
    this.#stopped = true;
    for (const timer of this.#timers) clearInterval(timer);
    this.#timers.length = 0;
    await Promise.all([...this.#running]);
  }
}
