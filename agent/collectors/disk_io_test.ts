import assert from "node:assert/strict";
import { DEFAULT_DEVICE_EXCLUDE } from "../config.ts";
import { byKey, fixtureRoot, FIXTURES } from "../../tests/helpers/proc_fixture.ts";
import { DiskIoCollector, isWholeDevice, listBlockDevices, parseDiskstats } from "./disk_io.ts";

const SYS_ROOT = `${FIXTURES}sys`;

Deno.test("parseDiskstats reads old (14-field) and new (20-field) lines", () => {
  const disks = parseDiskstats(Deno.readTextFileSync(`${FIXTURES}proc/diskstats`));
  assert.equal(disks.length, 16);
  assert.deepEqual(disks.find((d) => d.device === "sda"), {
    major: 8,
    minor: 0,
    device: "sda",
    readsCompleted: 183417,
    sectorsRead: 14733108,
    writesCompleted: 421980,
    sectorsWritten: 30155744,
  });
  assert.equal(disks.find((d) => d.device === "cciss/c0d0")?.writesCompleted, 3312);
  assert.throws(
    () => parseDiskstats("8 0 sda x 0 0 0 0 0 0 0 0 0 0\n"),
    /malformed line "8 0 sda x/,
  );
});

Deno.test("isWholeDevice tells disks from partitions", async (t) => {
  await t.step("exactly, from the names under /sys/block", () => {
    const block = listBlockDevices(SYS_ROOT);
    assert.ok(block);
    for (const device of ["sda", "nvme0n1", "dm-0", "cciss/c0d0", "sr0"]) {
      assert.equal(isWholeDevice(device, block), true, device);
    }
    for (const device of ["sda1", "nvme0n1p3", "cciss/c0d0p1", "sdb1"]) {
      assert.equal(isWholeDevice(device, block), false, device);
    }
  });
  await t.step("by name shape when sysfs cannot be read", () => {
    assert.equal(listBlockDevices("/nonexistent-sys-root"), undefined);
    for (const device of ["sda", "vdb", "xvdf", "nvme0n1", "mmcblk0", "dm-0", "md0"]) {
      assert.equal(isWholeDevice(device, undefined), true, device);
    }
    for (const device of ["sda1", "vdb2", "xvdf1", "nvme0n1p1", "mmcblk0p2", "md0p1"]) {
      assert.equal(isWholeDevice(device, undefined), false, device);
    }
  });
});

Deno.test("DiskIoCollector reports per-second rates of whole devices", async (t) => {
  await using root = await fixtureRoot();
  using collector = new DiskIoCollector({
    procRoot: root.procRoot,
    sysRoot: SYS_ROOT,
    devices: { include: [], exclude: DEFAULT_DEVICE_EXCLUDE },
  });

  await t.step("the first round emits no rate", () => {
    assert.deepEqual(collector.collect({ monotonicMs: 1_000 }), []);
  });

  await t.step("later rounds divide by the measured elapsed time", () => {
    root.use("diskstats", "later/diskstats");
    const samples = byKey(collector.collect({ monotonicMs: 11_000 }));
    assert.equal(samples["disk.read_bytes_per_sec{device=sda}"], (20480 * 512) / 10);
    assert.equal(samples["disk.write_bytes_per_sec{device=sda}"], (40960 * 512) / 10);
    assert.equal(samples["disk.read_ops_per_sec{device=sda}"], 50);
    assert.equal(samples["disk.write_ops_per_sec{device=sda}"], 100);
    assert.equal(samples["disk.write_ops_per_sec{device=nvme0n1}"], 300);
    const devices = new Set(Object.keys(samples).map((key) => /device=(.*)}/.exec(key)![1]));
    // No partitions (sda1, nvme0n1p3), no loop or zram devices.
    assert.deepEqual([...devices].sort(), [
      "cciss/c0d0",
      "dm-0",
      "dm-1",
      "nvme0n1",
      "sda",
      "sdb",
      "sr0",
    ]);
  });

  await t.step("a device whose counters went backwards emits no rate that round", () => {
    root.use("diskstats", "reset/diskstats");
    const samples = byKey(collector.collect({ monotonicMs: 21_000 }));
    assert.equal(
      Object.keys(samples).filter((key) => key.includes("device=sda}")).length,
      0,
    );
    assert.equal(samples["disk.write_ops_per_sec{device=nvme0n1}"], 300);
  });

  await t.step("device globs narrow the set", async () => {
    await using root2 = await fixtureRoot();
    using only = new DiskIoCollector({
      procRoot: root2.procRoot,
      sysRoot: SYS_ROOT,
      devices: { include: ["sd*", "nvme*"], exclude: ["sdb"] },
    });
    only.collect({ monotonicMs: 0 });
    root2.use("diskstats", "later/diskstats");
    const devices = new Set(only.collect({ monotonicMs: 1_000 }).map((s) => s.labels?.device));
    assert.deepEqual([...devices].sort(), ["nvme0n1", "sda"]);
  });
});

Deno.test("DiskIoCollector lists /sys/block again only when a new device shows up", async () => {
  await using root = await fixtureRoot();
  const sysRoot = await Deno.makeTempDir({ prefix: "oxmon-agent-sys-" });
  try {
    Deno.mkdirSync(`${sysRoot}/block/vda`, { recursive: true });
    // vda1 looks like a partition by name, but /sys/block lists whole devices only.
    const line = (name: string, reads: number) =>
      `252 0 ${name} ${reads} 0 ${reads * 8} 0 0 0 0 0 0 0 0 0 0 0 0 0 0\n`;
    Deno.writeTextFileSync(`${root.procRoot}/diskstats`, line("vda", 1));
    using collector = new DiskIoCollector({
      procRoot: root.procRoot,
      sysRoot,
      devices: { include: [], exclude: [] },
    });
    const devices = (monotonicMs: number) =>
      [...new Set(collector.collect({ monotonicMs }).map((s) => s.labels?.device))].sort();
    devices(0);
    Deno.writeTextFileSync(`${root.procRoot}/diskstats`, line("vda", 2));
    assert.deepEqual(devices(1_000), ["vda"]);
    // /sys/block gone: vda keeps the answer it had; no relisting while the set is unchanged.
    Deno.removeSync(`${sysRoot}/block`, { recursive: true });
    Deno.writeTextFileSync(`${root.procRoot}/diskstats`, line("vda", 3));
    assert.deepEqual(devices(2_000), ["vda"]);
    // A new name makes it look again: /sys/block now lists vda1 as a whole device.
    Deno.mkdirSync(`${sysRoot}/block/vda1`, { recursive: true });
    Deno.writeTextFileSync(`${root.procRoot}/diskstats`, line("vda", 4) + line("vda1", 1));
    assert.deepEqual(devices(3_000), ["vda"]);
    Deno.writeTextFileSync(`${root.procRoot}/diskstats`, line("vda", 5) + line("vda1", 2));
    assert.deepEqual(devices(4_000), ["vda", "vda1"]);
  } finally {
    await Deno.remove(sysRoot, { recursive: true });
  }
});
