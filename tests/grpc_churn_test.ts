/**
 * The server survives denoland/deno#36788: 2,000 connect–call–close cycles from a Node.js
 * grpc-js client (the pattern that aborts a grpc-js server under Deno inside nghttp2) while the
 * HTTP health endpoint keeps answering; afterwards ingest works again within a second and every
 * acknowledged batch is in storage.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { openAgentRegistry } from "../server/agents/sqlite_registry.ts";
import { DEFAULT_INGEST_LIMITS } from "../server/config.ts";
import { encodeBatch } from "./helpers/ingest_fakes.ts";
import { IngestService } from "../server/ingest/service.ts";
import { GrpcIngestSupervisor } from "../server/ingest/supervisor.ts";
import { openRowStore } from "../server/storage/row_engine.ts";
import { systemClock } from "../shared/clock.ts";
import { createLogger, memoryLogger } from "../shared/log.ts";
import type { IMetricBatchProto } from "../shared/proto/mod.ts";
import { listenerCommand, reportMetrics, withClient } from "./helpers/grpc_client.ts";

const CYCLES = 2_000;
/** Parallel short-lived connections from the Node client. */
const CONCURRENCY = Number(Deno.env.get("OXMON_CHURN_CONCURRENCY") ?? 16);
const POINTS_PER_BATCH = 5;
const CLIENT_SCRIPT = fileURLToPath(new URL("./helpers/grpc_churn_client.mjs", import.meta.url));

function churnBatch(index: number, baseMs: number): IMetricBatchProto {
  const dataPoints = [];
  for (let n = 0; n < POINTS_PER_BATCH; n++) {
    dataPoints.push({
      timestampMs: baseMs + index,
      agentId: "churn-agent",
      metricName: "churn.sequence",
      value: index,
      labels: { n: String(n) },
    });
  }
  return { agentId: "churn-agent", timestampMs: baseMs + index, dataPoints };
}

Deno.test("ingest survives 2,000 Node.js connect-call-close cycles with health answering", async () => {
  const dir = await Deno.makeTempDir({ prefix: "oxmon-churn-" });
  const store = openRowStore({ dataDir: dir });
  const registry = openAgentRegistry(join(dir, "agents.db"));
  const log = memoryLogger("info");
  const service = new IngestService({
    store,
    registry,
    limits: DEFAULT_INGEST_LIMITS,
    agentTokens: [],
    retentionDays: 7,
    clock: systemClock,
    log,
  });
  const supervisor = new GrpcIngestSupervisor({
    host: "127.0.0.1",
    port: 0,
    service,
    log,
    command: listenerCommand(),
  });
  const health = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen: () => {} },
    () => Response.json({ status: "ok", ingest: service.stats(), grpc: supervisor.stats() }),
  );
  const started = performance.now();
  try {
    const { port } = await supervisor.start();

    const baseMs = Date.now() - 60_000;
    const batchesFile = `${dir}/batches.bin`;
    const encoded = Array.from({ length: CYCLES }, (_, i) => encodeBatch(churnBatch(i, baseMs)));
    const file = new Uint8Array(encoded.reduce((sum, bytes) => sum + 4 + bytes.length, 0));
    let at = 0;
    for (const bytes of encoded) {
      new DataView(file.buffer).setUint32(at, bytes.length);
      file.set(bytes, at + 4);
      at += 4 + bytes.length;
    }
    await Deno.writeFile(batchesFile, file);

    // The health endpoint is polled throughout; every poll must answer.
    let polling = true;
    const poll = { ok: 0, failed: 0, maxMs: 0 };
    const poller = (async () => {
      while (polling) {
        const t0 = performance.now();
        try {
          const response = await fetch(`http://127.0.0.1:${health.addr.port}/`, {
            signal: AbortSignal.timeout(2_000),
          });
          await response.body?.cancel();
          if (response.ok) poll.ok++;
          else poll.failed++;
        } catch {
          poll.failed++;
        }
        poll.maxMs = Math.max(poll.maxMs, performance.now() - t0);
        await new Promise((resolve) => setTimeout(resolve, 25));
      }
    })();

    // The defect strikes at random; if it has not by half-time, a SIGKILL makes sure a restart
    // under churn is exercised in every run.
    let forcedKills = 0;
    const chaos = (async () => {
      while (polling && supervisor.stats().requests < CYCLES / 2) {
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      const pid = supervisor.stats().pid;
      if (polling && supervisor.stats().restarts === 0 && pid !== undefined) {
        Deno.kill(pid, "SIGKILL");
        forcedKills++;
      }
    })();

    const output = await new Deno.Command("node", {
      args: [CLIENT_SCRIPT, String(port), batchesFile, String(CYCLES), String(CONCURRENCY)],
      stdout: "piped",
      stderr: "piped",
    }).output();
    polling = false;
    await Promise.all([poller, chaos]);
    assert.equal(output.code, 0, new TextDecoder().decode(output.stderr));
    const result = JSON.parse(new TextDecoder().decode(output.stdout)) as {
      acked: number[];
      failures: Record<string, number>;
      ms: number;
    };

    // Ingest works again within a second (a crash at the very end is restarted by then).
    const recoveryStarted = performance.now();
    let recovered = false;
    // A fresh connection per attempt: a reused channel would wait out grpc-js's reconnect
    // backoff (1 s) after a refused connection, which measures the client, not the server.
    while (!recovered && performance.now() - recoveryStarted < 1_000) {
      try {
        const reply = await withClient(
          port,
          (client) => reportMetrics(client, churnBatch(CYCLES, baseMs), 500),
        );
        recovered = reply.success === true;
      } catch {
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    }
    const recoveryMs = performance.now() - recoveryStarted;
    assert.ok(
      recovered,
      `ingest did not work again within a second (${recoveryMs} ms)\n${
        log.lines.slice(-20).join("\n")
      }\n${JSON.stringify(result.failures)}`,
    );

    // Every acknowledged batch is in storage, whole.
    const stored = new Map<number, number>();
    for (const series of store.queryRaw({ fromMs: baseMs, toMs: baseMs + CYCLES })) {
      for (const sample of series.samples) {
        stored.set(sample.value, (stored.get(sample.value) ?? 0) + 1);
      }
    }
    const missing = result.acked.filter((index) => stored.get(index) !== POINTS_PER_BATCH);
    assert.deepEqual(missing, [], "acknowledged batches missing from storage");
    assert.ok(result.acked.length > CYCLES / 2, `only ${result.acked.length} batches acknowledged`);
    assert.ok(supervisor.stats().restarts >= 1, "the child was never restarted");
    assert.equal(poll.failed, 0, `health endpoint failed ${poll.failed} times`);
    assert.ok(poll.ok > 10, `health endpoint polled only ${poll.ok} times`);

    createLogger({ level: "info" }).info("churn test measured", {
      cycles: CYCLES,
      concurrency: CONCURRENCY,
      acked: result.acked.length,
      call_failures: result.failures,
      child_restarts: supervisor.stats().restarts,
      forced_kills: forcedKills,
      client_ms: result.ms,
      health_polls: poll.ok,
      health_max_ms: Math.round(poll.maxMs),
      recovery_ms: Math.round(recoveryMs),
      total_ms: Math.round(performance.now() - started),
    });
  } finally {
    await supervisor.stop();
    await health.shutdown();
    store.close();
    registry.close();
    await Deno.remove(dir, { recursive: true });
  }
});
