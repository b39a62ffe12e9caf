import assert from "node:assert/strict";
import { ProcFile } from "./_read.ts";

Deno.test("ProcFile reads the whole current text each time, through one open file", async () => {
  const dir = await Deno.makeTempDir({ prefix: "oxmon-agent-read-" });
  try {
    const path = `${dir}/stat`;
    Deno.writeTextFileSync(path, "first\n");
    using file = new ProcFile(path);
    assert.equal(file.read(), "first\n");
    // Rewritten in place, longer than the initial 4 KiB buffer, then shorter again.
    const long = "x".repeat(10_000) + "\n";
    Deno.writeTextFileSync(path, long);
    assert.equal(file.read(), long);
    Deno.writeTextFileSync(path, "short\n");
    assert.equal(file.read(), "short\n");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("ProcFile reports a missing file and opens it again once it is back", async () => {
  const dir = await Deno.makeTempDir({ prefix: "oxmon-agent-read-" });
  try {
    const path = `${dir}/uptime`;
    using file = new ProcFile(path);
    assert.throws(() => file.read(), Deno.errors.NotFound);
    Deno.writeTextFileSync(path, "12.5 3.0\n");
    assert.equal(file.read(), "12.5 3.0\n");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("ProcFile reads the real /proc as the kernel regenerates it", {
  ignore: Deno.build.os !== "linux",
}, async () => {
  using uptime = new ProcFile("/proc/uptime");
  const first = Number(uptime.read().split(" ")[0]);
  // /proc/uptime counts hundredths of a second.
  await new Promise((resolve) => setTimeout(resolve, 30));
  const second = Number(uptime.read().split(" ")[0]);
  assert.ok(second > first, `${second} after ${first}`);
});
