import assert from "node:assert/strict";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { ManualClock } from "../../../shared/clock.ts";
import { MS_PER_HOUR } from "../../../shared/time.ts";
import type { MetricDataPoint } from "../../../shared/types.ts";
import { defineStorageConformanceTests } from "../../../tests/helpers/storage_conformance.ts";
import { removePartitionFiles } from "../partition_files.ts";
import { openRowStore } from "../row_engine.ts";
import { DamagedDataError, type MetricStore, StorageUnavailableError } from "../types.ts";
import { memoryLogger } from "../../../shared/log.ts";
import { ChunkPartition } from "./_partition.ts";
import { CHUNK_MAX_SAMPLES, type ChunkStoreOptions, openChunkStore } from "./engine.ts";
import { SWEEP_SEALS_PER_WRITE } from "./_append.ts";

defineStorageConformanceTests("chunk", (dataDir) => openChunkStore({ dataDir }));

const T0 = Date.UTC(2026, 0, 1, 10);
const DAY0 = "2026-01-01";

function point(timestampMs: number, value: number, metricName = "cpu.usage"): MetricDataPoint {
  return { agentId: "a", metricName, timestampMs, value, labels: { core: "0" } };
}

function series(fromMs: number, count: number, stepMs = 10_000, metricName?: string) {
  return Array.from({ length: count }, (_, i) => point(fromMs + i * stepMs, i * 1.5, metricName));
}

async function withDir(fn: (dataDir: string) => void | Promise<void>): Promise<void> {
  const dataDir = await Deno.makeTempDir({ prefix: "oxmon-chunk-" });
  try {
    await fn(dataDir);
  } finally {
    await Deno.remove(dataDir, { recursive: true });
  }
}

function withStore(
  dataDir: string,
  options: Omit<ChunkStoreOptions, "dataDir">,
  fn: (store: MetricStore) => void,
): void {
  const store = openChunkStore({ dataDir, ...options });
  try {
    fn(store);
  } finally {
    store.close();
  }
}

function query<T>(dataDir: string, day: string, sql: string): T[] {
  const db = new DatabaseSync(join(dataDir, `${day}.db`));
  try {
    return db.prepare(sql).all() as T[];
  } finally {
    db.close();
  }
}

/** Runs `sql` on a day's file behind the store's back (to damage it). */
function execOn(dataDir: string, day: string, sql: string): void {
  const db = new DatabaseSync(join(dataDir, `${day}.db`));
  try {
    db.exec(sql);
  } finally {
    db.close();
  }
}

function allSamples(store: MetricStore) {
  return store.queryRaw({ fromMs: 0, toMs: T0 + 400 * MS_PER_HOUR });
}

Deno.test("chunk store seals at 360 samples or the end of the clock hour", async () => {
  await withDir((dataDir) => {
    const clock = new ManualClock(T0);
    withStore(dataDir, { clock }, (store) => {
      // 1 s apart: 360 samples fill a chunk in 6 minutes, so the hour holds 10 chunks.
      for (let i = 0; i < 4; i++) store.write(series(T0 + i * 1000 * 1000, 1000, 1000));
      const chunks = query<{ start_ts: number; end_ts: number; count: number }>(
        dataDir,
        DAY0,
        "SELECT start_ts, end_ts, count FROM chunks ORDER BY start_ts",
      );
      assert.ok(chunks.length >= 10, `${chunks.length} chunks`);
      for (const chunk of chunks) {
        assert.ok(chunk.count <= CHUNK_MAX_SAMPLES);
        assert.equal(
          Math.floor(chunk.start_ts / MS_PER_HOUR),
          Math.floor(chunk.end_ts / MS_PER_HOUR),
        );
      }
      assert.equal(allSamples(store)[0].samples.length, 4000);
    });
    const [{ rows }] = query<{ rows: number }>(
      dataDir,
      DAY0,
      "SELECT COUNT(*) AS rows FROM head_log",
    );
    assert.equal(rows, 0, "close() seals every open chunk and empties the head log");
  });
});

