import assert from "node:assert/strict";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { memoryLogger } from "../shared/log.ts";
import { checkSqliteFile, isDamageError, moveAside, Quarantine } from "./quarantine.ts";

const NOW = Date.UTC(2026, 10, 30, 3, 17, 0);

function makeDb(path: string, rows = 5_000): void {
  const db = new DatabaseSync(path);
  db.exec("PRAGMA journal_mode = WAL; CREATE TABLE t (id INTEGER PRIMARY KEY, text TEXT)");
  db.exec("BEGIN");
  const insert = db.prepare("INSERT INTO t (text) VALUES (?)");
  for (let i = 0; i < rows; i++) insert.run(`row ${i} `.repeat(8));
  db.exec("COMMIT");
  db.close();
}

Deno.test("checkSqliteFile passes a sound file and names what is wrong with a damaged one", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const path = join(dir, "a.db");
    assert.equal(checkSqliteFile(path), undefined, "a missing file is not damaged");
    makeDb(path);
    assert.equal(checkSqliteFile(path), undefined);
    assert.equal(checkSqliteFile(path, { integrity: true }), undefined);
    using file = Deno.openSync(path, { write: true });
    file.seekSync(8 * 4096, Deno.SeekMode.Start);
    file.writeSync(new Uint8Array(16_384).fill(0xa5));
    assert.ok(checkSqliteFile(path), "garbage pages are found");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("isDamageError tells damage from other SQLite errors", () => {
  assert.ok(
    isDamageError(Object.assign(new Error("database disk image is malformed"), { errcode: 11 })),
  );
  assert.ok(isDamageError(new Error("file is not a database")));
  assert.ok(
    isDamageError(new Error("Cannot open x", { cause: new Error("file is not a database") })),
  );
  assert.ok(!isDamageError(Object.assign(new Error("database or disk is full"), { errcode: 13 })));
  assert.ok(!isDamageError(new Error("unable to open database file")));
  assert.ok(!isDamageError("malformed"));
});

Deno.test("moveAside moves the file with its -wal and -shm under a name that says when", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const path = join(dir, "agents.db");
    for (const suffix of ["", "-wal", "-shm"]) Deno.writeTextFileSync(path + suffix, suffix);
    const moved = moveAside(path, NOW);
    assert.equal(moved, `${path}.damaged-20261130T031700Z`);
    assert.equal(Deno.readTextFileSync(moved + "-wal"), "-wal");
    assert.equal(Deno.readTextFileSync(moved + "-shm"), "-shm");
    Deno.writeTextFileSync(path, "again");
    assert.equal(moveAside(path, NOW), `${path}.damaged-20261130T031700Z-2`, "never overwrites");
    assert.deepEqual(
      [...Deno.readDirSync(dir)].map((entry) => entry.name).sort(),
      [
        "agents.db.damaged-20261130T031700Z",
        "agents.db.damaged-20261130T031700Z-2",
        "agents.db.damaged-20261130T031700Z-shm",
        "agents.db.damaged-20261130T031700Z-wal",
      ],
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("Quarantine.open moves a damaged file aside, opens anew, and lists it until it is gone", async () => {
  const dir = await Deno.makeTempDir();
  const log = memoryLogger("info");
  try {
    const path = join(dir, "notify.db");
    Deno.writeTextFileSync(path, "this is not a database, it is a text file of some length.");
    const quarantine = new Quarantine({ dataDir: dir, log, now: () => NOW });
    const db = quarantine.open(path, "the delivery record is lost", () => {
      const opened = new DatabaseSync(path);
      opened.exec("CREATE TABLE IF NOT EXISTS x (y)");
      return opened;
    });
    db.close();
    const [listed] = quarantine.list();
    assert.equal(listed.path, `${path}.damaged-20261130T031700Z`);
    assert.equal(listed.original, path);
    assert.equal(listed.sinceMs, NOW);
    assert.match(listed.reason!, /not a database/);
    assert.match(log.lines.join("\n"), /DAMAGED FILE moved aside; the delivery record is lost/);
    // A new process knows the file but not SQLite's words.
    const later = new Quarantine({ dataDir: dir, log, now: () => NOW });
    assert.equal(later.list()[0].reason, undefined);
    Deno.removeSync(listed.path);
    assert.deepEqual(quarantine.list(), []);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
