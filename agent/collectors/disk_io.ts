/**
 * `disk.read/write_bytes_per_sec` and `disk.read/write_ops_per_sec{device}` from
 * `/proc/diskstats`, for whole devices only: a partition's I/O is already part of its disk's.
 */
import { compileFilter } from "../../shared/glob.ts";
import { RateTracker } from "./_rate.ts";
import { ProcFile } from "./_read.ts";
import type { CollectContext, Collector, CollectorOptions, Sample } from "./types.ts";

/** /proc/diskstats counts sectors of 512 bytes whatever the device's real sector size. */
const SECTOR_BYTES = 512;

export interface DiskStats {
  major: number;
  minor: number;
  device: string;
  readsCompleted: number;
  sectorsRead: number;
  writesCompleted: number;
  sectorsWritten: number;
}

/** Parses `/proc/diskstats`; only the fields the rates need become numbers. */
export function parseDiskstats(text: string): DiskStats[] {
  const disks: DiskStats[] = [];
  const lines = text.split("\n");
  for (let i = 0; i < lines.length; i++) {
    const fields = lines[i].trim().split(/\s+/);
    if (fields.length < 14) continue;
    const disk = {
      major: Number(fields[0]),
      minor: Number(fields[1]),
      device: fields[2],
      readsCompleted: Number(fields[3]),
      sectorsRead: Number(fields[5]),
      writesCompleted: Number(fields[7]),
      sectorsWritten: Number(fields[9]),
    };
    if (
      !Number.isFinite(disk.readsCompleted) || !Number.isFinite(disk.sectorsRead) ||
      !Number.isFinite(disk.writesCompleted) || !Number.isFinite(disk.sectorsWritten)
    ) {
      throw new SyntaxError(`Cannot parse /proc/diskstats: malformed line "${lines[i].trim()}"`);
    }
    disks.push(disk);
  }
  return disks;
}

/** Partition names by convention, for when sysfs cannot be read (some containers). */
const PARTITION_NAME = /^(?:(?:[shv]|xv)d[a-z]+\d+|(?:nvme\d+n\d+|mmcblk\d+|md\d+|nbd\d+)p\d+)$/;

/**
 * Whether `device` is a whole device. With the names under `/sys/block` (which lists whole
 * devices only, `/` in a name written as `!`) that is exact; without them, partition names
 * are recognised by their usual shapes.
 */
export function isWholeDevice(device: string, blockDevices: ReadonlySet<string> | undefined) {
  if (blockDevices) return blockDevices.has(device.replaceAll("/", "!"));
  return !PARTITION_NAME.test(device);
}

/** The names under `<sysRoot>/block`, or undefined when it cannot be read. */
export function listBlockDevices(sysRoot: string): Set<string> | undefined {
  try {
    const names = new Set<string>();
    for (const entry of Deno.readDirSync(`${sysRoot}/block`)) names.add(entry.name);
    return names;
  } catch {
    return undefined;
  }
}

export class DiskIoCollector implements Collector {
  readonly name = "disk_io";
  readonly #diskstats: ProcFile;
  readonly #sysRoot: string;
  readonly #deviceFilter: (device: string) => boolean;
  readonly #rates = new RateTracker();
  /**
   * Whether each device seen last round is reported (a whole device passing the filter). A
   * device keeps its answer while it exists, so `/sys/block` is listed only when a name not seen
   * last round shows up, not every round.
   */
  #reported = new Map<string, boolean>();

  constructor(options: Pick<CollectorOptions, "procRoot" | "sysRoot" | "devices">) {
    this.#diskstats = new ProcFile(`${options.procRoot}/diskstats`);
    this.#sysRoot = options.sysRoot;
    this.#deviceFilter = compileFilter(options.devices.include, options.devices.exclude);
  }

  [Symbol.dispose](): void {
    this.#diskstats.close();
  }

  collect(context: CollectContext): Sample[] {
    const disks = parseDiskstats(this.#diskstats.read());
    const at = context.monotonicMs;
    const samples: Sample[] = [];
    const rate = (name: string, device: string, value: number) => {
      const perSecond = this.#rates.observe(`${name}\0${device}`, value, at);
      if (perSecond !== undefined) samples.push({ name, value: perSecond, labels: { device } });
    };
    const reported = new Map<string, boolean>();
    let listed: { blockDevices: Set<string> | undefined } | undefined;
    for (const disk of disks) {
      let report = this.#reported.get(disk.device);
      if (report === undefined) {
        listed ??= { blockDevices: listBlockDevices(this.#sysRoot) };
        report = isWholeDevice(disk.device, listed.blockDevices) &&
          this.#deviceFilter(disk.device);
      }
      reported.set(disk.device, report);
      if (!report) continue;
      rate("disk.read_bytes_per_sec", disk.device, disk.sectorsRead * SECTOR_BYTES);
      rate("disk.write_bytes_per_sec", disk.device, disk.sectorsWritten * SECTOR_BYTES);
      rate("disk.read_ops_per_sec", disk.device, disk.readsCompleted);
      rate("disk.write_ops_per_sec", disk.device, disk.writesCompleted);
    }
    this.#reported = reported;
    this.#rates.endRound();
    return samples;
  }
}
