/**
 * `cpu.usage` and `cpu.core_usage{core}` from the jiffy counters of `/proc/stat`.
 *
 * Usage is the busy share of the jiffies that elapsed between two rounds, so the first round
 * after start emits no CPU usage at all (a single reading only says how busy the CPU has been
 * since boot). A CPU whose counters went backwards (hot-plug) is skipped for that round.
 */
import { ProcFile } from "./_read.ts";
import type { CollectContext, Collector, CollectorOptions, Sample } from "./types.ts";

/** Jiffies of one CPU line, reduced to what usage needs. */
export interface CpuTimes {
  /** All jiffies except guest time (already counted in user and nice). */
  total: number;
  /** idle + iowait. */
  idle: number;
}

export interface ProcStat {
  /** The aggregate `cpu` line. */
  all: CpuTimes;
  /** `cpuN` lines by core number; offline cores are absent. */
  cores: Map<number, CpuTimes>;
}

/**
 * Parses `/proc/stat`; only the `cpu` lines are read. They come first, so reading stops at the
 * first other line: the `intr` line after them runs to thousands of numbers on a large host.
 */
export function parseProcStat(text: string): ProcStat {
  let all: CpuTimes | undefined;
  const cores = new Map<number, CpuTimes>();
  let start = 0;
  while (text.startsWith("cpu", start)) {
    let end = text.indexOf("\n", start);
    if (end === -1) end = text.length;
    const line = text.slice(start, end);
    start = end + 1;
    const fields = line.trim().split(/\s+/);
    // user nice system idle, then iowait irq softirq steal where the kernel has them.
    let total = 0;
    for (let field = 1; field <= 8 && field < fields.length; field++) {
      const jiffies = Number(fields[field]);
      if (!Number.isFinite(jiffies)) total = NaN;
      total += jiffies;
    }
    if (fields.length < 5 || !Number.isFinite(total)) {
      throw new SyntaxError(`Cannot parse /proc/stat: malformed line "${line}"`);
    }
    const times = { total, idle: Number(fields[4]) + (Number(fields[5]) || 0) };
    if (fields[0] === "cpu") all = times;
    else cores.set(Number(fields[0].slice(3)), times);
  }
  if (!all) throw new SyntaxError("Cannot parse /proc/stat: no aggregate cpu line");
  return { all, cores };
}

/** Busy percentage between two readings, or undefined when no time passed or counters reset. */
export function busyPercent(before: CpuTimes, after: CpuTimes): number | undefined {
  const total = after.total - before.total;
  const idle = after.idle - before.idle;
  if (!(total > 0)) return undefined;
  // iowait may decrease slightly on some kernels; clamping keeps the result a percentage.
  return Math.min(100, Math.max(0, ((total - idle) / total) * 100));
}

export class CpuCollector implements Collector {
  readonly name = "cpu";
  readonly #stat: ProcFile;
  #previous: ProcStat | undefined;

  constructor(options: Pick<CollectorOptions, "procRoot">) {
    this.#stat = new ProcFile(`${options.procRoot}/stat`);
  }

  [Symbol.dispose](): void {
    this.#stat.close();
  }

  collect(_context: CollectContext): Sample[] {
    const current = parseProcStat(this.#stat.read());
    const previous = this.#previous;
    this.#previous = current;
    if (!previous) return [];
    const samples: Sample[] = [];
    const usage = busyPercent(previous.all, current.all);
    if (usage !== undefined) samples.push({ name: "cpu.usage", value: usage });
    for (const [core, times] of current.cores) {
      const before = previous.cores.get(core);
      const coreUsage = before && busyPercent(before, times);
      if (coreUsage !== undefined) {
        samples.push({ name: "cpu.core_usage", value: coreUsage, labels: { core: String(core) } });
      }
    }
    return samples;
  }
}
