/**
 * `disk.total/used/available/used_percent{mount}` for real file systems: mounts come from
 * `/proc/mounts`, sizes from `statfs(2)` (see `statfs.ts` for how it is called).
 */
import { compileFilter } from "../../shared/glob.ts";
import { ProcFile } from "./_read.ts";
import { type FsSpace, loadStatfs, type Statfs } from "./statfs.ts";
import type { CollectContext, Collector, CollectorOptions, Sample } from "./types.ts";

export interface MountEntry {
  device: string;
  mountPoint: string;
  fsType: string;
  options: string;
}

/**
 * Pseudo and in-memory file systems: they hold no disk space worth watching (node_exporter
 * leaves out nearly the same list). `iso9660` and `squashfs` are always 100% full by design.
 */
export const DEFAULT_FS_TYPES_EXCLUDE: readonly string[] = Object.freeze([
  "autofs",
  "binfmt_misc",
  "bpf",
  "cgroup",
  "cgroup2",
  "configfs",
  "debugfs",
  "devpts",
  "devtmpfs",
  "efivarfs",
  "fuse.gvfsd-fuse",
  "fuse.lxcfs",
  "fuse.portal",
  "fusectl",
  "hugetlbfs",
  "iso9660",
  "mqueue",
  "nfsd",
  "nsfs",
  "overlay",
  "proc",
  "pstore",
  "ramfs",
  "rpc_pipefs",
  "securityfs",
  "selinuxfs",
  "squashfs",
  "sysfs",
  "tmpfs",
  "tracefs",
]);

/** The kernel escapes space, tab, newline and backslash in mount fields as octal. */
function unescapeMountField(field: string): string {
  return field.replace(/\\([0-7]{3})/g, (_, octal) => String.fromCharCode(parseInt(octal, 8)));
}

/** Parses `/proc/mounts` (the `fstab` format). */
export function parseMounts(text: string): MountEntry[] {
  const entries: MountEntry[] = [];
  for (const line of text.split("\n")) {
    const fields = line.trim().split(/\s+/);
    if (fields.length < 4) continue;
    entries.push({
      device: unescapeMountField(fields[0]),
      mountPoint: unescapeMountField(fields[1]),
      fsType: fields[2],
      options: fields[3],
    });
  }
  return entries;
}

/**
 * The mounts worth reporting: the visible mount of each mount point (a later mount on the same
 * point hides the earlier one), of a real file system type, passing the mount filter, and once
 * per device (bind mounts and btrfs subvolumes show the same space again; the first, usually
 * the shortest, mount point is kept).
 */
export function selectFilesystems(
  mounts: readonly MountEntry[],
  options: { fsTypesExclude: readonly string[]; mountFilter: (mountPoint: string) => boolean },
): MountEntry[] {
  const visible = new Map<string, MountEntry>();
  for (const mount of mounts) {
    visible.delete(mount.mountPoint);
    visible.set(mount.mountPoint, mount);
  }
  const excludedTypes = new Set(options.fsTypesExclude);
  const devices = new Set<string>();
  const selected: MountEntry[] = [];
  for (const mount of visible.values()) {
    if (excludedTypes.has(mount.fsType) || !options.mountFilter(mount.mountPoint)) continue;
    if (devices.has(mount.device)) continue;
    devices.add(mount.device);
    selected.push(mount);
  }
  return selected;
}

/** Space of one file system in bytes, as `df` computes it. */
export function spaceSamples(
  mountPoint: string,
  stats: FsSpace,
): Sample[] {
  const total = stats.blocks * stats.bsize;
  const used = (stats.blocks - stats.bfree) * stats.bsize;
  const available = stats.bavail * stats.bsize;
  // Like df: blocks reserved for root count neither as used nor as available.
  const usedPercent = used + available > 0 ? (used / (used + available)) * 100 : 0;
  const labels = { mount: mountPoint };
  return [
    { name: "disk.total", value: total, labels },
    { name: "disk.used", value: used, labels },
    { name: "disk.available", value: available, labels },
    { name: "disk.used_percent", value: usedPercent, labels },
  ];
}

