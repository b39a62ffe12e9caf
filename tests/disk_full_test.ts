/**
 * Disk full, then space freed, under load, on a real small tmpfs and the real server program:
 * writes are refused with UNAVAILABLE (never acknowledged without being stored), reads and
 * health keep answering, health says why and since when, and ingest resumes by itself within
 * seconds of the space coming back — no restart. Every acknowledged sample is there exactly
 * once afterwards, and every SQLite file passes integrity_check.
 */
import assert from "node:assert/strict";
import { statfsSync } from "node:fs";
import { DatabaseSync } from "node:sqlite";
import { reportMetrics, type TestGrpcClient, withClient } from "./helpers/grpc_client.ts";
import { spawnServer } from "./helpers/server_cli.ts";
import { eventually } from "./helpers/server_process.ts";
import { mountTmpfs, tmpfsUnavailable } from "./helpers/tmpfs.ts";

const UNAVAILABLE = 14;
const SERIES = 40;
const AGENT = "disk-full-1";

interface Load {
  /** Batches acknowledged. */
  acked: number;
  /** Calls refused with UNAVAILABLE (each retried until acknowledged). */
  unavailable: number;
  /** When the last refusal and the first success after it happened. */
  lastRefusalMs: number;
  lastAckMs: number;
  stop(): Promise<void>;
}

/** One batch after another, each retried until acknowledged, as an agent does. */
function startLoad(client: TestGrpcClient, startMs: number): Load {
  let running = true;
  const load: Load = {
    acked: 0,
    unavailable: 0,
    lastRefusalMs: 0,
    lastAckMs: 0,
    stop: async () => {
      running = false;
      await done;
    },
  };
  const done = (async () => {
    for (let batch = 0; running; batch++) {
      const timestampMs = startMs + batch * 1_000;
      const dataPoints = Array.from({ length: SERIES }, (_, i) => ({
        agentId: AGENT,
        metricName: "disk.test",
        labels: { n: String(i), pad: "x".repeat(100) },
        timestampMs,
        value: batch + i / 1000,
      }));
      for (;;) {
        try {
          await reportMetrics(client, { agentId: AGENT, timestampMs, dataPoints });
          load.acked++;
          load.lastAckMs = Date.now();
          break;
        } catch (error) {
          assert.equal((error as { code: number }).code, UNAVAILABLE, String(error));
          load.unavailable++;
          load.lastRefusalMs = Date.now();
          await new Promise((resolve) => setTimeout(resolve, 50));
        }
      }
    }
  })();
  return load;
}

function integrityOfEvery(dir: string): Record<string, string> {
  const results: Record<string, string> = {};
  for (const entry of Deno.readDirSync(dir)) {
    if (!entry.name.endsWith(".db")) continue;
    const db = new DatabaseSync(`${dir}/${entry.name}`);
    try {
      results[entry.name] = String(Object.values(db.prepare("PRAGMA integrity_check").get()!)[0]);
    } finally {
      db.close();
    }
  }
  return results;
}

