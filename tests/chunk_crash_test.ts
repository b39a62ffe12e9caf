/**
 * Kills a chunk-store writer with SIGKILL at random moments, 20 times, restarting it each time
 * a few batches before its last acknowledged one (as an agent re-sends); the batches hold late,
 * reversed and straggling samples (pending entries), and the writer runs maintenance between
 * them (sealing, merging, compacting finished days, writing rollups). Afterwards every
 * acknowledged sample is stored exactly once, every rollup interval equals the raw aggregate,
 * before and after the store compacts what is left, and every SQLite file passes
 * integrity_check.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { openChunkStore } from "../server/storage/chunk/engine.ts";
import type { MetricStore } from "../server/storage/types.ts";
import { BucketAccumulator } from "../server/storage/bucket_stats.ts";
import { ManualClock } from "../shared/clock.ts";
import {
  CRASH_EXTRA_SERIES,
  CRASH_SERIES,
  CRASH_START_MS,
  crashBatch,
  crashNowMs,
} from "./helpers/chunk_crash_writer.ts";
import { Random } from "./helpers/chunk_random.ts";

const WRITER = new URL("./helpers/chunk_crash_writer.ts", import.meta.url).pathname;
const KILLS = 20;

/** Runs the writer from `start`; kills it `killAfterMs` after its first ack. Returns acked ids. */
async function runWriter(
  dataDir: string,
  start: number,
  options: { killAfterMs?: number; end?: number },
): Promise<number[]> {
  const args = ["run", "-A", WRITER, dataDir, String(start)];
  if (options.end !== undefined) args.push(String(options.end));
  const child = new Deno.Command(Deno.execPath(), { args, stdout: "piped", stderr: "piped" })
    .spawn();
  const acked: number[] = [];
  let timer: ReturnType<typeof setTimeout> | undefined;
  const stderr = new Response(child.stderr).text();
  let pending = "";
  const decoder = new TextDecoder();
  for await (const chunk of child.stdout) {
    pending += decoder.decode(chunk, { stream: true });
    const lines = pending.split("\n");
    pending = lines.pop()!;
    for (const line of lines) acked.push(Number(line));
    if (timer === undefined && options.killAfterMs !== undefined && acked.length > 0) {
      timer = setTimeout(() => child.kill("SIGKILL"), options.killAfterMs);
    }
  }
  clearTimeout(timer);
  const status = await child.status;
  const errors = await stderr;
  if (options.killAfterMs === undefined) {
    assert.equal(status.code, 0, `writer failed: ${errors}`);
  } else {
    assert.equal(status.signal, "SIGKILL", `writer ended on its own: ${errors}`);
  }
  return acked;
}

/** Far enough for the stream's last day: the writers reach about 10,000 batches (28 hours). */
const RANGE = { fromMs: CRASH_START_MS - 3_600_000, toMs: CRASH_START_MS + 7 * 86_400_000 };

/** Raw samples exactly the expected ones, and buckets at rollup steps equal to theirs. */
function assertStored(
  store: MetricStore,
  expected: Map<string, Map<number, number>>,
  context: string,
): void {
  const stored = store.queryRaw(RANGE);
  assert.equal(stored.length, CRASH_SERIES + CRASH_EXTRA_SERIES.length, context);
  for (const series of stored) {
    const key = `${series.agentId}/${series.metricName}/${series.labels.series ?? ""}`;
    const want = expected.get(key)!;
    assert.equal(series.samples.length, want.size, `${context} ${key}: sample count`);
    let previous = -Infinity;
    for (const { timestampMs, value } of series.samples) {
      assert.ok(timestampMs > previous, `${context} ${key}: ${timestampMs} twice or out of order`);
      previous = timestampMs;
      assert.ok(Object.is(value, want.get(timestampMs)), `${context} ${key} at ${timestampMs}`);
    }
  }
  for (const stepMs of [300_000, 3_600_000]) {
    for (const series of store.queryBuckets(RANGE, stepMs)) {
      const key = `${series.agentId}/${series.metricName}/${series.labels.series ?? ""}`;
      const buckets = new BucketAccumulator(RANGE.fromMs, stepMs);
      for (const [ts, value] of expected.get(key)!) buckets.add(ts, value);
      assert.deepEqual(series.buckets, buckets.finish(), `${context} ${key} step ${stepMs}`);
    }
  }
}

Deno.test({
  name: "chunk store keeps every acknowledged sample and rollup exactly right across 20 SIGKILLs",
  async fn() {
    const dataDir = await Deno.makeTempDir({ prefix: "oxmon-chunk-crash-" });
    try {
      const random = new Random(2026);
      let lastAck = -1;
      for (let kill = 0; kill < KILLS; kill++) {
        const start = Math.max(0, lastAck - random.int(0, 5));
        const acked = await runWriter(dataDir, start, { killAfterMs: random.int(20, 400) });
        if (acked.length > 0) lastAck = Math.max(lastAck, acked[acked.length - 1]);
      }
      assert.ok(lastAck > 400, `the writers acknowledged only ${lastAck + 1} batches`);
      const end = lastAck + 50;
      await runWriter(dataDir, Math.max(0, lastAck - 3), { end });

      for (const entry of Deno.readDirSync(dataDir)) {
        if (!entry.name.endsWith(".db")) continue;
        const db = new DatabaseSync(join(dataDir, entry.name));
        try {
          const row = db.prepare("PRAGMA integrity_check").get() as { integrity_check: string };
          assert.equal(row.integrity_check, "ok", entry.name);
        } finally {
          db.close();
        }
      }

      const expected = new Map<string, Map<number, number>>();
      for (let batch = 0; batch < end; batch++) {
        for (const point of crashBatch(batch)) {
          const key = `${point.agentId}/${point.metricName}/${point.labels.series ?? ""}`;
          let samples = expected.get(key);
          if (!samples) expected.set(key, samples = new Map());
          samples.set(point.timestampMs, point.value);
        }
      }
      const clock = new ManualClock(crashNowMs(end));
      const store = openChunkStore({ dataDir, clock });
      try {
        assertStored(store, expected, "after the last run");
        clock.set(clock.now() + 2 * 86_400_000);
        while (store.maintain!(clock.now(), 50)) { /* compact what is left */ }
        assert.deepEqual(store.stats().uncompactedDays, []);
        assertStored(store, expected, "compacted");
      } finally {
        store.close();
      }
    } finally {
      await Deno.remove(dataDir, { recursive: true });
    }
  },
});
