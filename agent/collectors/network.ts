/**
 * `network.bytes/packets_recv/sent{interface}` as per-second rates from `/proc/net/dev`.
 * Loopback and virtual interfaces (`ifb*`, `veth*`, `docker*`, `br-*`, `virbr*`) are left out by
 * the default interface filter (`DEFAULT_INTERFACE_EXCLUDE`).
 */
import { compileFilter } from "../../shared/glob.ts";
import { RateTracker } from "./_rate.ts";
import { ProcFile } from "./_read.ts";
import type { CollectContext, Collector, CollectorOptions, Sample } from "./types.ts";

export interface InterfaceCounters {
  interface: string;
  bytesRecv: number;
  packetsRecv: number;
  bytesSent: number;
  packetsSent: number;
}

/** Parses `/proc/net/dev` (two header lines, then `name: 16 counters`). */
export function parseNetDev(text: string): InterfaceCounters[] {
  const interfaces: InterfaceCounters[] = [];
  const lines = text.split("\n");
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i];
    const colon = line.indexOf(":");
    if (colon === -1 || line.includes("|")) continue;
    const counters = line.slice(colon + 1).trim().split(/\s+/);
    const parsed = {
      interface: line.slice(0, colon).trim(),
      bytesRecv: Number(counters[0]),
      packetsRecv: Number(counters[1]),
      bytesSent: Number(counters[8]),
      packetsSent: Number(counters[9]),
    };
    if (
      counters.length < 16 || !Number.isFinite(parsed.bytesRecv) ||
      !Number.isFinite(parsed.packetsRecv) || !Number.isFinite(parsed.bytesSent) ||
      !Number.isFinite(parsed.packetsSent)
    ) {
      throw new SyntaxError(`Cannot parse /proc/net/dev: malformed line "${line.trim()}"`);
    }
    interfaces.push(parsed);
  }
  return interfaces;
}

export class NetworkCollector implements Collector {
  readonly name = "network";
  readonly #netDev: ProcFile;
  readonly #interfaceFilter: (name: string) => boolean;
  readonly #rates = new RateTracker();

  constructor(options: Pick<CollectorOptions, "procRoot" | "interfaces">) {
    this.#netDev = new ProcFile(`${options.procRoot}/net/dev`);
    this.#interfaceFilter = compileFilter(options.interfaces.include, options.interfaces.exclude);
  }

  [Symbol.dispose](): void {
    this.#netDev.close();
  }

  collect(context: CollectContext): Sample[] {
    return networkRates(parseNetDev(this.#netDev.read()), {
      rates: this.#rates,
      filter: this.#interfaceFilter,
      monotonicMs: context.monotonicMs,
    });
  }
}

/** The rate samples for one reading of interface counters; shared with the portable collector. */
export function networkRates(
  interfaces: readonly InterfaceCounters[],
  options: { rates: RateTracker; filter: (name: string) => boolean; monotonicMs: number },
): Sample[] {
  const samples: Sample[] = [];
  const rate = (name: string, iface: string, value: number) => {
    // A platform that lacks a counter reports it as NaN; that metric is then simply absent.
    if (!Number.isFinite(value)) return;
    const perSecond = options.rates.observe(`${name}\0${iface}`, value, options.monotonicMs);
    if (perSecond !== undefined) {
      samples.push({ name, value: perSecond, labels: { interface: iface } });
    }
  };
  for (const counters of interfaces) {
    if (!options.filter(counters.interface)) continue;
    rate("network.bytes_recv", counters.interface, counters.bytesRecv);
    rate("network.bytes_sent", counters.interface, counters.bytesSent);
    rate("network.packets_recv", counters.interface, counters.packetsRecv);
    rate("network.packets_sent", counters.interface, counters.packetsSent);
  }
  options.rates.endRound();
  return samples;
}
