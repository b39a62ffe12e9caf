import assert from "node:assert/strict";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { MS_PER_DAY } from "../../shared/time.ts";
import type { MetricDataPoint } from "../../shared/types.ts";
import { openRowStore, type RowStoreOptions } from "./row_engine.ts";
import { defineStorageConformanceTests } from "../../tests/helpers/storage_conformance.ts";
import type { MetricStore } from "./types.ts";

defineStorageConformanceTests("row", (dataDir) => openRowStore({ dataDir }));

const D0 = Date.UTC(2026, 0, 1);

async function withRowStore(
  options: Omit<RowStoreOptions, "dataDir">,
  fn: (store: MetricStore, dataDir: string) => void,
): Promise<void> {
  const dataDir = await Deno.makeTempDir({ prefix: "oxmon-row-" });
  const store = openRowStore({ dataDir, ...options });
  try {
    fn(store, dataDir);
  } finally {
    store.close();
    await Deno.remove(dataDir, { recursive: true });
  }
}

function point(timestampMs: number, value: number, metricName = "cpu.usage"): MetricDataPoint {
  return { agentId: "a", metricName, timestampMs, value, labels: {} };
}

Deno.test("row store keeps samples WITHOUT ROWID by (series_id, ts) and series in index.db", async () => {
  await withRowStore({}, (store, dataDir) => {
    store.write([{ ...point(D0, 1), labels: { z: "1", a: "2", "10": "x" } }]);
    store.close();
    const index = new DatabaseSync(join(dataDir, "index.db"));
    try {
      const series = index.prepare("SELECT agent_id, metric_name, labels FROM series").all();
      assert.deepEqual(series.map((row) => ({ ...row })), [
        { agent_id: "a", metric_name: "cpu.usage", labels: '{"10":"x","a":"2","z":"1"}' },
      ]);
    } finally {
      index.close();
    }
    const partition = new DatabaseSync(join(dataDir, "2026-01-01.db"));
    try {
      const { sql } = partition.prepare("SELECT sql FROM sqlite_schema WHERE name = 'samples'")
        .get() as { sql: string };
      assert.match(sql, /PRIMARY KEY \(series_id, ts\)\s*\) WITHOUT ROWID/);
    } finally {
      partition.close();
    }
  });
});

Deno.test("row store works with fewer open connections than partitions", async (t) => {
  await t.step("a write spanning more days than open connections commits every day", async () => {
    await withRowStore({ maxOpenPartitions: 1 }, (store) => {
      const points = [0, 1, 2, 3, 4].map((n) => point(D0 + n * MS_PER_DAY, n));
      assert.equal(store.write(points).written, 5);
      assert.equal(store.write(points).duplicates, 5);
      const [series] = store.queryRaw({ fromMs: D0, toMs: D0 + 5 * MS_PER_DAY });
      assert.deepEqual(series.samples.map((sample) => sample.value), [0, 1, 2, 3, 4]);
    });
  });
  await t.step("queries over 15 days read through 2 connections", async () => {
    await withRowStore({ maxOpenPartitions: 2 }, (store) => {
      const points = Array.from({ length: 15 * 4 }, (_, i) => point(D0 + i * 6 * 3_600_000, i));
      store.write(points);
      const range = { fromMs: D0, toMs: D0 + 15 * MS_PER_DAY };
      assert.equal(store.queryRaw(range)[0].samples.length, 60);
      assert.deepEqual(
        store.queryBuckets(range, MS_PER_DAY)[0].buckets.map((bucket) => bucket.count),
        Array(15).fill(4),
      );
      assert.equal(store.latest("a")[0].value, 59);
    });
  });
});

Deno.test("row store rolls back every partition when one fails mid-write", async () => {
  await withRowStore({}, (store, dataDir) => {
    store.write([point(D0, 1)]);
    // Not a SQLite file: opening day 1 fails after day 0's inserts have run.
    Deno.writeTextFileSync(join(dataDir, "2026-01-02.db"), "x".repeat(4096));
    assert.throws(
      () =>
        store.write([point(D0 + 1, 2), point(D0 + 2, 3, "memory.used"), point(D0 + MS_PER_DAY, 4)]),
      /not a database/,
    );
    assert.deepEqual(
      store.queryRaw({ fromMs: D0, toMs: D0 + MS_PER_DAY - 1 }).map((series) => series.samples),
      [[{ timestampMs: D0, value: 1 }]],
    );
    assert.deepEqual(store.listSeries().map((key) => key.metricName), ["cpu.usage"]);
    Deno.removeSync(join(dataDir, "2026-01-02.db"));
    assert.equal(store.write([point(D0 + 1, 2), point(D0 + 2, 3, "memory.used")]).written, 2);
  });
});

Deno.test("row store refuses bad options and use after close", async (t) => {
  await t.step("options", () => {
    assert.throws(() => openRowStore({ dataDir: "" }), TypeError);
    assert.throws(() => openRowStore({ dataDir: "x", maxOpenPartitions: 0 }), /maxOpenPartitions/);
    assert.throws(() => openRowStore({ dataDir: "x", cacheSizeKib: -1 }), /cacheSizeKib/);
  });
  await t.step("closed", async () => {
    await withRowStore({}, (store) => {
      store.close();
      assert.throws(() => store.write([point(D0, 1)]), /closed/);
      store.close();
    });
  });
});
