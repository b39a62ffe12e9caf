import assert from "node:assert/strict";
import { join } from "node:path";
import { ManualClock } from "../../../shared/clock.ts";
import { memoryLogger } from "../../../shared/log.ts";
import { MS_PER_HOUR } from "../../../shared/time.ts";
import type { MetricDataPoint } from "../../../shared/types.ts";
import { openDatabase } from "../../sqlite.ts";
import type { MetricStore } from "../types.ts";
import { openChunkStore } from "./engine.ts";

const T0 = Date.UTC(2026, 0, 1, 10);
const clock = new ManualClock(T0 + 26 * MS_PER_HOUR + 30 * 60_000);

function samples(agentId: string, metricName: string, fromMs: number, count: number) {
  return Array.from({ length: count }, (_, i): MetricDataPoint => ({
    agentId,
    metricName,
    timestampMs: fromMs + i * 60_000,
    value: i + agentId.length / 10,
    labels: { core: "0" },
  }));
}

/** Two days of sealed chunks and an open chunk in the head log, for three series. */
function writeHistory(dataDir: string, olderCopy?: string): void {
  const store = openChunkStore({ dataDir, clock });
  try {
    store.write(samples("web-1", "cpu.usage", T0, 120)); // 2026-01-01, sealed
    if (olderCopy !== undefined) copyIndex(dataDir, olderCopy);
    store.write(samples("web-2", "cpu.usage", T0 + 24 * MS_PER_HOUR, 90)); // 2026-01-02
    store.write(samples("db-1", "memory.used", T0 + 26 * MS_PER_HOUR, 20)); // open chunk
  } finally {
    // Not closed cleanly for the open chunk: the head log keeps it, as after a crash.
    store.close();
  }
}

function copyIndex(dataDir: string, to: string): void {
  const db = openDatabase(join(dataDir, "index.db"));
  try {
    db.exec(`VACUUM INTO '${to}'`);
  } finally {
    db.close();
  }
}

function everything(store: MetricStore) {
  return store.queryRaw({ fromMs: 0, toMs: T0 + 100 * MS_PER_HOUR }).map((series) => ({
    agentId: series.agentId,
    metricName: series.metricName,
    count: series.samples.length,
    values: series.samples.map((sample) => sample.value),
  }));
}

const EXPECTED = [
  { agent: "db-1", metric: "memory.used", count: 20 },
  { agent: "web-1", metric: "cpu.usage", count: 120 },
  { agent: "web-2", metric: "cpu.usage", count: 90 },
];

Deno.test("a lost index.db is rebuilt from the partitions and no id is given out twice", async (t) => {
  const cases: Record<string, (dataDir: string, olderCopy: string) => void> = {
    "emptied (truncate -s0)": (dataDir) => Deno.truncateSync(join(dataDir, "index.db"), 0),
    "deleted": (dataDir) => Deno.removeSync(join(dataDir, "index.db")),
    "replaced by an older copy": (dataDir, olderCopy) => {
      Deno.removeSync(join(dataDir, "index.db"));
      Deno.copyFileSync(olderCopy, join(dataDir, "index.db"));
    },
    "damaged (garbage header)": (dataDir) => {
      using file = Deno.openSync(join(dataDir, "index.db"), { write: true });
      file.writeSync(new Uint8Array(100).fill(0x5a));
    },
  };
  for (const [name, lose] of Object.entries(cases)) {
    await t.step(name, async () => {
      const dataDir = await Deno.makeTempDir({ prefix: "oxmon-identity-" });
      const olderCopy = join(await Deno.makeTempDir({ prefix: "oxmon-identity-old-" }), "i.db");
      try {
        writeHistory(dataDir, olderCopy);
        const before = openChunkStore({ dataDir, clock });
        const expected = everything(before);
        before.close();
        assert.deepEqual(
          expected.map((s) => ({ agent: s.agentId, metric: s.metricName, count: s.count })),
          EXPECTED,
        );

        lose(dataDir, olderCopy);
        const log = memoryLogger("info");
        const store = openChunkStore({ dataDir, clock, log });
        try {
          assert.match(log.lines.join("\n"), /rebuilt it from them/);
          assert.deepEqual(everything(store), expected, "every series reads its own samples");
          // A new agent's series gets an id no old chunk carries: it reads back only its own.
          const fresh = samples("new-1", "cpu.usage", T0 + 26 * MS_PER_HOUR, 15);
          store.write(fresh);
          const found = store.queryRaw({
            agentId: "new-1",
            fromMs: 0,
            toMs: T0 + 100 * MS_PER_HOUR,
          });
          assert.equal(found.length, 1);
          assert.deepEqual(found[0].samples.map((s) => s.value), fresh.map((p) => p.value));
          assert.deepEqual(everything(store).filter((s) => s.agentId !== "new-1"), expected);
        } finally {
          store.close();
        }
        // Once rebuilt, the next open finds nothing to fix.
        const quiet = memoryLogger("info");
        openChunkStore({ dataDir, clock, log: quiet }).close();
        assert.doesNotMatch(quiet.lines.join("\n"), /rebuilt/);
      } finally {
        await Deno.remove(dataDir, { recursive: true });
        await Deno.remove(join(olderCopy, ".."), { recursive: true });
      }
    });
  }
});

Deno.test("partitions written before identity records get them from a sound index.db", async () => {
  const dataDir = await Deno.makeTempDir({ prefix: "oxmon-identity-legacy-" });
  try {
    writeHistory(dataDir);
    // As an older oxmon left them: no identity records, user_version 0.
    for (const day of ["2026-01-01", "2026-01-02"]) {
      const db = openDatabase(join(dataDir, `${day}.db`));
      db.exec("DROP TABLE series; PRAGMA user_version = 0");
      db.close();
    }
    const log = memoryLogger("info");
    openChunkStore({ dataDir, clock, log }).close();
    assert.doesNotMatch(log.lines.join("\n"), /rebuilt|unknown/);
    for (
      const [day, metrics] of [["2026-01-01", ["cpu.usage"]], [
        "2026-01-02",
        ["cpu.usage", "memory.used"],
      ]] as const
    ) {
      const db = openDatabase(join(dataDir, `${day}.db`));
      const rows = db.prepare("SELECT metric_name FROM series ORDER BY metric_name").all();
      const version = db.prepare("PRAGMA user_version").get() as { user_version: number };
      db.close();
      assert.deepEqual(rows.map((row) => row.metric_name), metrics, day);
      assert.equal(version.user_version, 1, day);
    }
    // From now on they guard the index like any other partition.
    Deno.truncateSync(join(dataDir, "index.db"), 0);
    const store = openChunkStore({ dataDir, clock });
    try {
      assert.deepEqual(
        everything(store).map((s) => ({ agent: s.agentId, metric: s.metricName, count: s.count })),
        EXPECTED,
      );
    } finally {
      store.close();
    }
  } finally {
    await Deno.remove(dataDir, { recursive: true });
  }
});
