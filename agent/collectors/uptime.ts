/** `system.uptime` from `/proc/uptime`. */
import { readText } from "./_read.ts";
import type { Collector, CollectorOptions, Sample } from "./types.ts";

/** Parses `/proc/uptime` (`uptime_secs idle_secs`) into seconds since boot. */
export function parseUptime(text: string): number {
  const match = /^\s*(\d+(?:\.\d+)?)\s/.exec(text + " ");
  if (!match) throw new SyntaxError(`Cannot parse /proc/uptime: got "${text.trim()}"`);
  return Number(match[1]);
}

export class UptimeCollector implements Collector {
  readonly name = "uptime";
  readonly #path: string;

  constructor(options: Pick<CollectorOptions, "procRoot">) {
    this.#path = `${options.procRoot}/uptime`;
  }

  collect(): Sample[] {
    return [{ name: "system.uptime", value: parseUptime(readText(this.#path)) }];
  }
}
