/**
 * Every collector in one table: name → factories → enabled by default (node_exporter style).
 * The `[collectors]` config table turns entries on or off by these names. On Linux the `/proc`
 * readers are used; where `/proc` is absent (macOS, Windows) the portable set is, which leans
 * on `node:os` and systeminformation.
 */
import { exists } from "./_read.ts";
import { CpuCollector } from "./cpu.ts";
import { DiskIoCollector } from "./disk_io.ts";
import { FilesystemCollector } from "./filesystem.ts";
import { LoadCollector } from "./load.ts";
import { MemoryCollector } from "./memory.ts";
import { NetworkCollector } from "./network.ts";
import { PortableCpuCollector } from "./portable_cpu.ts";
import { PortableFilesystemCollector } from "./portable_filesystem.ts";
import { PortableLoadCollector } from "./portable_load.ts";
import { PortableMemoryCollector } from "./portable_memory.ts";
import { PortableNetworkCollector } from "./portable_network.ts";
import { PortableUptimeCollector } from "./portable_uptime.ts";
import type { Collector, CollectorOptions } from "./types.ts";
import { UptimeCollector } from "./uptime.ts";

export interface CollectorEntry {
  name: string;
  enabledByDefault: boolean;
  linux: (options: CollectorOptions) => Collector;
  /** Absent where no portable source exists (per-device disk I/O). */
  portable?: (options: CollectorOptions) => Collector;
}

export const COLLECTORS: readonly CollectorEntry[] = Object.freeze([
  {
    name: "cpu",
    enabledByDefault: true,
    linux: (options) => new CpuCollector(options),
    portable: () => new PortableCpuCollector(),
  },
  {
    name: "memory",
    enabledByDefault: true,
    linux: (options) => new MemoryCollector(options),
    portable: () => new PortableMemoryCollector(),
  },
  {
    name: "filesystem",
    enabledByDefault: true,
    linux: (options) => new FilesystemCollector(options),
    portable: (options) => new PortableFilesystemCollector(options),
  },
  { name: "disk_io", enabledByDefault: true, linux: (options) => new DiskIoCollector(options) },
  {
    name: "network",
    enabledByDefault: true,
    linux: (options) => new NetworkCollector(options),
    portable: (options) => new PortableNetworkCollector(options),
  },
  {
    name: "load",
    enabledByDefault: true,
    linux: (options) => new LoadCollector(options),
    portable: () => new PortableLoadCollector(),
  },
  {
    name: "uptime",
    enabledByDefault: true,
    linux: (options) => new UptimeCollector(options),
    portable: () => new PortableUptimeCollector(),
  },
]);

export const COLLECTOR_NAMES: readonly string[] = Object.freeze(COLLECTORS.map((c) => c.name));

/** `"linux"` when `<procRoot>/stat` can be read, else `"portable"`. */
export function detectPlatform(procRoot: string): "linux" | "portable" {
  return exists(`${procRoot}/stat`) ? "linux" : "portable";
}

/**
 * Builds the enabled collectors. `enabled` overrides `enabledByDefault` by name; a collector
 * with no source on the platform is left out.
 */
export function createCollectors(
  options: CollectorOptions,
  settings: {
    enabled?: Readonly<Record<string, boolean>>;
    platform?: "linux" | "portable";
  } = {},
): Collector[] {
  const platform = settings.platform ?? detectPlatform(options.procRoot);
  const collectors: Collector[] = [];
  for (const entry of COLLECTORS) {
    if (!(settings.enabled?.[entry.name] ?? entry.enabledByDefault)) continue;
    const factory = platform === "linux" ? entry.linux : entry.portable;
    if (factory) collectors.push(factory(options));
  }
  return collectors;
}
