/**
 * End-to-end gRPC ingest throughput: `clients` concurrent grpc-js clients (one long-lived channel
 * each, as agents keep) each send `batches` batches of `points` points to a running server and
 * wait for every acknowledgement, i.e. every commit.
 *
 * Run directly (`deno run -A tests/bench/ingest_bench.ts [--store row|memory] [--clients 50]
 * [--batches 20] [--points 1000]`) it starts its own server stack — supervisor, listener child,
 * storage in a temp dir — and prints the result as JSON. `--store memory` measures the transport
 * alone (listener child, pipe, decode, validation) without a storage engine.
 */
import { Buffer } from "node:buffer";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { type Client, Client as GrpcClient, credentials, Metadata } from "@grpc/grpc-js";
import { MetricBatchProto, REPORT_METRICS_PATH, ReportResponse } from "../../shared/proto/mod.ts";

export interface IngestBenchOptions {
  /** Concurrent clients, each with its own channel. */
  clients: number;
  /** Batches each client sends, one after another. */
  batches: number;
  /** Points per batch. */
  points: number;
  port: number;
  /** Default 127.0.0.1. */
  host?: string;
  /** Bearer token, when the server requires one. */
  token?: string;
  /** Agent ids are `${agentPrefix}-${client}`. Default "bench". */
  agentPrefix?: string;
}

export interface IngestBenchResult {
  clients: number;
  batches: number;
  points: number;
  acknowledgedPoints: number;
  failedBatches: number;
  seconds: number;
  pointsPerSec: number;
  batchesPerSec: number;
  latencyMs: { p50: number; p95: number; max: number };
}

/** Distinct series per batch: 50 metrics × (points / 50) label values, interleaved like agents. */
function encodeBenchBatch(agentId: string, points: number, timestampMs: number): Uint8Array {
  const dataPoints = new Array(points);
  for (let i = 0; i < points; i++) {
    dataPoints[i] = {
      timestampMs,
      agentId,
      metricName: `bench.metric_${i % 50}`,
      value: (i * 7919 + timestampMs / 1000) % 1000 / 10,
      labels: { series: String(Math.floor(i / 50)) },
    };
  }
  return MetricBatchProto.encode({ agentId, timestampMs, dataPoints }).finish();
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))];
}

/** Sends the batches and measures from the first call to the last acknowledgement. */
export async function benchIngest(options: IngestBenchOptions): Promise<IngestBenchResult> {
  const { clients, batches, points, port } = options;
  for (const [name, value] of Object.entries({ clients, batches, points, port })) {
    if (!Number.isInteger(value) || value < 1) {
      throw new RangeError(`Cannot run the ingest bench: ${name} must be a positive integer`);
    }
  }
  const host = options.host ?? "127.0.0.1";
  const prefix = options.agentPrefix ?? "bench";
  // Timestamps a second apart, ending a minute ago: inside retention, never in the future, and
  // new on every run so nothing is deduplicated away.
  const startMs = Date.now() - 60_000 - batches * 1_000;
  // Encoded up front so the clients spend their CPU on the wire, not on protobuf.
  const encoded = Array.from(
    { length: clients },
    (_, c) =>
      Array.from(
        { length: batches },
        (_, b) => encodeBenchBatch(`${prefix}-${c}`, points, startMs + b * 1_000),
      ),
  );
  const metadata = new Metadata();
  if (options.token) metadata.set("authorization", `Bearer ${options.token}`);
  const channels: Client[] = [];
  for (let c = 0; c < clients; c++) {
    // Distinct channel options keep grpc-js from sharing one connection between the clients.
    channels.push(
      new GrpcClient(`${host}:${port}`, credentials.createInsecure(), { "oxmon.bench_client": c }),
    );
  }
  const call = (client: Client, bytes: Uint8Array) =>
    new Promise<boolean>((resolve) => {
      client.makeUnaryRequest(
        REPORT_METRICS_PATH,
        (raw: Uint8Array) => Buffer.from(raw),
        (raw: Buffer) => ReportResponse.decode(raw),
        bytes,
        metadata,
        { deadline: Date.now() + 60_000 },
        (error, response) => resolve(!error && response?.success === true),
      );
    });

  const latencies: number[] = [];
  let acknowledged = 0;
  let failed = 0;
  try {
    // Connect first so the timed part measures ingest, not 50 handshakes.
    await Promise.all(
      channels.map((client) =>
        new Promise<void>((resolve, reject) =>
          client.waitForReady(Date.now() + 10_000, (error) => error ? reject(error) : resolve())
        )
      ),
    );
    const started = performance.now();
    await Promise.all(channels.map(async (client, c) => {
      for (const bytes of encoded[c]) {
        const t0 = performance.now();
        if (await call(client, bytes)) acknowledged += points;
        else failed++;
        latencies.push(performance.now() - t0);
      }
    }));
    const seconds = (performance.now() - started) / 1000;
    latencies.sort((a, b) => a - b);
    return {
      clients,
      batches,
      points,
      acknowledgedPoints: acknowledged,
      failedBatches: failed,
      seconds: Math.round(seconds * 1000) / 1000,
      pointsPerSec: Math.round(acknowledged / seconds),
      batchesPerSec: Math.round((acknowledged / points) / seconds),
      latencyMs: {
        p50: Math.round(percentile(latencies, 0.5) * 10) / 10,
        p95: Math.round(percentile(latencies, 0.95) * 10) / 10,
        max: Math.round((latencies.at(-1) ?? 0) * 10) / 10,
      },
    };
  } finally {
    for (const client of channels) client.close();
  }
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      store: { type: "string", default: "row" },
      clients: { type: "string", default: "50" },
      batches: { type: "string", default: "20" },
      points: { type: "string", default: "1000" },
    },
  });
  const { systemClock } = await import("../../shared/clock.ts");
  const { createLogger } = await import("../../shared/log.ts");
  const { DEFAULT_INGEST_LIMITS } = await import("../../server/config.ts");
  const { IngestService } = await import("../../server/ingest/service.ts");
  const { GrpcIngestSupervisor } = await import("../../server/ingest/supervisor.ts");
  const { MemoryRegistry, MemoryStore } = await import("../../server/ingest/_testing.ts");
  const { openRowStore } = await import("../../server/storage/row_engine.ts");
  const { openAgentRegistry } = await import("../../server/agents/sqlite_registry.ts");
  const { listenerCommand } = await import("../helpers/grpc_client.ts");

  const dir = await Deno.makeTempDir({ prefix: "oxmon-ingest-bench-" });
  const memory = values.store === "memory";
  const store = memory ? new MemoryStore() : openRowStore({ dataDir: dir });
  const registry = memory ? new MemoryRegistry() : openAgentRegistry(join(dir, "agents.db"));
  const log = createLogger({ level: "warn" });
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
  try {
    const { port } = await supervisor.start();
    const result = await benchIngest({
      clients: Number(values.clients),
      batches: Number(values.batches),
      points: Number(values.points),
      port,
    });
    console.log(JSON.stringify({ store: values.store, ...result, ingest: service.stats() }));
  } finally {
    await supervisor.stop();
    store.close();
    registry.close();
    await Deno.remove(dir, { recursive: true });
  }
}

if (import.meta.main) await main();