Deno.test("chunk store replays the head log of a store that was never closed", async () => {
  await withDir(async (dataDir) => {
    const image = await Deno.makeTempDir({ prefix: "oxmon-chunk-image-" });
    try {
      const store = openChunkStore({ dataDir });
      store.write(series(T0, 500));
      store.write(series(T0 + 500 * 10_000, 100, 10_000, "memory.used"));
      // A copy of the files while the store is open is what a crash leaves behind.
      for (const entry of Deno.readDirSync(dataDir)) {
        Deno.copyFileSync(join(dataDir, entry.name), join(image, entry.name));
      }
      const expected = allSamples(store);
      store.close();
      const head = query<{ rows: number }>(image, DAY0, "SELECT COUNT(*) AS rows FROM head_log");
      assert.ok(head[0].rows > 0, "the image holds open chunks in its head log");
      withStore(image, {}, (replayed) => {
        assert.deepEqual(allSamples(replayed), expected);
        assert.deepEqual(replayed.write(series(T0, 500)), {
          written: 0,
          duplicates: 500,
          conflicts: 0,
        });
      });
    } finally {
      await Deno.remove(image, { recursive: true });
    }
  });
});

Deno.test("chunk store merges late samples into the sealed chunk of their hour once it is quiet", async () => {
  await withDir((dataDir) => {
    const clock = new ManualClock(T0 + 3 * MS_PER_HOUR);
    withStore(dataDir, { clock }, (store) => {
      store.write(series(T0, 300)); // 10:00–10:49:50
      store.write([point(T0 + 2 * MS_PER_HOUR, 1)]); // 12:00 takes the slot: 10:00 is sealed
      const rowids = () =>
        query<{ rowid: number; count: number }>(
          dataDir,
          DAY0,
          `SELECT rowid, count FROM chunks WHERE start_ts < ${T0 + MS_PER_HOUR}`,
        );
      const sealed = rowids();
      assert.deepEqual(sealed.map((chunk) => chunk.count), [300]);
      const late = [point(T0 + 5, 7), point(T0 + 15_000, 8), point(T0 + 10_000, 99)];
      assert.deepEqual(store.write(late), { written: 2, duplicates: 0, conflicts: 1 });
      assert.deepEqual(store.write([point(T0 + 25, 9), point(T0 + 5, 7)]), {
        written: 1,
        duplicates: 1,
        conflicts: 0,
      });
      assert.deepEqual(rowids(), sealed, "late batches do not rewrite the sealed chunk");
      const samples = allSamples(store)[0].samples;
      assert.equal(samples.length, 304, "pending samples are answered before the merge");
      assert.deepEqual(samples.slice(0, 5).map((sample) => sample.timestampMs), [
        T0,
        T0 + 5,
        T0 + 25,
        T0 + 10_000,
        T0 + 15_000,
      ]);
      assert.equal(samples[3].value, 1.5, "the conflicting late value was refused");
      clock.set(T0 + 3 * MS_PER_HOUR + 2 * 60_000);
      (store as Required<MetricStore>).maintain(clock.now());
      const merged = rowids();
      assert.deepEqual(merged.map((chunk) => chunk.count), [303], "merged once, when quiet");
      assert.notDeepEqual(merged, sealed);
      assert.deepEqual(allSamples(store)[0].samples, samples);
    });
  });
});

Deno.test("chunk store refuses samples older than lateSampleMaxAgeMs as tooOld", async () => {
  await withDir((dataDir) => {
    const clock = new ManualClock(T0 + 48 * MS_PER_HOUR);
    withStore(dataDir, { clock, lateSampleMaxAgeMs: 24 * MS_PER_HOUR }, (store) => {
      const result = store.write([point(T0, 1), point(T0 + 47 * MS_PER_HOUR, 2)]);
      assert.deepEqual(result, { written: 1, duplicates: 0, conflicts: 0, tooOld: 1 });
      assert.equal(allSamples(store)[0].samples.length, 1);
    });
    assert.throws(
      () => openChunkStore({ dataDir, lateSampleMaxAgeMs: -1 }),
      /lateSampleMaxAgeMs must be a positive number, got -1/,
    );
  });
});

