import assert from "node:assert/strict";
import { join } from "node:path";
import type { DatabaseSync } from "node:sqlite";
import { openDatabase } from "../sqlite.ts";
import { PartitionCache } from "./partition_cache.ts";

/** A partition as small as the cache allows: one connection to its day file. */
class TestPartition {
  readonly day: string;
  readonly db: DatabaseSync;

  constructor(day: string, path: string) {
    this.day = day;
    this.db = openDatabase(path);
    this.db.exec("CREATE TABLE IF NOT EXISTS t (x)");
  }

  get inTransaction(): boolean {
    return this.db.isTransaction;
  }

  get isOpen(): boolean {
    return this.db.isOpen;
  }

  close(): void {
    this.db.close();
  }
}

const openPartition = (day: string, path: string) => new TestPartition(day, path);

async function withCache(
  maxOpen: number,
  fn: (cache: PartitionCache<TestPartition>, dataDir: string) => void,
): Promise<void> {
  const dataDir = await Deno.makeTempDir({ prefix: "oxmon-partition-cache-" });
  const cache = new PartitionCache(dataDir, { maxOpen, openPartition });
  try {
    fn(cache, dataDir);
  } finally {
    cache.closeAll();
    await Deno.remove(dataDir, { recursive: true });
  }
}

const openDays = (cache: PartitionCache<TestPartition>) =>
  [...cache.openPartitions()].map((partition) => partition.day);

Deno.test("PartitionCache creates a day only when asked and finds the days already on disk", async () => {
  await withCache(4, (cache, dataDir) => {
    assert.throws(
      () => cache.get("2026-01-02"),
      /Cannot read partition 2026-01-02: it does not exist/,
    );
    cache.get("2026-01-02", true);
    cache.get("2026-01-01", true);
    assert.deepEqual(cache.days(), ["2026-01-01", "2026-01-02"]);
    assert.ok(Deno.statSync(join(dataDir, "2026-01-02.db")).isFile);
    const again = new PartitionCache(dataDir, { maxOpen: 4, openPartition });
    assert.deepEqual(again.days(), ["2026-01-01", "2026-01-02"]);
    assert.equal(again.get("2026-01-01").day, "2026-01-01");
    again.closeAll();
  });
});

Deno.test("PartitionCache closes the least recently used idle partitions beyond maxOpen", async (t) => {
  await t.step("least recently used first", async () => {
    await withCache(2, (cache) => {
      const first = cache.get("2026-01-01", true);
      cache.get("2026-01-02", true);
      cache.get("2026-01-03", true);
      cache.get("2026-01-01"); // used again: now the most recent
      assert.deepEqual(openDays(cache), ["2026-01-02", "2026-01-03", "2026-01-01"]);
      cache.evictIdle();
      assert.deepEqual(openDays(cache), ["2026-01-03", "2026-01-01"]);
      assert.ok(first.isOpen);
    });
  });
  await t.step("never one in a transaction nor the one kept", async () => {
    await withCache(1, (cache) => {
      const busy = cache.get("2026-01-01", true);
      busy.db.exec("BEGIN; INSERT INTO t VALUES (1);");
      const kept = cache.get("2026-01-02", true);
      const idle = cache.get("2026-01-03", true);
      cache.get("2026-01-02"); // most recent, yet kept only because asked to
      cache.evictIdle(kept);
      assert.deepEqual(openDays(cache), ["2026-01-01", "2026-01-02"]);
      assert.ok(!idle.isOpen);
      busy.db.exec("COMMIT");
      cache.evictIdle();
      assert.deepEqual(openDays(cache), ["2026-01-02"]);
    });
  });
});

Deno.test("PartitionCache lists the days overlapping a range, clamped to valid days", async () => {
  await withCache(4, (cache) => {
    for (const day of ["2025-12-31", "2026-01-01", "2026-01-03"]) cache.get(day, true);
    const start = Date.UTC(2026, 0, 1);
    assert.deepEqual(cache.daysOverlapping(start, start + 86_400_000), ["2026-01-01"]);
    assert.deepEqual(cache.daysOverlapping(start - 1, start), ["2025-12-31", "2026-01-01"]);
    assert.deepEqual(cache.daysOverlapping(-1e15, 1e17), [
      "2025-12-31",
      "2026-01-01",
      "2026-01-03",
    ]);
    assert.deepEqual(cache.daysOverlapping(start + 1, start), []);
  });
});

Deno.test("PartitionCache removes expired days with their files and connections", async () => {
  await withCache(4, (cache, dataDir) => {
    const old = cache.get("2026-01-01", true);
    assert.ok(Deno.statSync(join(dataDir, "2026-01-01.db-wal")).isFile);
    cache.get("2026-01-03", true);
    const now = Date.UTC(2026, 0, 3, 12);
    const expired = cache.expiredDays(Date.UTC(2026, 0, 2), now);
    assert.deepEqual(expired, ["2026-01-01"]);
    cache.remove(expired);
    assert.ok(!old.isOpen);
    assert.deepEqual(cache.days(), ["2026-01-03"]);
    assert.deepEqual([...Deno.readDirSync(dataDir)].map((entry) => entry.name).sort(), [
      "2026-01-03.db",
      "2026-01-03.db-shm",
      "2026-01-03.db-wal",
    ]);
  });
});
