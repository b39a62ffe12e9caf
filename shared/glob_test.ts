import assert from "node:assert/strict";
import { compileFilter, compileGlob } from "./glob.ts";

Deno.test("compileGlob matches the whole name with *, ? and classes", async (t) => {
  const cases: [string, string, boolean][] = [
    ["web-*", "web-01", true],
    ["web-*", "db-01", false],
    ["web-*", "aweb-01", false],
    ["web-?", "web-1", true],
    ["web-?", "web-12", false],
    ["db-[0-9]", "db-7", true],
    ["db-[0-9]", "db-x", false],
    ["db-[!0-9]", "db-x", true],
    ["host.example", "hostXexample", false],
    ["*", "", true],
    ["a[b", "a[b", true],
  ];
  for (const [glob, name, expected] of cases) {
    await t.step(`${glob} ~ ${name} is ${expected}`, () => {
      assert.equal(compileGlob(glob)(name), expected);
    });
  }
});

Deno.test("compileFilter applies includes then excludes", () => {
  const filter = compileFilter(["sd*", "nvme*"], ["sda"]);
  assert.equal(filter("sdb"), true);
  assert.equal(filter("sda"), false);
  assert.equal(filter("nvme0n1"), true);
  assert.equal(filter("loop0"), false);
  assert.equal(compileFilter([], ["lo"])("eth0"), true);
  assert.equal(compileFilter([], ["lo"])("lo"), false);
});