Deno.test("chunk store seals chunks whose hour passed without newer samples", async () => {
  await withDir((dataDir) => {
    const clock = new ManualClock(T0);
    withStore(dataDir, { clock }, (store) => {
      store.write(series(T0, 10, 10_000, "stale"));
      const logRows = () =>
        query<{ rows: number }>(dataDir, DAY0, "SELECT COUNT(*) AS rows FROM head_log")[0].rows;
      assert.equal(logRows(), 1);
      clock.set(T0 + 2 * MS_PER_HOUR);
      store.write([point(T0 + 2 * MS_PER_HOUR, 1, "live")]);
      const chunks = query<{ count: number }>(dataDir, DAY0, "SELECT count FROM chunks");
      assert.deepEqual(chunks.map((chunk) => chunk.count), [10]);
      assert.equal(logRows(), 1, "only the live series' row is left");
    });
  });
});

Deno.test("chunk store reports a corrupt chunk naming its series and chunk", async () => {
  await withDir((dataDir) => {
    withStore(dataDir, {}, (store) => store.write(series(T0, 100)));
    execOn(dataDir, DAY0, "UPDATE chunks SET data = substr(data, 1, length(data) - 3)");
    withStore(dataDir, {}, (store) => {
      assert.throws(
        () => allSamples(store),
        /Cannot decode chunk of series 1 \(agent "a", metric "cpu.usage", labels \{"core":"0"\}\) starting 2026-01-01T10:00:00.000Z in 2026-01-01.db: /,
      );
      assert.throws(() => store.queryBuckets({ fromMs: T0, toMs: T0 + 60_000 }, 1000), /checksum/);
      // Health is told: the file is listed as unreadable, with what was wrong.
      const issues = store.issues!();
      assert.deepEqual(issues.map((issue) => [issue.kind, issue.file]), [
        ["unreadable", join(dataDir, `${DAY0}.db`)],
      ]);
      assert.match(issues[0].message, /checksum/);
      assert.throws(() => allSamples(store), DamagedDataError);
    });
  });
});

Deno.test("chunk store replays around a damaged head-log row and reports the file", async () => {
  await withDir((dataDir) => {
    const clock = new ManualClock(T0 + 30 * 60_000);
    const store = openChunkStore({ dataDir, clock });
    store.write(series(T0, 10));
    store.write(series(T0 + 100_000, 10, 10_000, "memory.used"));
    store.write(series(T0 + 200_000, 10, 10_000, "load"));
    // Never closed: the open chunks live in three head-log rows. The second one is damaged.
    execOn(
      dataDir,
      DAY0,
      "UPDATE head_log SET data = substr(data, 1, length(data) - 1) || x'00' WHERE id = 2",
    );
    // The first store is left as a crash leaves it: not closed.
    const log = memoryLogger("info");
    withStore(dataDir, { clock, log }, (reopened) => {
      assert.deepEqual(allSamples(reopened).map((one) => [one.metricName, one.samples.length]), [
        ["cpu.usage", 10],
        ["load", 10],
      ]);
      assert.match(log.lines.join("\n"), /skipped damaged rows; their samples are lost rows=1/);
      assert.deepEqual(reopened.issues!().map((issue) => issue.kind), ["unreadable"]);
    });
  });
});

