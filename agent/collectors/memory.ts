/** `memory.*` from `/proc/meminfo`. */
import { ProcFile } from "./_read.ts";
import type { Collector, CollectorOptions, Sample } from "./types.ts";

const MEMINFO_LINE = /^([\w()]+):\s+(\d+)(?:\s+kB)?\s*$/;

/** One `Name:   123 kB` line as bytes (the kernel writes "kB" but means KiB), or undefined. */
function parseLine(line: string): [string, number] | undefined {
  const match = MEMINFO_LINE.exec(line);
  if (!match) return undefined;
  return [match[1], Number(match[2]) * (line.trimEnd().endsWith("kB") ? 1024 : 1)];
}

/**
 * `/proc/meminfo` as bytes by field name (`MemTotal`, `SwapFree`, …): every field, or with
 * `names` only those (found by name rather than by matching all fifty-odd lines: what a
 * collection round reads, so it stays cheap).
 */
export function parseMeminfo(text: string, names?: readonly string[]): Map<string, number> {
  const fields = new Map<string, number>();
  if (!names) {
    for (const line of text.split("\n")) {
      const field = parseLine(line);
      if (field) fields.set(field[0], field[1]);
    }
    return fields;
  }
  for (let i = 0; i < names.length; i++) {
    const prefix = `${names[i]}:`;
    let start = 0;
    if (!text.startsWith(prefix)) {
      const newline = text.indexOf(`\n${prefix}`);
      if (newline === -1) continue;
      start = newline + 1;
    }
    const end = text.indexOf("\n", start);
    const field = parseLine(text.slice(start, end === -1 ? text.length : end));
    if (field) fields.set(field[0], field[1]);
  }
  return fields;
}

/** The fields `memorySamples` reads. */
export const MEMINFO_FIELDS: readonly string[] = Object.freeze([
  "MemTotal",
  "MemAvailable",
  "MemFree",
  "Buffers",
  "Cached",
  "SwapTotal",
  "SwapFree",
]);

/** The `memory.*` samples for parsed meminfo fields. */
export function memorySamples(fields: Map<string, number>): Sample[] {
  const total = fields.get("MemTotal");
  if (total === undefined) {
    throw new SyntaxError("Cannot read memory: /proc/meminfo has no MemTotal");
  }
  // MemAvailable exists since Linux 3.14; before that, free + buffers + page cache is the
  // customary estimate.
  const available = fields.get("MemAvailable") ??
    (fields.get("MemFree") ?? 0) + (fields.get("Buffers") ?? 0) + (fields.get("Cached") ?? 0);
  const used = Math.max(0, total - available);
  const swapTotal = fields.get("SwapTotal") ?? 0;
  const swapUsed = Math.max(0, swapTotal - (fields.get("SwapFree") ?? 0));
  return [
    { name: "memory.total", value: total },
    { name: "memory.used", value: used },
    { name: "memory.available", value: available },
    { name: "memory.used_percent", value: total > 0 ? (used / total) * 100 : 0 },
    { name: "memory.swap_total", value: swapTotal },
    { name: "memory.swap_used", value: swapUsed },
    // Without swap, none of it is in use: 0 rather than a missing or NaN value.
    { name: "memory.swap_percent", value: swapTotal > 0 ? (swapUsed / swapTotal) * 100 : 0 },
  ];
}

export class MemoryCollector implements Collector {
  readonly name = "memory";
  readonly #meminfo: ProcFile;

  constructor(options: Pick<CollectorOptions, "procRoot">) {
    this.#meminfo = new ProcFile(`${options.procRoot}/meminfo`);
  }

  [Symbol.dispose](): void {
    this.#meminfo.close();
  }

  collect(): Sample[] {
    return memorySamples(parseMeminfo(this.#meminfo.read(), MEMINFO_FIELDS));
  }
}
