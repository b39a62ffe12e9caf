import assert from "node:assert/strict";
import { join } from "node:path";
import { bindNumber, openDatabase, prepareReturningArrays } from "./sqlite.ts";

async function withDir(fn: (dir: string) => void | Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "oxmon-sqlite-" });
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

function pragma(db: ReturnType<typeof openDatabase>, name: string): unknown {
  return Object.values(db.prepare(`PRAGMA ${name}`).get()!)[0];
}

Deno.test("openDatabase opens in WAL with synchronous NORMAL, a busy timeout and the cache asked for", async () => {
  await withDir((dir) => {
    const db = openDatabase(join(dir, "a.db"), { cacheSizeKib: 8_192 });
    try {
      assert.equal(pragma(db, "journal_mode"), "wal");
      assert.equal(pragma(db, "synchronous"), 1, "NORMAL");
      assert.equal(pragma(db, "busy_timeout"), 5_000);
      assert.equal(pragma(db, "cache_size"), -8_192);
      assert.equal(pragma(db, "auto_vacuum"), 0, "none unless asked for");
    } finally {
      db.close();
    }
  });
});

Deno.test("openDatabase applies the optional pragmas", async (t) => {
  await t.step("incrementalVacuum on a new file", async () => {
    await withDir((dir) => {
      const db = openDatabase(join(dir, "a.db"), { incrementalVacuum: true });
      try {
        assert.equal(pragma(db, "auto_vacuum"), 2, "INCREMENTAL");
        assert.equal(pragma(db, "journal_mode"), "wal");
      } finally {
        db.close();
      }
    });
  });
  await t.step("walAutocheckpointPages, busyTimeoutMs, and a cache raised to 1 MiB", async () => {
    await withDir((dir) => {
      const db = openDatabase(join(dir, "a.db"), {
        walAutocheckpointPages: 16_384,
        busyTimeoutMs: 250,
        cacheSizeKib: 10,
      });
      try {
        assert.equal(pragma(db, "wal_autocheckpoint"), 16_384);
        assert.equal(pragma(db, "journal_size_limit"), 16_384 * 4096);
        assert.equal(pragma(db, "busy_timeout"), 250);
        assert.equal(pragma(db, "cache_size"), -1024);
      } finally {
        db.close();
      }
    });
  });
  await t.step("a file built whole: 1 KiB pages, a rollback journal, no syncs", async () => {
    await withDir((dir) => {
      const db = openDatabase(join(dir, "a.db"), { pageSize: 1024, unsynced: true });
      try {
        assert.equal(pragma(db, "page_size"), 1024);
        assert.equal(pragma(db, "journal_mode"), "delete");
        assert.equal(pragma(db, "synchronous"), 0, "OFF");
      } finally {
        db.close();
      }
    });
  });
});

Deno.test("openDatabase names the file it cannot open", async (t) => {
  await t.step("a file that is not a database", async () => {
    await withDir((dir) => {
      const path = join(dir, "2026-11-28.db");
      Deno.writeTextFileSync(path, "not a database ".repeat(500));
      assert.throws(
        () => openDatabase(path),
        (error: Error) => {
          assert.equal(error.message, `Cannot open ${path}: file is not a database`);
          assert.ok(error.cause instanceof Error);
          return true;
        },
      );
    });
  });
  await t.step("a missing file opened read-only", async () => {
    await withDir((dir) => {
      const path = join(dir, "missing.db");
      assert.throws(
        () => openDatabase(path, { readOnly: true }),
        new RegExp(`^Error: Cannot open ${path}: unable to open database file$`),
      );
    });
  });
  await t.step("a directory that does not exist", () => {
    assert.throws(
      () => openDatabase("/nonexistent-oxmon-dir/x.db"),
      /^Error: Cannot open \/nonexistent-oxmon-dir\/x.db: unable to open database file$/,
    );
  });
  await t.step("bad options", () => {
    assert.throws(
      () => openDatabase("x.db", { cacheSizeKib: -1 }),
      new RangeError("Cannot open x.db: cacheSizeKib must be a non-negative number, got -1"),
    );
    assert.throws(() => openDatabase("x.db", { busyTimeoutMs: NaN }), RangeError);
  });
});

Deno.test("openDatabase with readOnly reads an existing file and refuses writes", async () => {
  await withDir((dir) => {
    const path = join(dir, "a.db");
    const writer = openDatabase(path);
    writer.exec("CREATE TABLE t (x); INSERT INTO t VALUES (1);");
    writer.close();
    const reader = openDatabase(path, { readOnly: true });
    try {
      assert.deepEqual({ ...reader.prepare("SELECT x FROM t").get() }, { x: 1 });
      assert.throws(() => reader.exec("INSERT INTO t VALUES (2)"), /readonly/);
    } finally {
      reader.close();
    }
  });
});

Deno.test("openDatabase opens an in-memory database", () => {
  const db = openDatabase(":memory:");
  try {
    db.exec("CREATE TABLE t (x)");
    assert.equal(pragma(db, "journal_mode"), "memory");
  } finally {
    db.close();
  }
});

Deno.test("prepareReturningArrays returns rows as arrays", () => {
  const db = openDatabase(":memory:");
  try {
    db.exec("CREATE TABLE t (a, b); INSERT INTO t VALUES (1, 'x'), (2, 'y');");
    const statement = prepareReturningArrays(db, "SELECT a, b FROM t ORDER BY a");
    assert.deepEqual(statement.all(), [[1, "x"], [2, "y"]]);
  } finally {
    db.close();
  }
});

Deno.test("bindNumber stores integral values as INTEGER and reads every value back bit for bit", () => {
  const db = openDatabase(":memory:");
  try {
    db.exec("CREATE TABLE t (i INTEGER PRIMARY KEY, v)");
    const values = [3, -7, 0, -0, 2.5, 2 ** 53 - 1, 2 ** 60, 1e300, -1e-300];
    const insert = db.prepare("INSERT INTO t (i, v) VALUES (?, ?)");
    values.forEach((value, i) => insert.run(i, bindNumber(value)));
    const select = prepareReturningArrays(db, "SELECT v, typeof(v) FROM t ORDER BY i");
    const rows = select.all() as unknown as [number, string][];
    rows.forEach(([stored], i) => assert.ok(Object.is(stored, values[i]), `${values[i]}`));
    assert.deepEqual(rows.map(([, type]) => type), [
      "integer",
      "integer",
      "integer",
      "real",
      "real",
      "integer",
      "real",
      "real",
      "real",
    ]);
  } finally {
    db.close();
  }
});