Deno.test("chunk store commits what a write routed before a damaged partition failed it", async () => {
  await withDir((dataDir) => {
    const clock = new ManualClock(T0 + 26 * MS_PER_HOUR);
    const fresh = point(T0 + 24 * MS_PER_HOUR, 1, "memory.used");
    withStore(dataDir, { clock, maxOpenPartitions: 1 }, (store) => {
      store.write([point(T0, 1)]);
      store.write([point(T0 + MS_PER_HOUR, 1)]); // seals the 10:00 chunk of 2026-01-01
      store.write([point(T0 + 24 * MS_PER_HOUR, 1)]); // opens 2026-01-02, closes 2026-01-01
      // The closed day file is damaged: reading it for the late sample below throws, after the
      // first sample of the write already went into an open chunk.
      removePartitionFiles(dataDir, DAY0);
      Deno.writeTextFileSync(join(dataDir, `${DAY0}.db`), "not a database ".repeat(500));
      assert.throws(() => store.write([fresh, point(T0 + 1_000, 2)]), /not a database/);
      // Not latched: the sample routed before the failure was committed with its head-log row,
      // so the retry is rightly "already stored", and other writes go on.
      assert.deepEqual(store.write([fresh]), { written: 0, duplicates: 1, conflicts: 0 });
      store.write([point(T0 + 24 * MS_PER_HOUR + 10_000, 2)]);
    });
    // Durable: a store that was never closed replays it from the head log.
    Deno.removeSync(join(dataDir, `${DAY0}.db`));
    withStore(dataDir, { clock }, (store) => {
      const samples = store.queryRaw({
        fromMs: T0 + 24 * MS_PER_HOUR,
        toMs: T0 + 25 * MS_PER_HOUR,
      });
      assert.deepEqual(samples.map((one) => [one.metricName, one.samples.length]), [
        ["cpu.usage", 2],
        ["memory.used", 1],
      ]);
    });
  });
});

Deno.test("chunk store heals after failed commits: writes refused meanwhile, reads served, nothing lost", async () => {
  await withDir((dataDir) => {
    const clock = new ManualClock(T0 + 30 * 60_000);
    const original = ChunkPartition.prototype.commit;
    let failures = 0;
    const diskFull = () => {
      failures++;
      throw Object.assign(new Error("database or disk is full"), { errcode: 13 });
    };
    const store = openChunkStore({ dataDir, clock });
    try {
      const before = series(T0, 100); // 10:00:00 to 10:16:30, one open chunk
      store.write(before);
      ChunkPartition.prototype.commit = diskFull;
      // 359 samples in the open chunk: the 360th seals it in the write whose commit fails.
      const during = series(T0 + 100 * 10_000, 300);
      assert.throws(() => store.write(during.slice(0, 260)), StorageUnavailableError);
      assert.throws(() => store.write(during.slice(260)), /disk is full/);
      assert.equal(failures, 2, "the failed commit is retried before the next write");
      assert.deepEqual(store.issues!().map((issue) => issue.kind), ["writes_refused"]);
      assert.match(store.issues!()[0].message, /2026-01-01\.db: database or disk is full/);
      assert.equal(store.issues!()[0].sinceMs, clock.now());
      // Reads go on: what was acknowledged before is there.
      const read = store.queryRaw({ fromMs: T0, toMs: T0 + 99 * 10_000 })[0];
      assert.deepEqual(read.samples.length, 100);
      store.heal!();
      assert.equal(failures, 3);

      ChunkPartition.prototype.commit = original;
      store.heal!();
      assert.deepEqual(store.issues!(), []);
      // The refused writes are sent again, as an agent does: nothing is lost, nothing doubled.
      store.write(during.slice(0, 260));
      store.write(during.slice(260));
      assert.deepEqual(allSamples(store)[0].samples.length, 400);
    } finally {
      ChunkPartition.prototype.commit = original;
      store.close();
    }
    withStore(dataDir, { clock }, (store) => {
      const samples = allSamples(store)[0].samples;
      assert.equal(samples.length, 400);
      const sent = [...series(T0, 100), ...series(T0 + 100 * 10_000, 300)];
      assert.deepEqual(
        samples.map((sample) => [sample.timestampMs, sample.value]),
        sent.map((p) => [p.timestampMs, p.value]),
      );
    });
  });
});

