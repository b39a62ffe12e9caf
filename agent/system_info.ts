/**
 * The one-time `SystemInfo` sent with the first batch after start. On Linux it comes from
 * `Deno.*` calls, `/etc/os-release`, `/proc/stat` and `statfs` — no child process and no
 * `node:os` (which would load Deno's Node compatibility layer, megabytes of resident memory);
 * elsewhere systeminformation fills in the OS name and disk sizes.
 *
 * `arch` is `Deno.build.arch`, which already uses the names of the original (Rust) agent:
 * `x86_64`, `aarch64`.
 */
import type { SystemInfo } from "../shared/types.ts";
import type { MountEntry } from "./collectors/filesystem.ts";
import type { Statfs } from "./collectors/statfs.ts";
import { systeminformation } from "./collectors/systeminformation.ts";

const GIB = 1024 ** 3;

/** `KEY=value` pairs of os-release(5), quotes removed. */
export function parseOsRelease(text: string): Map<string, string> {
  const fields = new Map<string, string>();
  for (const line of text.split("\n")) {
    const match = /^([A-Z0-9_]+)=(.*)$/.exec(line.trim());
    if (!match) continue;
    let value = match[2];
    const quote = value[0];
    if ((quote === '"' || quote === "'") && value.endsWith(quote) && value.length >= 2) {
      value = value.slice(1, -1).replace(/\\(["'$`\\])/g, "$1");
    }
    fields.set(match[1], value);
  }
  return fields;
}

/** Logical CPUs in `/proc/stat` (one `cpuN` line each); 0 when it cannot be read. */
export function countCpus(procStat: string): number {
  return procStat.match(/^cpu\d+ /gm)?.length ?? 0;
}

/** The host's online CPUs as `/proc/stat` lists them, else as Deno reports them. */
function linuxCpuCores(procRoot: string): number {
  try {
    const cores = countCpus(Deno.readTextFileSync(`${procRoot}/stat`));
    if (cores > 0) return cores;
  } catch {
    // Fall back below.
  }
  return navigator.hardwareConcurrency;
}

const round2 = (value: number) => Math.round(value * 100) / 100;

/** SystemInfo on Linux; `filesystems` are the mounts the filesystem collector reports. */
export function linuxSystemInfo(options: {
  filesystems: readonly MountEntry[];
  statfs: Statfs;
  /** Default `/proc`. */
  procRoot?: string;
  osReleasePaths?: readonly string[];
}): SystemInfo {
  let osRelease = new Map<string, string>();
  for (const path of options.osReleasePaths ?? ["/etc/os-release", "/usr/lib/os-release"]) {
    try {
      osRelease = parseOsRelease(Deno.readTextFileSync(path));
      break;
    } catch {
      // Try the next location; a minimal container may have none.
    }
  }
  let diskBytes = 0;
  for (const mount of options.filesystems) {
    try {
      const stats = options.statfs(mount.mountPoint);
      diskBytes += stats.blocks * stats.bsize;
    } catch {
      // A mount we may not read adds nothing.
    }
  }
  return {
    hostname: Deno.hostname(),
    os: osRelease.get("NAME") ?? "Linux",
    osVersion: osRelease.get("VERSION_ID") ?? "",
    arch: Deno.build.arch,
    kernelVersion: Deno.osRelease(),
    cpuCores: linuxCpuCores(options.procRoot ?? "/proc"),
    memoryGb: round2(Deno.systemMemoryInfo().total / GIB),
    diskGb: round2(diskBytes / GIB),
  };
}

/** SystemInfo where `/proc` is absent; systeminformation may spawn a few processes, once. */
export async function portableSystemInfo(): Promise<SystemInfo> {
  const [osInfo, fsSizes] = await systeminformation().then((si) =>
    Promise.all([si.osInfo(), si.fsSize()])
  );
  const seen = new Set<string>();
  let diskBytes = 0;
  for (const fs of fsSizes) {
    if (seen.has(fs.fs)) continue;
    seen.add(fs.fs);
    diskBytes += fs.size;
  }
  return {
    hostname: Deno.hostname(),
    os: osInfo.distro || osInfo.platform,
    osVersion: osInfo.release,
    arch: Deno.build.arch,
    kernelVersion: osInfo.kernel || Deno.osRelease(),
    cpuCores: navigator.hardwareConcurrency,
    memoryGb: round2(Deno.systemMemoryInfo().total / GIB),
    diskGb: round2(diskBytes / GIB),
  };
}
