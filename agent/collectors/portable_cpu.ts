/**
 * `cpu.usage` and `cpu.core_usage{core}` where `/proc` is absent (macOS, Windows), from the
 * per-core times `node:os` reports without spawning anything. Like the Linux collector, the
 * first round emits nothing. `node:os` is imported on first use: on Linux the agent never
 * needs it, and loading Deno's Node compatibility layer costs resident memory.
 */
import { busyPercent, type CpuTimes } from "./cpu.ts";
import type { Collector, Sample } from "./types.ts";

export function cpuTimesOf(
  times: { user: number; nice: number; sys: number; idle: number; irq: number },
): CpuTimes {
  return { total: times.user + times.nice + times.sys + times.idle + times.irq, idle: times.idle };
}

export class PortableCpuCollector implements Collector {
  readonly name = "cpu";
  #previous: CpuTimes[] | undefined;

  async collect(): Promise<Sample[]> {
    const { cpus } = await import("node:os");
    const current = cpus().map((cpu) => cpuTimesOf(cpu.times));
    const previous = this.#previous;
    this.#previous = current;
    if (!previous) return [];
    const samples: Sample[] = [];
    const sum = (list: CpuTimes[]) =>
      list.reduce(
        (all, times) => ({ total: all.total + times.total, idle: all.idle + times.idle }),
        {
          total: 0,
          idle: 0,
        },
      );
    const usage = previous.length === current.length
      ? busyPercent(sum(previous), sum(current))
      : undefined;
    if (usage !== undefined) samples.push({ name: "cpu.usage", value: usage });
    current.forEach((times, core) => {
      const coreUsage = previous[core] && busyPercent(previous[core], times);
      if (coreUsage !== undefined) {
        samples.push({ name: "cpu.core_usage", value: coreUsage, labels: { core: String(core) } });
      }
    });
    return samples;
  }
}
