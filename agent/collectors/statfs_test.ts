import assert from "node:assert/strict";
import { ffiStatfs, type FsSpace, loadStatfs, nodeStatfs } from "./statfs.ts";

const linux64 = Deno.build.os === "linux" &&
  (Deno.build.arch === "x86_64" || Deno.build.arch === "aarch64");

Deno.test({
  name: "ffiStatfs reads the same sizes as node:fs",
  ignore: !linux64,
  fn: async () => {
    const viaFfi = ffiStatfs();
    assert.ok(viaFfi, "FFI statfs is available on 64-bit Linux with glibc");
    const viaNode = await nodeStatfs();
    const dir = await Deno.makeTempDir({ prefix: "oxmon-agent-statfs-" });
    try {
      for (const path of ["/", dir]) {
        const ffi: FsSpace = viaFfi(path);
        const node: FsSpace = viaNode(path);
        assert.equal(ffi.bsize, node.bsize, path);
        assert.equal(ffi.blocks, node.blocks, path);
        // Free space may move between the two calls; by a few blocks at most.
        assert.ok(Math.abs(ffi.bfree - node.bfree) < 1024, path);
        assert.ok(Math.abs(ffi.bavail - node.bavail) < 1024, path);
        assert.ok(ffi.blocks > 0 && ffi.bavail <= ffi.bfree && ffi.bfree <= ffi.blocks, path);
      }
      assert.throws(() => viaFfi(`${dir}/missing`), /Cannot statfs .*missing/);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test("loadStatfs loads one implementation, once", async () => {
  const statfs = await loadStatfs();
  assert.equal(await loadStatfs(), statfs);
  assert.ok(statfs("/").blocks > 0);
});
