/** `system.load_*` where `/proc` is absent, from `Deno.loadavg` (Windows has no load average). */
import type { Collector, Sample } from "./types.ts";

export class PortableLoadCollector implements Collector {
  readonly name = "load";

  collect(): Sample[] {
    // Windows always reports [0, 0, 0]; sending that would look like an idle machine.
    if (Deno.build.os === "windows") return [];
    const [load1, load5, load15] = Deno.loadavg();
    return [
      { name: "system.load_1", value: load1 },
      { name: "system.load_5", value: load5 },
      { name: "system.load_15", value: load15 },
    ];
  }
}
