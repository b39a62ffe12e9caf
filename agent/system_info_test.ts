import assert from "node:assert/strict";
import { FIXTURES } from "../tests/helpers/proc_fixture.ts";
import { loadStatfs } from "./collectors/statfs.ts";
import { countCpus, linuxSystemInfo, parseOsRelease } from "./system_info.ts";

const CPUS_IN_FIXTURE = 4;

Deno.test("parseOsRelease reads quoted and bare values", () => {
  const fields = parseOsRelease(Deno.readTextFileSync(`${FIXTURES}os-release`));
  assert.equal(fields.get("NAME"), "Ubuntu");
  assert.equal(fields.get("VERSION_ID"), "24.04");
  assert.equal(fields.get("VERSION_CODENAME"), "noble");
  assert.equal(parseOsRelease(`NAME='A "b"'\n`).get("NAME"), 'A "b"');
});

Deno.test("countCpus counts the per-CPU lines of /proc/stat", () => {
  assert.equal(countCpus(Deno.readTextFileSync(`${FIXTURES}proc/stat`)), CPUS_IN_FIXTURE);
  assert.equal(countCpus(""), 0);
});

Deno.test("linuxSystemInfo uses os-release, /proc/stat and statfs of the reported mounts", async () => {
  const dir = await Deno.makeTempDir({ prefix: "oxmon-agent-sysinfo-" });
  try {
    const info = linuxSystemInfo({
      filesystems: [{ device: "/dev/x", mountPoint: dir, fsType: "ext4", options: "rw" }],
      statfs: await loadStatfs(),
      procRoot: `${FIXTURES}proc`,
      osReleasePaths: ["/nonexistent/os-release", `${FIXTURES}os-release`],
    });
    assert.equal(info.os, "Ubuntu");
    assert.equal(info.osVersion, "24.04");
    assert.equal(info.arch, Deno.build.arch);
    assert.equal(info.cpuCores, CPUS_IN_FIXTURE);
    assert.ok(info.memoryGb > 0);
    assert.ok(info.diskGb > 0);
    assert.ok(info.hostname.length > 0 && info.kernelVersion.length > 0);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