// A write-ahead log grows to about 4 MiB before its checkpoint: the threshold leaves room for it.
for (const minFree of [0, 16 * 1024 * 1024]) {
  const what = minFree === 0
    ? "a full disk refuses writes, then ingest resumes by itself once space is freed"
    : "min_free_bytes refuses writes before the disk is full, and takes them again after";
  Deno.test({
    name: what,
    ignore: tmpfsUnavailable() !== undefined,
    async fn() {
      const tmpfs = await mountTmpfs(minFree === 0 ? 20 : 40);
      const configDir = await Deno.makeTempDir({ prefix: "oxmon-disk-full-" });
      const dataDir = `${tmpfs.path}/data`;
      const configPath = `${configDir}/server.toml`;
      Deno.writeTextFileSync(configPath, `min_free_bytes = ${minFree}\n`);
      const server = spawnServer(dataDir, { configPath });
      try {
        const { grpcPort, apiUrl } = await server.ready;
        const getJson = async (path: string) => {
          const response = await fetch(apiUrl + path);
          return { status: response.status, body: await response.json() };
        };
        const startMs = Date.now() - 3_600_000;
        await withClient(grpcPort, async (client) => {
          const load = startLoad(client, startMs);
          await eventually(() => load.acked >= 20, "20 batches acknowledged");

          // The disk fills up to the last byte, or (with min_free_bytes) to half the threshold:
          // below it, but with room SQLite would still have used.
          if (minFree === 0) tmpfs.fill();
          else fillLeaving(tmpfs.path, minFree / 2);
          await eventually(() => load.unavailable > 0, "a write refused with UNAVAILABLE");
          const refusedAt = Date.now();
          const health = await getJson("/api/v1/health");
          assert.equal(health.status, 200, "health answers while writes are refused");
          assert.equal(health.body.status, "degraded");
          const kinds = health.body.issues.map((issue: { kind: string }) => issue.kind);
          assert.ok(
            kinds.includes(minFree > 0 ? "low_disk_space" : "writes_refused"),
            JSON.stringify(health.body.issues),
          );
          assert.ok(health.body.issues.every((issue: { since?: string }) => issue.since));
          if (minFree > 0) {
            assert.ok(!kinds.includes("writes_refused"), "refused before SQLite met the wall");
          }
          const reads = await getJson(`/api/v1/metrics?agent=${AGENT}&from=${startMs}`);
          assert.equal(reads.status, 200, "reads are served while writes are refused");
          assert.equal(reads.body.series.length, SERIES);
          // Refused for a while: the refusal holds, it is not a one-off.
          await new Promise((resolve) => setTimeout(resolve, 1_500));
          const ackedWhileFull = load.acked;

          tmpfs.free();
          const freedAt = Date.now();
          await eventually(
            () => load.acked > ackedWhileFull + 10,
            "ingest resuming after space was freed",
            15_000,
          );
          const resumedAfterMs = load.lastAckMs - freedAt;
          await eventually(
            async () => (await getJson("/api/v1/health")).body.status === "ok",
            "health ok again",
          );
          await load.stop();
          console.log(
            `disk full (min_free_bytes ${minFree}): ${load.unavailable} calls refused over ` +
              `${freedAt - refusedAt} ms, ingest resumed ${Math.max(0, resumedAfterMs)} ms ` +
              `after space was freed, ${load.acked} batches acknowledged`,
          );
          assert.ok(resumedAfterMs < 10_000, `resumed ${resumedAfterMs} ms after freeing`);

          // Every acknowledged batch, exactly once.
          const stored = await getJson(
            `/api/v1/metrics?agent=${AGENT}&from=${startMs}&to=${startMs + load.acked * 1_000}`,
          );
          assert.equal(stored.body.series.length, SERIES);
          for (const series of stored.body.series) {
            const times = series.points.map((p: { timestamp: string }) => Date.parse(p.timestamp));
            assert.equal(times.length, load.acked, `samples of ${JSON.stringify(series.labels)}`);
            assert.equal(new Set(times).size, times.length);
          }
        });
        assert.equal((await server.stop()).code, 0);
        for (const [file, result] of Object.entries(integrityOfEvery(dataDir))) {
          assert.equal(result, "ok", `integrity_check of ${file}`);
        }
      } finally {
        await server.kill();
        await tmpfs.unmount();
        await Deno.remove(configDir, { recursive: true });
      }
    },
  });
}

/** Fills the file system at `dir` until `leave` bytes are free. */
function fillLeaving(dir: string, leave: number): void {
  using file = Deno.openSync(`${dir}/ballast`, { write: true, create: true, append: true });
  const block = new Uint8Array(64 * 1024);
  for (;;) {
    const { bavail, bsize } = statfsSync(dir);
    const free = Number(bavail) * Number(bsize);
    if (free <= leave + block.length) break;
    file.writeSync(block);
  }
}
