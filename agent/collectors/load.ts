/** `system.load_1/5/15` from `/proc/loadavg`. */
import { ProcFile } from "./_read.ts";
import type { Collector, CollectorOptions, Sample } from "./types.ts";

export interface LoadAverage {
  load1: number;
  load5: number;
  load15: number;
  /** Runnable scheduling entities. */
  running: number;
  /** All scheduling entities (threads). */
  total: number;
  /** The PID most recently allocated on the system. */
  lastPid: number;
}

/** Parses `/proc/loadavg`, e.g. `0.00 0.05 0.03 1/94 5740`. */
export function parseLoadavg(text: string): LoadAverage {
  const match = /^\s*([\d.]+)\s+([\d.]+)\s+([\d.]+)\s+(\d+)\/(\d+)\s+(\d+)/.exec(text);
  if (!match) throw new SyntaxError(`Cannot parse /proc/loadavg: got "${text.trim()}"`);
  const [load1, load5, load15, running, total, lastPid] = match.slice(1).map(Number);
  return { load1, load5, load15, running, total, lastPid };
}

export class LoadCollector implements Collector {
  readonly name = "load";
  readonly #loadavg: ProcFile;

  constructor(options: Pick<CollectorOptions, "procRoot">) {
    this.#loadavg = new ProcFile(`${options.procRoot}/loadavg`);
  }

  [Symbol.dispose](): void {
    this.#loadavg.close();
  }

  collect(): Sample[] {
    const load = parseLoadavg(this.#loadavg.read());
    return [
      { name: "system.load_1", value: load.load1 },
      { name: "system.load_5", value: load.load5 },
      { name: "system.load_15", value: load.load15 },
    ];
  }
}
