import assert from "node:assert/strict";
import { compileFilter } from "../../shared/glob.ts";
import { byKey, FIXTURES } from "../../tests/helpers/proc_fixture.ts";
import type { Sample } from "./types.ts";
import {
  DEFAULT_FS_TYPES_EXCLUDE,
  FilesystemCollector,
  MOUNTS_MAX_AGE_MS,
  parseMounts,
  selectFilesystems,
  spaceSamples,
} from "./filesystem.ts";

const mounts = parseMounts(Deno.readTextFileSync(`${FIXTURES}proc/mounts`));
const everyMount = () => true;

Deno.test("parseMounts reads every entry and unescapes octal escapes", () => {
  assert.equal(mounts.length, 32);
  assert.deepEqual(mounts.find((m) => m.device === "/dev/sdb1"), {
    device: "/dev/sdb1",
    mountPoint: "/media/usb stick",
    fsType: "vfat",
    options: "rw,nosuid,nodev,relatime,uid=1000,gid=1000",
  });
});

Deno.test("selectFilesystems keeps real file systems only, once per device", async (t) => {
  await t.step("pseudo, in-memory and image file systems are left out", () => {
    const selected = selectFilesystems(mounts, {
      fsTypesExclude: DEFAULT_FS_TYPES_EXCLUDE,
      mountFilter: everyMount,
    });
    assert.deepEqual(selected.map((m) => `${m.mountPoint} ${m.fsType}`), [
      "/ ext4",
      "/boot ext4",
      "/boot/efi vfat",
      "/srv/data xfs", // /var/lib/docker is the same device again
      "/mnt/backup nfs4",
      "/media/usb stick vfat",
      "/home btrfs",
    ]);
  });

  await t.step("mount globs include and exclude", () => {
    const selected = selectFilesystems(mounts, {
      fsTypesExclude: DEFAULT_FS_TYPES_EXCLUDE,
      mountFilter: compileFilter(["/", "/boot*", "/mnt/*"], ["/boot/efi"]),
    });
    assert.deepEqual(selected.map((m) => m.mountPoint), ["/", "/boot", "/mnt/backup"]);
  });

  await t.step("a later mount on the same point hides the earlier one", () => {
    const shadowed = parseMounts("/dev/sda1 /data ext4 rw 0 0\ntmpfs /data tmpfs rw 0 0\n");
    assert.deepEqual(
      selectFilesystems(shadowed, { fsTypesExclude: ["tmpfs"], mountFilter: everyMount }),
      [],
    );
  });
});

Deno.test("spaceSamples computes used percent as df does, without reserved blocks", () => {
  const samples = byKey(spaceSamples("/", { bsize: 4096, blocks: 1000, bfree: 300, bavail: 200 }));
  assert.deepEqual(samples, {
    "disk.total{mount=/}": 4_096_000,
    "disk.used{mount=/}": 2_867_200,
    "disk.available{mount=/}": 819_200,
    "disk.used_percent{mount=/}": (700 / 900) * 100,
  });
});

Deno.test("FilesystemCollector statfs-es selected mounts and skips unreadable ones", async () => {
  const dir = await Deno.makeTempDir({ prefix: "oxmon-agent-fs-" });
  try {
    Deno.writeTextFileSync(
      `${dir}/mounts`,
      [
        `/dev/vdz ${dir} ext4 rw 0 0`,
        `/dev/vdy ${dir}/vanished ext4 rw 0 0`,
        `tmpfs ${dir}/tmp tmpfs rw 0 0`,
      ].join("\n"),
    );
    using collector = new FilesystemCollector({
      procRoot: dir,
      mounts: { include: [], exclude: [] },
      fsTypesExclude: DEFAULT_FS_TYPES_EXCLUDE,
    });
    const samples = await collector.collect();
    assert.deepEqual(samples.map((s) => `${s.name}{${s.labels?.mount}}`), [
      `disk.total{${dir}}`,
      `disk.used{${dir}}`,
      `disk.available{${dir}}`,
      `disk.used_percent{${dir}}`,
    ]);
    const values = byKey(samples);
    assert.ok(values[`disk.total{mount=${dir}}`] > 0);
    assert.ok(values[`disk.used_percent{mount=${dir}}`] >= 0);
    assert.ok(values[`disk.used_percent{mount=${dir}}`] <= 100);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("FilesystemCollector follows changes of the mount table", async (t) => {
  const dir = await Deno.makeTempDir({ prefix: "oxmon-agent-fs-" });
  try {
    // Sizes in blocks by mount point, as statfs reports them; absent: statfs fails.
    const blocks = new Map([["/", 1_000], ["/data", 500]]);
    const statfs = (path: string) => {
      const size = blocks.get(path);
      if (size === undefined) throw new Error(`Cannot statfs ${path}`);
      return { bsize: 4096, blocks: size, bfree: 100, bavail: 50 };
    };
    const table = (...mountPoints: string[]) =>
      Deno.writeTextFileSync(
        `${dir}/mounts`,
        mountPoints.map((point, i) => `/dev/vd${i} ${point} ext4 rw 0 0\n`).join(""),
      );
    table("/");
    using collector = new FilesystemCollector({
      procRoot: dir,
      mounts: { include: [], exclude: [] },
      fsTypesExclude: DEFAULT_FS_TYPES_EXCLUDE,
      statfs,
    });
    const mountsAt = (monotonicMs: number) => [
      ...new Set(
        (collector.collect({ monotonicMs }) as Sample[]).map((sample) => sample.labels?.mount),
      ),
    ];
    assert.deepEqual(mountsAt(0), ["/"]);

    await t.step("a new mount is reported once the table is MOUNTS_MAX_AGE_MS old", () => {
      table("/", "/data");
      assert.deepEqual(mountsAt(1_000), ["/"], "the table was read again within its age");
      assert.deepEqual(mountsAt(MOUNTS_MAX_AGE_MS), ["/", "/data"]);
    });

    await t.step("an unmount is noticed at once: the mount point's size changed", () => {
      table("/");
      blocks.set("/data", 1_000); // now the directory shows the root file system beneath
      assert.deepEqual(mountsAt(MOUNTS_MAX_AGE_MS + 1_000), ["/"]);
    });

    await t.step("a mount point that cannot be read any more, at once too", () => {
      table("/", "/data");
      blocks.set("/data", 500);
      assert.deepEqual(mountsAt(3 * MOUNTS_MAX_AGE_MS), ["/", "/data"]);
      table("/");
      blocks.delete("/data");
      assert.deepEqual(mountsAt(3 * MOUNTS_MAX_AGE_MS + 1_000), ["/"]);
    });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