Deno.test("chunk store refuses new data below minFreeBytes and takes it again once space is back", async () => {
  await withDir((dataDir) => {
    let free = 10_000_000;
    const store = openChunkStore({
      dataDir,
      minFreeBytes: 1_000_000,
      freeBytes: () => free,
      spaceCheckIntervalMs: 0,
      clock: new ManualClock(T0 + 60_000),
    });
    try {
      store.write([point(T0, 1)]);
      free = 999_999;
      assert.throws(
        () => store.write([point(T0 + 10_000, 2)]),
        (error: Error) => {
          assert.ok(error instanceof StorageUnavailableError);
          assert.match(error.message, /only 999999 bytes are free .* min_free_bytes \(1000000\)/);
          return true;
        },
      );
      assert.deepEqual(store.issues!().map((issue) => issue.kind), ["low_disk_space"]);
      assert.equal(allSamples(store)[0].samples.length, 1, "reads go on");
      free = 5_000_000;
      store.heal!();
      assert.deepEqual(store.issues!(), []);
      store.write([point(T0 + 10_000, 2)]);
      assert.equal(allSamples(store)[0].samples.length, 2);
    } finally {
      store.close();
    }
  });
});

Deno.test("chunk store reads a data directory the row engine wrote", async () => {
  await withDir((dataDir) => {
    const row = openRowStore({ dataDir });
    const points = [
      ...series(T0 - 20 * MS_PER_HOUR, 700, 10_000), // 2025-12-31 14:00 to 2026-01-01 ~16:00
      ...series(T0, 50, 60_000, "memory.used"),
      { ...point(T0 + 1, -0), metricName: "zero" },
    ];
    row.write(points);
    const everything = { fromMs: 0, toMs: T0 + 100 * MS_PER_HOUR };
    const expectedRaw = row.queryRaw(everything);
    const expectedLatest = row.latest("a");
    row.close();
    withStore(dataDir, {}, (store) => {
      assert.deepEqual(store.queryRaw(everything), expectedRaw);
      assert.deepEqual(store.latest("a"), expectedLatest);
      assert.deepEqual(store.write(points), { written: 0, duplicates: 751, conflicts: 0 });
    });
    for (const day of ["2025-12-31", DAY0]) {
      const tables = query<{ name: string }>(
        dataDir,
        day,
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name = 'samples'",
      );
      assert.deepEqual(tables, [], `${day}: the row table is gone`);
    }
    withStore(dataDir, {}, (store) => assert.deepEqual(store.queryRaw(everything), expectedRaw));
  });
});

Deno.test("chunk store keeps series whose raw samples expired while rollups hold them, as inactive", async () => {
  await withDir((dataDir) => {
    const clock = new ManualClock(T0 + 3 * 24 * MS_PER_HOUR);
    withStore(dataDir, { clock }, (store) => {
      store.write(series(T0, 100, 10_000, "old"));
      store.write(series(T0 + 2 * 24 * MS_PER_HOUR, 10, 10_000, "recent"));
      const full = store as Required<MetricStore>;
      full.maintain(clock.now() + 10 * 60_000, 100); // seals the old hours
      const cutoff = T0 - (T0 % (24 * MS_PER_HOUR)) + 24 * MS_PER_HOUR;
      assert.deepEqual(store.deleteBefore(cutoff, clock.now()), [DAY0]);
      const names = (keys: { metricName: string }[]) => keys.map((key) => key.metricName).sort();
      assert.deepEqual(names(store.listSeries()), ["old", "recent"], "rollups keep it queryable");
      assert.deepEqual(names(full.listActiveSeries()), ["recent"]);
      const [old] = store.queryBuckets(
        { metricName: "old", fromMs: T0, toMs: cutoff },
        MS_PER_HOUR,
      );
      assert.equal(old.buckets.reduce((sum, bucket) => sum + bucket.count, 0), 100);
      store.write(series(T0 + 2 * 24 * MS_PER_HOUR, 1, 10_000, "old"));
      assert.deepEqual(names(full.listActiveSeries()), ["old", "recent"], "written again: active");
    });
  });
});

