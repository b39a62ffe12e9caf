/** `system.uptime` from `/proc/uptime`. */
import { ProcFile } from "./_read.ts";
import type { Collector, CollectorOptions, Sample } from "./types.ts";

/** Parses `/proc/uptime` (`uptime_secs idle_secs`) into seconds since boot. */
export function parseUptime(text: string): number {
  const match = /^\s*(\d+(?:\.\d+)?)\s/.exec(text + " ");
  if (!match) throw new SyntaxError(`Cannot parse /proc/uptime: got "${text.trim()}"`);
  return Number(match[1]);
}

export class UptimeCollector implements Collector {
  readonly name = "uptime";
  readonly #uptime: ProcFile;

  constructor(options: Pick<CollectorOptions, "procRoot">) {
    this.#uptime = new ProcFile(`${options.procRoot}/uptime`);
  }

  [Symbol.dispose](): void {
    this.#uptime.close();
  }

  collect(): Sample[] {
    return [{ name: "system.uptime", value: parseUptime(this.#uptime.read()) }];
  }
}
