/**
 * A server killed outright cannot remove its listener's socket folder; the next start of a
 * server does, and a clean stop leaves nothing behind.
 */
import assert from "node:assert/strict";
import { spawnServer } from "./helpers/server_cli.ts";

Deno.test("the socket folder a SIGKILLed server left behind is removed when the next one starts", async () => {
  const tmp = await Deno.makeTempDir({ prefix: "oxmon-tmpdir-" });
  const dataDir = await Deno.makeTempDir({ prefix: "oxmon-data-" });
  const folders = async () =>
    (await Array.fromAsync(Deno.readDir(tmp))).map((entry) => entry.name).filter((name) =>
      name.startsWith("oxmon-grpc-")
    );
  try {
    const first = spawnServer(dataDir, { env: { TMPDIR: tmp } });
    await first.ready;
    const [left] = await folders();
    assert.ok(left, "the first server made a socket folder");
    await first.kill();
    assert.deepEqual(await folders(), [left], "a killed server leaves its folder");

    const second = spawnServer(dataDir, { env: { TMPDIR: tmp } });
    await second.ready;
    const now = await folders();
    assert.equal(now.length, 1, now.join(", "));
    assert.notEqual(now[0], left);
    assert.ok(second.lines.some((line) => line.includes("socket folder of a server that is gone")));
    const status = await second.stop();
    assert.equal(status.code, 0);
    assert.deepEqual(await folders(), [], "a clean stop removes its folder");
  } finally {
    await Deno.remove(tmp, { recursive: true });
    await Deno.remove(dataDir, { recursive: true });
  }
});
