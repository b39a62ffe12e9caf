/** `memory.*` where `/proc` is absent, through systeminformation. */
import type { Collector, Sample } from "./types.ts";
import { systeminformation } from "./systeminformation.ts";

export class PortableMemoryCollector implements Collector {
  readonly name = "memory";

  async collect(): Promise<Sample[]> {
    const memory = await (await systeminformation()).mem();
    const used = Math.max(0, memory.total - memory.available);
    return [
      { name: "memory.total", value: memory.total },
      { name: "memory.used", value: used },
      { name: "memory.available", value: memory.available },
      { name: "memory.used_percent", value: memory.total > 0 ? (used / memory.total) * 100 : 0 },
      { name: "memory.swap_total", value: memory.swaptotal },
      { name: "memory.swap_used", value: memory.swapused },
      {
        name: "memory.swap_percent",
        value: memory.swaptotal > 0 ? (memory.swapused / memory.swaptotal) * 100 : 0,
      },
    ];
  }
}