Deno.test("a day that cannot be compacted stays as it was and is tried again 10 minutes later", async () => {
  await withDir((dataDir) => {
    withStore(dataDir, {}, (store) => store.write(series(T0, 100)));
    execOn(dataDir, DAY0, "UPDATE chunks SET data = substr(data, 1, length(data) - 3)");
    const clock = new ManualClock(T0 + 48 * MS_PER_HOUR);
    withStore(dataDir, { clock }, (store) => {
      const full = store as Required<MetricStore>;
      const later = clock.now() + 2 * 60_000;
      assert.throws(
        () => full.maintain(later, 100),
        /Cannot compact 2026-01-01\.db \(trying again in 10 minutes\): Cannot decode chunk/,
      );
      assert.deepEqual(store.stats().uncompactedDays, [DAY0]);
      assert.equal(full.maintain(later + 60_000, 100), false, "no retry within 10 minutes");
      assert.deepEqual(
        [...Deno.readDirSync(dataDir)].filter((entry) => entry.name.includes(".compact")),
        [],
        "nothing half-built is left",
      );
      assert.throws(() => full.maintain(later + 11 * 60_000, 100), /Cannot compact/);
    });
  });
});

Deno.test("a merge of late samples whose commit fails is read from memory until it heals", async () => {
  await withDir((dataDir) => {
    const clock = new ManualClock(T0 + 3 * MS_PER_HOUR);
    const original = ChunkPartition.prototype.commit;
    const store = openChunkStore({ dataDir, clock }) as Required<MetricStore>;
    try {
      store.write(series(T0, 300)); // 10:00–10:49:50
      store.write([point(T0 + 2 * MS_PER_HOUR, 1)]); // 12:00 takes the slot: 10:00 is sealed
      const late = [point(T0 + 5, 7), point(T0 + 15_005, 8)];
      assert.equal(store.write(late).written, 2); // pending, in the head log
      const expected = allSamples(store)[0].samples;
      assert.equal(expected.length, 303);
      ChunkPartition.prototype.commit = () => {
        throw Object.assign(new Error("database or disk is full"), { errcode: 13 });
      };
      clock.set(clock.now() + 2 * 60_000);
      assert.equal(store.maintain(clock.now(), 10), false, "the merge's commit failed");
      assert.deepEqual(store.issues().map((issue) => issue.kind), ["writes_refused"]);
      assert.deepEqual(allSamples(store)[0].samples, expected, "the merge is read from memory");
      const [buckets] = store.queryBuckets({ fromMs: T0, toMs: T0 + MS_PER_HOUR - 1 }, 300_000);
      assert.equal(buckets.buckets[0].count, 32, "rollups do not hide the waiting merge");
      ChunkPartition.prototype.commit = original;
      store.heal();
      assert.deepEqual(store.issues(), []);
      assert.deepEqual(allSamples(store)[0].samples, expected);
    } finally {
      ChunkPartition.prototype.commit = original;
      store.close();
    }
    withStore(dataDir, { clock }, (reopened) => {
      assert.equal(allSamples(reopened)[0].samples.length, 303);
    });
  });
});

/** One sample for each of `count` series (label `n`) at `ts`. */
function fleetTick(count: number, ts: number, value = 1): MetricDataPoint[] {
  return Array.from({ length: count }, (_, n) => ({
    agentId: "fleet",
    metricName: "cpu.usage",
    labels: { n: String(n) },
    timestampMs: ts,
    value: value + n,
  }));
}

function chunkRows(dataDir: string): number {
  return query<{ n: number }>(dataDir, DAY0, "SELECT COUNT(*) AS n FROM chunks")[0].n;
}

