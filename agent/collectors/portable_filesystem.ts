/** `disk.*{mount}` space where `/proc` is absent, through systeminformation (it runs `df`). */
import { compileFilter } from "../../shared/glob.ts";
import type { Collector, CollectorOptions, Sample } from "./types.ts";
import { systeminformation } from "./systeminformation.ts";

export class PortableFilesystemCollector implements Collector {
  readonly name = "filesystem";
  readonly #fsTypesExclude: Set<string>;
  readonly #mountFilter: (mountPoint: string) => boolean;

  constructor(options: Pick<CollectorOptions, "mounts" | "fsTypesExclude">) {
    this.#fsTypesExclude = new Set(options.fsTypesExclude);
    this.#mountFilter = compileFilter(options.mounts.include, options.mounts.exclude);
  }

  async collect(): Promise<Sample[]> {
    const samples: Sample[] = [];
    const devices = new Set<string>();
    for (const fs of await (await systeminformation()).fsSize()) {
      if (this.#fsTypesExclude.has(fs.type) || !this.#mountFilter(fs.mount)) continue;
      if (devices.has(fs.fs) || !(fs.size > 0)) continue;
      devices.add(fs.fs);
      const labels = { mount: fs.mount };
      const usable = fs.used + fs.available;
      samples.push(
        { name: "disk.total", value: fs.size, labels },
        { name: "disk.used", value: fs.used, labels },
        { name: "disk.available", value: fs.available, labels },
        { name: "disk.used_percent", value: usable > 0 ? (fs.used / usable) * 100 : 0, labels },
      );
    }
    return samples;
  }
}
