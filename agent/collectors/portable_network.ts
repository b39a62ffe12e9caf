/**
 * `network.bytes_recv/sent{interface}` where `/proc` is absent, through systeminformation.
 * It reports no packet counters, so `network.packets_*` are Linux-only.
 */
import { compileFilter } from "../../shared/glob.ts";
import { RateTracker } from "./_rate.ts";
import { networkRates } from "./network.ts";
import type { CollectContext, Collector, CollectorOptions, Sample } from "./types.ts";
import { systeminformation } from "./systeminformation.ts";

export class PortableNetworkCollector implements Collector {
  readonly name = "network";
  readonly #filter: (name: string) => boolean;
  readonly #rates = new RateTracker();

  constructor(options: Pick<CollectorOptions, "interfaces">) {
    this.#filter = compileFilter(options.interfaces.include, options.interfaces.exclude);
  }

  async collect(context: CollectContext): Promise<Sample[]> {
    // Without "*" systeminformation reports only the default interface.
    const stats = await (await systeminformation()).networkStats("*");
    const counters = stats.map((item) => ({
      interface: item.iface,
      bytesRecv: item.rx_bytes,
      bytesSent: item.tx_bytes,
      packetsRecv: NaN,
      packetsSent: NaN,
    }));
    return networkRates(counters, {
      rates: this.#rates,
      filter: this.#filter,
      monotonicMs: context.monotonicMs,
    });
  }
}
