import assert from "node:assert/strict";
import { arch } from "node:os";
import { FIXTURES } from "./collectors/_testing.ts";
import { linuxSystemInfo, parseOsRelease, rustArch } from "./system_info.ts";

Deno.test("parseOsRelease reads quoted and bare values", () => {
  const fields = parseOsRelease(Deno.readTextFileSync(`${FIXTURES}os-release`));
  assert.equal(fields.get("NAME"), "Ubuntu");
  assert.equal(fields.get("VERSION_ID"), "24.04");
  assert.equal(fields.get("VERSION_CODENAME"), "noble");
  assert.equal(parseOsRelease(`NAME='A "b"'\n`).get("NAME"), 'A "b"');
});

Deno.test("rustArch maps node names to the original agent's", () => {
  assert.equal(rustArch("x64"), "x86_64");
  assert.equal(rustArch("arm64"), "aarch64");
  assert.equal(rustArch("riscv64"), "riscv64");
});

Deno.test("linuxSystemInfo uses os-release, node:os and statfs of the reported mounts", async () => {
  const dir = await Deno.makeTempDir({ prefix: "oxmon-agent-sysinfo-" });
  try {
    const info = linuxSystemInfo({
      filesystems: [{ device: "/dev/x", mountPoint: dir, fsType: "ext4", options: "rw" }],
      osReleasePaths: ["/nonexistent/os-release", `${FIXTURES}os-release`],
    });
    assert.equal(info.os, "Ubuntu");
    assert.equal(info.osVersion, "24.04");
    assert.equal(info.arch, rustArch(arch()));
    assert.ok(info.cpuCores >= 1);
    assert.ok(info.memoryGb > 0);
    assert.ok(info.diskGb > 0);
    assert.ok(info.hostname.length > 0 && info.kernelVersion.length > 0);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
