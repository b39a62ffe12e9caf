import assert from "node:assert/strict";
import { join } from "node:path";
import { memoryLogger } from "../../shared/log.ts";
import { makeSocketDir, processStartTicks, removeStaleSocketDirs } from "./_socket_dir.ts";

/** The id of a process that has exited. */
async function deadPid(): Promise<number> {
  const child = new Deno.Command("true", { stdout: "null", stderr: "null" }).spawn();
  await child.status;
  return child.pid;
}

Deno.test("processStartTicks tells a running process from one that is gone", async () => {
  const ticks = processStartTicks(Deno.pid);
  assert.ok(ticks !== undefined && ticks > 0, `start ticks of this process: ${ticks}`);
  assert.equal(processStartTicks(Deno.pid), ticks, "the same every time");
  assert.equal(processStartTicks(await deadPid()), undefined);
});

Deno.test("makeSocketDir removes the folders of servers that are gone and keeps the rest", async () => {
  const parent = await Deno.makeTempDir({ prefix: "oxmon-tmp-" });
  const log = memoryLogger("info");
  const ticks = processStartTicks(Deno.pid)!;
  const dead = await deadPid();
  const folder = async (name: string) => {
    await Deno.mkdir(join(parent, name));
    return name;
  };
  try {
    const killed = await folder(`oxmon-grpc-${dead}.${ticks}-a1b2`);
    // Our process id, but another start time: the id was reused after the owner died.
    const reused = await folder(`oxmon-grpc-${Deno.pid}.${ticks + 1}-c3d4`);
    await Deno.writeTextFile(join(parent, killed, "listener-3.sock"), "");
    const running = await folder(`oxmon-grpc-${Deno.pid}.${ticks}-e5f6`);
    const older = await folder("oxmon-grpc-0123456789abcdef");
    const other = await folder("unrelated");
    await Deno.writeTextFile(join(parent, `oxmon-grpc-${dead}.1-file`), "");

    const made = await makeSocketDir({ parent, log });
    assert.match(made, new RegExp(`/oxmon-grpc-${Deno.pid}\\.${ticks}-[^/]+$`));
    assert.equal((await Deno.stat(made)).mode! & 0o777, 0o700);
    const left = (await Array.fromAsync(Deno.readDir(parent))).map((entry) => entry.name).sort();
    const expected = [running, older, other, `oxmon-grpc-${dead}.1-file`, made.split("/").pop()!];
    assert.deepEqual(left, expected.sort());
    assert.ok(!left.includes(killed) && !left.includes(reused));
    assert.equal(
      log.lines.filter((line) => line.includes("socket folder of a server that is gone")).length,
      2,
    );
  } finally {
    await Deno.remove(parent, { recursive: true });
  }
});

Deno.test("removeStaleSocketDirs logs, and does not fail, when the folder cannot be listed", async () => {
  const log = memoryLogger("info");
  assert.deepEqual(await removeStaleSocketDirs("/nonexistent/oxmon", log), []);
  assert.match(log.lines.join("\n"), /cannot list the temporary folder/);
});
