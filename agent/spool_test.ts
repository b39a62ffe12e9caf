import assert from "node:assert/strict";
import { memoryLogger } from "../shared/log.ts";
import { Spool, SpoolEntryError } from "./spool.ts";

const meta = { timestampMs: 1_764_201_600_123, points: 7 };

Deno.test("Spool writes entries that read back bit for bit, in order, after a reopen", async () => {
  const dir = await Deno.makeTempDir({ prefix: "oxmon-spool-" });
  try {
    const { spool } = Spool.open(dir, memoryLogger());
    const requests = [
      new Uint8Array([1, 2, 3]),
      new Uint8Array(0),
      crypto.getRandomValues(new Uint8Array(5_000)),
    ];
    for (const request of requests) await spool.write(request, meta);
    const reopened = Spool.open(dir, memoryLogger());
    assert.deepEqual(reopened.entries.map((entry) => [entry.timestampMs, entry.points]), [
      [meta.timestampMs, 7],
      [meta.timestampMs, 7],
      [meta.timestampMs, 7],
    ]);
    assert.deepEqual(reopened.entries.map((entry) => reopened.spool.read(entry)), requests);
    assert.equal((await Deno.stat(dir)).mode! & 0o777, 0o700);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("Spool.open removes half-written and damaged entries with a warning, keeps the rest", async () => {
  const dir = await Deno.makeTempDir({ prefix: "oxmon-spool-crash-" });
  const log = memoryLogger();
  try {
    const { spool } = Spool.open(dir, log);
    for (let i = 0; i < 4; i++) await spool.write(new Uint8Array(100).fill(i), meta);
    const names = [...Deno.readDirSync(dir)].map((entry) => entry.name).sort();
    // A crash mid-write, a file cut short, a header of garbage, and a stranger's file.
    Deno.writeFileSync(`${dir}/.5.tmp`, new Uint8Array(50));
    Deno.truncateSync(`${dir}/${names[1]}`, 60);
    Deno.writeFileSync(`${dir}/${names[2]}`, new Uint8Array(126).fill(0x41));
    Deno.writeTextFileSync(`${dir}/notes.txt`, "not ours");

    const reopened = Spool.open(dir, log);
    assert.equal(reopened.halfWritten, 1);
    assert.equal(reopened.damaged, 2);
    assert.deepEqual(
      reopened.entries.map((entry) => reopened.spool.read(entry)[0]),
      [0, 3],
    );
    assert.deepEqual(
      [...Deno.readDirSync(dir)].map((entry) => entry.name).sort(),
      [names[0], names[3], "notes.txt"],
    );
    assert.match(log.lines.join("\n"), /half-written by a crash were removed .*entries=1/);
    assert.equal(log.lines.filter((line) => line.includes("spool entry is damaged")).length, 2);
    // A damaged body (the header is fine) is found when read.
    const bytes = Deno.readFileSync(`${dir}/${names[3]}`);
    bytes[30] ^= 1;
    Deno.writeFileSync(`${dir}/${names[3]}`, bytes);
    assert.throws(() => reopened.spool.read(reopened.entries[1]), SpoolEntryError);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("Spool.open names the folder it cannot use", () => {
  assert.throws(
    () => Spool.open("/proc/oxmon-spool", memoryLogger()),
    /Cannot use spool_dir \/proc\/oxmon-spool: /,
  );
});