Deno.test("a fleet's open chunks of a past hour are sealed a bounded share per write", async () => {
  await withDir((dataDir) => {
    const clock = new ManualClock(T0);
    const fleet = SWEEP_SEALS_PER_WRITE * 2 + 500;
    withStore(dataDir, { clock }, (store) => {
      store.write(fleetTick(fleet, T0));
      store.write(fleetTick(fleet, T0 + 10_000));
      assert.equal(chunkRows(dataDir), 0);
      // Past the hour, its grace and the idle time: every one of them is due at once.
      clock.set(T0 + MS_PER_HOUR + 7 * 60_000);
      const later = (k: number) => [point(T0 + MS_PER_HOUR + 7 * 60_000 + k * 1_000, k)];
      const sealed: number[] = [];
      for (let k = 0; k < 4; k++) {
        store.write(later(k));
        sealed.push(chunkRows(dataDir));
      }
      assert.deepEqual(sealed, [
        SWEEP_SEALS_PER_WRITE,
        2 * SWEEP_SEALS_PER_WRITE,
        fleet,
        fleet,
      ]);
      // The server's maintenance tick (every second), with no write: a bounded share per call
      // too, until the fleet's next hour and the other series' open chunk are all sealed.
      store.write(fleetTick(fleet, T0 + 2 * MS_PER_HOUR));
      clock.set(T0 + 3 * MS_PER_HOUR + 7 * 60_000);
      const start = chunkRows(dataDir);
      const perCall: number[] = [];
      for (let call = 0; call < 10; call++) {
        const before = chunkRows(dataDir);
        store.maintain!(clock.now());
        perCall.push(chunkRows(dataDir) - before);
      }
      let due = fleet + 1;
      const shares = perCall.map(() => {
        const share = Math.min(due, SWEEP_SEALS_PER_WRITE);
        due -= share;
        return share;
      });
      assert.deepEqual(perCall, shares);
      assert.equal(chunkRows(dataDir) - start, fleet + 1);
      for (const n of [0, fleet - 1]) {
        const [found] = store.queryRaw({
          fromMs: T0,
          toMs: T0 + MS_PER_HOUR,
          labels: { n: String(n) },
        });
        assert.deepEqual(found.samples.map((s) => s.value), [1 + n, 1 + n]);
      }
    });
  });
});

Deno.test("open chunks filled every second are sealed over many writes, not all in one", async () => {
  await withDir((dataDir) => {
    const clock = new ManualClock(T0);
    const fleet = 400;
    withStore(dataDir, { clock }, (store) => {
      let most = 0;
      let before = 0;
      for (let i = 0; i < CHUNK_MAX_SAMPLES + 10; i++) {
        clock.set(T0 + i * 1_000);
        store.write(fleetTick(fleet, T0 + i * 1_000, i));
        const now = chunkRows(dataDir);
        most = Math.max(most, now - before);
        before = now;
      }
      assert.equal(before, fleet, "each series sealed one chunk by its 360th sample");
      assert.ok(most <= fleet / 16, `${most} of ${fleet} chunks sealed by one write`);
    });
    // The first chunk of each series ends between 297 and 360 samples (close sealed the rest).
    const firsts = query<{ count: number }>(
      dataDir,
      DAY0,
      `SELECT count FROM chunks WHERE start_ts = ${T0}`,
    ).map((row) => row.count);
    assert.equal(firsts.length, fleet);
    assert.ok(firsts.every((count) => count <= CHUNK_MAX_SAMPLES && count >= 297), `${firsts}`);
    assert.ok(new Set(firsts).size >= 32, "spread over many lengths");
  });
});

Deno.test("open chunks at the default 10 s interval still hold their whole hour", async () => {
  await withDir((dataDir) => {
    const clock = new ManualClock(T0);
    withStore(dataDir, { clock }, (store) => {
      for (let i = 0; i < CHUNK_MAX_SAMPLES; i++) {
        clock.set(T0 + i * 10_000);
        store.write(fleetTick(64, T0 + i * 10_000, i));
      }
    });
    const counts = query<{ count: number }>(dataDir, DAY0, "SELECT count FROM chunks");
    assert.equal(counts.length, 64);
    assert.ok(counts.every((row) => row.count === CHUNK_MAX_SAMPLES), "one chunk per hour");
  });
});
