/** `system.uptime` where `/proc` is absent, from `node:os`. */
import { uptime } from "node:os";
import type { Collector, Sample } from "./types.ts";

export class PortableUptimeCollector implements Collector {
  readonly name = "uptime";

  collect(): Sample[] {
    return [{ name: "system.uptime", value: uptime() }];
  }
}