/**
 * How old the mount table may get before a round reads it again. `/proc/mounts` is the costliest
 * file of a round (the kernel formats every mount: 65 of the collector's 100 µs, measured in the
 * agent), and mounts rarely change. A change that matters shows sooner anyway: a mount point
 * whose statfs fails or whose size changed (unmounted, its directory now shows the file system
 * beneath) has the table read again in the same round. A new mount is reported within this age.
 */
export const MOUNTS_MAX_AGE_MS = 10_000;

export class FilesystemCollector implements Collector {
  readonly name = "filesystem";
  readonly #mounts: ProcFile;
  readonly #fsTypesExclude: readonly string[];
  readonly #mountFilter: (mountPoint: string) => boolean;
  #statfs: Statfs | undefined;
  /** The mount table last read and what it selected: mounts change rarely, rounds do not. */
  #last: { text: string; selected: MountEntry[] } | undefined;
  /** When the table was last read (monotonic ms), for `MOUNTS_MAX_AGE_MS`. */
  #readAtMs = -Infinity;
  /** Size in blocks of each selected mount point last round; -1 where statfs failed. */
  #blocks = new Map<string, number>();

  constructor(
    options: Pick<CollectorOptions, "procRoot" | "mounts" | "fsTypesExclude"> & {
      /** Default: `loadStatfs()`, loaded in the first round. */
      statfs?: Statfs;
    },
  ) {
    this.#mounts = new ProcFile(`${options.procRoot}/mounts`);
    this.#fsTypesExclude = options.fsTypesExclude;
    this.#mountFilter = compileFilter(options.mounts.include, options.mounts.exclude);
    this.#statfs = options.statfs;
  }

  [Symbol.dispose](): void {
    this.#mounts.close();
  }

  /** The file systems this collector reports (also for the one-time `disk_gb`), read now. */
  filesystems(): MountEntry[] {
    const text = this.#mounts.read();
    if (this.#last?.text !== text) {
      const selected = selectFilesystems(parseMounts(text), {
        fsTypesExclude: this.#fsTypesExclude,
        mountFilter: this.#mountFilter,
      });
      this.#last = { text, selected };
    }
    return this.#last.selected;
  }

  /** Asynchronous only in the first round, which loads statfs (see `statfs.ts`). */
  collect(context?: CollectContext): Sample[] | Promise<Sample[]> {
    const nowMs = context?.monotonicMs ?? performance.now();
    if (this.#statfs) return this.#collect(this.#statfs, nowMs);
    return loadStatfs().then((statfs) => this.#collect(this.#statfs = statfs, nowMs));
  }

  #collect(statfs: Statfs, nowMs: number): Sample[] {
    const fresh = !this.#last || nowMs - this.#readAtMs >= MOUNTS_MAX_AGE_MS;
    if (fresh) this.#readTable(nowMs);
    const samples = this.#measure(statfs, !fresh);
    if (samples) return samples;
    this.#readTable(nowMs);
    return this.#measure(statfs, false)!;
  }

  #readTable(nowMs: number): void {
    this.filesystems();
    this.#readAtMs = nowMs;
  }

  /**
   * The samples of every selected mount; with `checked`, undefined as soon as a mount point
   * does not look as it did last round (then the table is read again).
   */
  #measure(statfs: Statfs, checked: boolean): Sample[] | undefined {
    const samples: Sample[] = [];
    const blocks = new Map<string, number>();
    for (const mount of this.#last!.selected) {
      let stats: FsSpace | undefined;
      try {
        stats = statfs(mount.mountPoint);
      } catch {
        // Mounts we may not read (another user's FUSE mount) or that vanished since /proc/mounts
        // was read are skipped; the rest of the round still counts.
      }
      const size = stats?.blocks ?? -1;
      if (checked && this.#blocks.get(mount.mountPoint) !== size) return undefined;
      blocks.set(mount.mountPoint, size);
      if (!stats || stats.blocks === 0) continue;
      samples.push(...spaceSamples(mount.mountPoint, stats));
    }
    this.#blocks = blocks;
    return samples;
  }
}
