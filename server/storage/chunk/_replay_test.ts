import assert from "node:assert/strict";
import { join } from "node:path";
import { ManualClock } from "../../../shared/clock.ts";
import { memoryLogger } from "../../../shared/log.ts";
import type { MetricDataPoint } from "../../../shared/types.ts";
import { openDatabase } from "../../sqlite.ts";
import { openChunkStore } from "./engine.ts";

const T0 = Date.UTC(2026, 0, 1, 10);

function samples(metricName: string, count: number): MetricDataPoint[] {
  return Array.from({ length: count }, (_, i) => ({
    agentId: "a",
    metricName,
    timestampMs: T0 + i * 10_000,
    value: i,
    labels: {},
  }));
}

/** A data directory as a crash leaves it: open chunks of three series in the head log only. */
async function crashedDataDir(): Promise<string> {
  const dataDir = await Deno.makeTempDir({ prefix: "oxmon-replay-" });
  const image = await Deno.makeTempDir({ prefix: "oxmon-replay-image-" });
  try {
    // Within the hour of the samples: the chunks stay open, in the head log only.
    const store = openChunkStore({ dataDir, clock: new ManualClock(T0 + 10 * 60_000) });
    store.write([...samples("kept", 50), ...samples("lost.one", 60), ...samples("lost.two", 40)]);
    for (const entry of Deno.readDirSync(dataDir)) {
      Deno.copyFileSync(join(dataDir, entry.name), join(image, entry.name));
    }
    store.close();
    return image;
  } finally {
    await Deno.remove(dataDir, { recursive: true });
  }
}

Deno.test("chunk store replay skips head-log samples of unknown series and warns once with the counts", async () => {
  const dataDir = await crashedDataDir();
  try {
    // Unknown to index.db and to the partition's identity records alike: nothing names them.
    for (const file of ["index.db", "2026-01-01.db"]) {
      const db = openDatabase(join(dataDir, file));
      try {
        db.exec("DELETE FROM series WHERE metric_name LIKE 'lost.%'");
      } finally {
        db.close();
      }
    }
    const log = memoryLogger("debug");
    const store = openChunkStore({ dataDir, log });
    try {
      const warnings = log.lines.filter((line) => line.includes(" WARN "));
      assert.equal(warnings.length, 1, warnings.join("\n"));
      assert.match(
        warnings[0],
        /head-log replay skipped samples of series unknown to index\.db samples=100 series=2 series_ids="2,3"$/,
      );
      assert.match(log.lines.join("\n"), /chunk store replayed its head log rows=1 samples=50 /);
      const found = store.queryRaw({ fromMs: 0, toMs: T0 + 86_400_000 });
      assert.deepEqual(found.map((series) => [series.metricName, series.samples.length]), [
        ["kept", 50],
      ]);
    } finally {
      store.close();
    }
  } finally {
    await Deno.remove(dataDir, { recursive: true });
  }
});

Deno.test("chunk store replay of a clean head log warns about nothing", async () => {
  const dataDir = await crashedDataDir();
  try {
    const log = memoryLogger("debug");
    const store = openChunkStore({ dataDir, log });
    store.close();
    assert.deepEqual(log.lines.filter((line) => line.includes(" WARN ")), []);
    assert.match(log.lines.join("\n"), /replayed its head log rows=1 samples=150 /);
  } finally {
    await Deno.remove(dataDir, { recursive: true });
  }
});

Deno.test("chunk store replay finds series index.db lost through the partition's identity records", async () => {
  const dataDir = await crashedDataDir();
  try {
    const index = openDatabase(join(dataDir, "index.db"));
    try {
      index.exec("DELETE FROM series WHERE metric_name LIKE 'lost.%'");
    } finally {
      index.close();
    }
    const log = memoryLogger("debug");
    const store = openChunkStore({ dataDir, log });
    try {
      assert.match(log.lines.join("\n"), /rebuilt it from them .*mismatched_ids=2 /);
      const found = store.queryRaw({ fromMs: 0, toMs: T0 + 86_400_000 });
      assert.deepEqual(found.map((series) => [series.metricName, series.samples.length]), [
        ["kept", 50],
        ["lost.one", 60],
        ["lost.two", 40],
      ]);
    } finally {
      store.close();
    }
  } finally {
    await Deno.remove(dataDir, { recursive: true });
  }
});
