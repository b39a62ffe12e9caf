import assert from "node:assert/strict";
import { DEFAULT_DEVICE_EXCLUDE, DEFAULT_INTERFACE_EXCLUDE } from "../config.ts";
import { fixtureRoot, FIXTURES } from "../../tests/helpers/proc_fixture.ts";
import { DEFAULT_FS_TYPES_EXCLUDE } from "./filesystem.ts";
import { COLLECTORS, createCollectors, detectPlatform } from "./registry.ts";
import type { CollectorOptions } from "./types.ts";

function options(procRoot: string): CollectorOptions {
  return {
    procRoot,
    sysRoot: `${FIXTURES}sys`,
    mounts: { include: [], exclude: [] },
    fsTypesExclude: DEFAULT_FS_TYPES_EXCLUDE,
    devices: { include: [], exclude: DEFAULT_DEVICE_EXCLUDE },
    interfaces: { include: [], exclude: DEFAULT_INTERFACE_EXCLUDE },
  };
}

Deno.test("registry names are unique and every collector is on by default", () => {
  const names = COLLECTORS.map((entry) => entry.name);
  assert.equal(new Set(names).size, names.length);
  assert.ok(COLLECTORS.every((entry) => entry.enabledByDefault));
});

Deno.test("createCollectors builds the enabled Linux collectors, which read the fixtures", async () => {
  await using root = await fixtureRoot();
  const collectors = createCollectors(options(root.procRoot), {
    enabled: { disk_io: false },
  });
  assert.deepEqual(collectors.map((c) => c.name), [
    "cpu",
    "memory",
    "filesystem",
    "network",
    "load",
    "uptime",
  ]);
  for (const collector of collectors) {
    if (collector.name !== "filesystem") { // the fixture's mount points are not here
      await collector.collect({ monotonicMs: 0 });
    }
    collector[Symbol.dispose]?.();
  }
});

Deno.test("detectPlatform falls back to the portable set without /proc/stat", async () => {
  await using root = await fixtureRoot();
  assert.equal(detectPlatform(root.procRoot), "linux");
  assert.equal(detectPlatform(`${root.procRoot}/missing`), "portable");
  const portable = createCollectors(options(`${root.procRoot}/missing`));
  // Per-device disk I/O has no portable source.
  assert.deepEqual(portable.map((c) => c.name), [
    "cpu",
    "memory",
    "filesystem",
    "network",
    "load",
    "uptime",
  ]);
});
