/**
 * Every collector in one table: name → factories → enabled by default (node_exporter style).
 * The `[collectors]` config table turns entries on or off by these names. On Linux the `/proc`
 * readers are used; where `/proc` is absent (macOS, Windows) the portable set is, which leans
 * on `node:os` and systeminformation. The portable modules load in their first round: a Linux
 * agent never runs them, and every module an agent loads stays resident (with the checks
 * modules, 0.8 MB of a Linux agent's memory, measured).
 */
import { exists } from "./_read.ts";
import { CpuCollector } from "./cpu.ts";
import { DiskIoCollector } from "./disk_io.ts";
import { FilesystemCollector } from "./filesystem.ts";
import { LoadCollector } from "./load.ts";
import { MemoryCollector } from "./memory.ts";
import { NetworkCollector } from "./network.ts";
import type { CollectContext, Collector, CollectorOptions, Sample } from "./types.ts";
import { UptimeCollector } from "./uptime.ts";

export interface CollectorEntry {
  name: string;
  enabledByDefault: boolean;
  linux: (options: CollectorOptions) => Collector;
  /** Loads the portable one; absent where no portable source exists (per-device disk I/O). */
  portable?: (options: CollectorOptions) => Promise<Collector>;
}

export const COLLECTORS: readonly CollectorEntry[] = Object.freeze([
  {
    name: "cpu",
    enabledByDefault: true,
    linux: (options) => new CpuCollector(options),
    portable: async () => new (await import("./portable_cpu.ts")).PortableCpuCollector(),
  },
  {
    name: "memory",
    enabledByDefault: true,
    linux: (options) => new MemoryCollector(options),
    portable: async () => new (await import("./portable_memory.ts")).PortableMemoryCollector(),
  },
  {
    name: "filesystem",
    enabledByDefault: true,
    linux: (options) => new FilesystemCollector(options),
    portable: async (options) =>
      new (await import("./portable_filesystem.ts")).PortableFilesystemCollector(options),
  },
  { name: "disk_io", enabledByDefault: true, linux: (options) => new DiskIoCollector(options) },
  {
    name: "network",
    enabledByDefault: true,
    linux: (options) => new NetworkCollector(options),
    portable: async (options) =>
      new (await import("./portable_network.ts")).PortableNetworkCollector(options),
  },
  {
    name: "load",
    enabledByDefault: true,
    linux: (options) => new LoadCollector(options),
    portable: async () => new (await import("./portable_load.ts")).PortableLoadCollector(),
  },
  {
    name: "uptime",
    enabledByDefault: true,
    linux: (options) => new UptimeCollector(options),
    portable: async () => new (await import("./portable_uptime.ts")).PortableUptimeCollector(),
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
    if (platform === "linux") collectors.push(entry.linux(options));
    else if (entry.portable) {
      const load = entry.portable;
      collectors.push(new LazyCollector(entry.name, () => load(options)));
    }
  }
  return collectors;
}

/** A collector loaded by its first round; a failed load is tried again the next round. */
class LazyCollector implements Collector {
  readonly name: string;
  readonly #load: () => Promise<Collector>;
  #loading: Promise<Collector> | undefined;
  #loaded: Collector | undefined;

  constructor(name: string, load: () => Promise<Collector>) {
    this.name = name;
    this.#load = load;
  }

  collect(context: CollectContext): Sample[] | Promise<Sample[]> {
    if (this.#loaded) return this.#loaded.collect(context);
    this.#loading ??= this.#load().then(
      (collector) => this.#loaded = collector,
      (error) => {
        this.#loading = undefined;
        throw error;
      },
    );
    return this.#loading.then((collector) => collector.collect(context));
  }

  [Symbol.dispose](): void {
    this.#loaded?.[Symbol.dispose]?.();
  }
}
