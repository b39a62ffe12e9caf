/**
 * The one-time `SystemInfo` sent with the first batch after start. On Linux it comes from
 * `node:os`, `/etc/os-release` and `statfs` — no child process; elsewhere systeminformation
 * fills in the OS name and disk sizes.
 */
import { statfsSync } from "node:fs";
import { arch, cpus, hostname, release, totalmem, type } from "node:os";
import type { SystemInfo } from "../shared/types.ts";
import { readText } from "./collectors/_read.ts";
import type { MountEntry } from "./collectors/filesystem.ts";
import { systeminformation } from "./collectors/_si.ts";

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

/** Node's architecture names mapped to the ones the original (Rust) agent reports. */
export function rustArch(nodeArch: string): string {
  return ({
    x64: "x86_64",
    arm64: "aarch64",
    ia32: "x86",
    arm: "arm",
    ppc64: "powerpc64",
  } as Record<
    string,
    string
  >)[nodeArch] ?? nodeArch;
}

const round2 = (value: number) => Math.round(value * 100) / 100;

/** SystemInfo on Linux; `filesystems` are the mounts the filesystem collector reports. */
export function linuxSystemInfo(options: {
  filesystems: readonly MountEntry[];
  osReleasePaths?: readonly string[];
}): SystemInfo {
  let osRelease = new Map<string, string>();
  for (const path of options.osReleasePaths ?? ["/etc/os-release", "/usr/lib/os-release"]) {
    try {
      osRelease = parseOsRelease(readText(path));
      break;
    } catch {
      // Try the next location; a minimal container may have none.
    }
  }
  let diskBytes = 0;
  for (const mount of options.filesystems) {
    try {
      const stats = statfsSync(mount.mountPoint);
      diskBytes += stats.blocks * stats.bsize;
    } catch {
      // A mount we may not read adds nothing.
    }
  }
  return {
    hostname: hostname(),
    os: osRelease.get("NAME") ?? type(),
    osVersion: osRelease.get("VERSION_ID") ?? "",
    arch: rustArch(arch()),
    kernelVersion: release(),
    cpuCores: cpus().length,
    memoryGb: round2(totalmem() / GIB),
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
    hostname: hostname(),
    os: osInfo.distro || type(),
    osVersion: osInfo.release,
    arch: rustArch(arch()),
    kernelVersion: osInfo.kernel || release(),
    cpuCores: cpus().length,
    memoryGb: round2(totalmem() / GIB),
    diskGb: round2(diskBytes / GIB),
  };
}
