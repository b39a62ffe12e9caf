import assert from "node:assert/strict";
import { openFilesLimit, openFilesWarning, RESERVED_FILES } from "./open_files.ts";

const LIMITS = `Limit                     Soft Limit           Hard Limit           Units
Max cpu time              unlimited            unlimited            seconds
Max open files            1024                 524288               files
Max locked memory         8388608              8388608              bytes
`;

Deno.test("openFilesLimit reads the soft limit of /proc/self/limits", () => {
  assert.equal(openFilesLimit(LIMITS), 1024);
  assert.equal(
    openFilesLimit(LIMITS.replace("1024                 524288", "unlimited  unlimited")),
    Infinity,
  );
  assert.equal(openFilesLimit("nothing here"), undefined);
  if (Deno.build.os === "linux") {
    const own = openFilesLimit();
    assert.ok(own !== undefined && own > 0, `this process's own limit: ${own}`);
  }
});

Deno.test("openFilesWarning names the limit, max_connections and how to raise it", () => {
  assert.equal(openFilesWarning(undefined, 1000), undefined);
  assert.equal(openFilesWarning(65_536, 1000), undefined);
  assert.equal(openFilesWarning(1000 + RESERVED_FILES, 1000), undefined);
  const warning = openFilesWarning(1024, 1000);
  assert.ok(warning);
  assert.match(warning, /open-files limit \(1024\)/);
  assert.match(warning, /max_connections = 1000/);
  assert.match(warning, /LimitNOFILE=65536/);
  assert.match(openFilesWarning(256, 5000)!, /agents past 128 or so/);
});
