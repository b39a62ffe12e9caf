/** `system.uptime` where `/proc` is absent, from `Deno.osUptime`. */
import type { Collector, Sample } from "./types.ts";

export class PortableUptimeCollector implements Collector {
  readonly name = "uptime";

  collect(): Sample[] {
    return [{ name: "system.uptime", value: Deno.osUptime() }];
  }
}
