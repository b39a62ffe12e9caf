/**
 * End-to-end gRPC ingest throughput: `clients` concurrent grpc-js clients (one long-lived channel
 * each, as agents keep) each send `batches` batches of `points` points to a running server and
 * wait for every acknowledgement, i.e. every commit.
 *
 * Run directly (`deno run -A tests/bench/ingest_bench.ts [--store memory|row|chunk]
 * [--clients 50] [--batches 20] [--points 1000] [--rounds 1] [--no-group] [--profile DIR]`) it
 * starts the server stack — supervisor, listener child, storage in a temp dir — in a process of
 * its own (as in production: the clients must not share the server's event loop) and prints
 * one JSON line per round. `--store memory` stands in an in-memory store for the engine, to see
 * the transport (listener child, socket, decode, validation); `--no-group` turns group commit
 * off; `--profile DIR` writes CPU profiles of the server and the listener child. Later rounds
 * send newer samples of the same series, so round 1 includes creating the series and the
 * others are the steady state.
 *
 * CPU is reported per batch for the clients (this process) and, when the server's pid is
 * known, for the server and its listener child together: on a 2-core machine the clients
 * compete with the server, so the rate alone does not say who spent the time.
 */
import { Buffer } from "node:buffer";
import { join } from "node:path";
import process from "node:process";
import { parseArgs } from "node:util";
import { type Client, Client as GrpcClient, credentials, Metadata } from "@grpc/grpc-js";
import type { MetricDataPoint } from "../../shared/types.ts";
import {
  decodeReportResponse,
  encodeMetricBatch,
  REPORT_METRICS_PATH,
} from "../../shared/wire/mod.ts";

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
  /**
   * Timestamp of every client's first batch; the following ones are a second apart. Default:
   * so that the last batch is a minute old (inside retention, never in the future).
   */
  firstTimestampMs?: number;
  /** The server's process id: its CPU (with its children's) is then reported. Linux only. */
  serverPid?: number;
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
  /** CPU this process (the clients) spent per acknowledged batch in the timed part. */
  clientCpuMsPerBatch: number;
  /** CPU of the server process per acknowledged batch, when `serverPid` was given. */
  serverCpuMsPerBatch?: number;
  /** CPU of the server's children (the gRPC listener) per acknowledged batch, likewise. */
  listenerCpuMsPerBatch?: number;
}

/** Distinct series per batch: 50 metrics × (points / 50) label values, interleaved like agents. */
function encodeBenchBatch(agentId: string, points: number, timestampMs: number): Uint8Array {
  const dataPoints: MetricDataPoint[] = new Array(points);
  for (let i = 0; i < points; i++) {
    dataPoints[i] = {
      timestampMs,
      agentId,
      metricName: `bench.metric_${i % 50}`,
      value: (i * 7919 + timestampMs / 1000) % 1000 / 10,
      labels: { series: String(Math.floor(i / 50)) },
    };
  }
  return encodeMetricBatch({ agentId, timestampMs, dataPoints });
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))];
}

const CLOCK_TICKS_PER_SEC = 100;

export interface TreeCpuMs {
  /** The process itself. */
  own: number;
  /** Its descendants: live ones, and reaped ones through its cutime/cstime. */
  children: number;
}

/** CPU ms used so far by a process and its descendants, from `/proc`; undefined when gone. */
export function processTreeCpuMs(pid: number): TreeCpuMs | undefined {
  let stat: string;
  try {
    stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
  } catch {
    return undefined;
  }
  // Fields after the parenthesised command name: state is field 3, utime 14 … cstime 17.
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  const ms = (field: number) => Number(fields[field - 3]) * 1000 / CLOCK_TICKS_PER_SEC;
  const cpu = { own: ms(14) + ms(15), children: ms(16) + ms(17) };
  for (const task of Deno.readDirSync(`/proc/${pid}/task`)) {
    let children = "";
    try {
      children = Deno.readTextFileSync(`/proc/${pid}/task/${task.name}/children`);
    } catch {
      continue;
    }
    for (const child of children.split(" ").filter(Boolean)) {
      const tree = processTreeCpuMs(Number(child));
      if (tree) cpu.children += tree.own + tree.children;
    }
  }
  return cpu;
}

function clientCpuMs(): number {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1000;
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
  // New on every run by default, so nothing is deduplicated away.
  const startMs = options.firstTimestampMs ?? Date.now() - 60_000 - batches * 1_000;
  // Encoded up front so the clients spend their CPU on the wire, not on protobuf.
  const encoded = Array.from(
    { length: clients },
    (_, c) =>
      Array.from(
        { length: batches },
        (_, b) => Buffer.from(encodeBenchBatch(`${prefix}-${c}`, points, startMs + b * 1_000)),
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
  // The request is already a Buffer: the serializer hands it over without a copy.
  const serialize = (bytes: Buffer) => bytes;
  const deserialize = (raw: Buffer) => decodeReportResponse(raw);
  const callOptions = { deadline: Infinity };
  const call = (client: Client, bytes: Buffer) =>
    new Promise<boolean>((resolve) => {
      client.makeUnaryRequest(
        REPORT_METRICS_PATH,
        serialize,
        deserialize,
        bytes,
        metadata,
        callOptions,
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
    const serverCpuStart = options.serverPid ? processTreeCpuMs(options.serverPid) : undefined;
    const clientCpuStart = clientCpuMs();
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
    const clientCpu = clientCpuMs() - clientCpuStart;
    const serverCpuEnd = options.serverPid ? processTreeCpuMs(options.serverPid) : undefined;
    const batchesDone = Math.max(1, acknowledged / points);
    latencies.sort((a, b) => a - b);
    const result: IngestBenchResult = {
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
      clientCpuMsPerBatch: Math.round(clientCpu / batchesDone * 100) / 100,
    };
    if (serverCpuStart !== undefined && serverCpuEnd !== undefined) {
      const perBatch = (ms: number) => Math.round(ms / batchesDone * 100) / 100;
      result.serverCpuMsPerBatch = perBatch(serverCpuEnd.own - serverCpuStart.own);
      result.listenerCpuMsPerBatch = perBatch(serverCpuEnd.children - serverCpuStart.children);
    }
    return result;
  } finally {
    for (const client of channels) client.close();
  }
}

const STORES = ["memory", "row", "chunk"] as const;
type StoreKind = typeof STORES[number];

/**
 * Server mode (`--serve`): the ingest stack alone, in this process. Prints
 * `{"port","listenerPid"}` once ready; on EOF on stdin it stops and prints the ingest counters.
 */
async function serve(kind: StoreKind, group: boolean, listenerArgs: string[]): Promise<void> {
  const { systemClock } = await import("../../shared/clock.ts");
  const { MS_PER_DAY } = await import("../../shared/time.ts");
  const { createLogger } = await import("../../shared/log.ts");
  const { DEFAULT_INGEST_LIMITS } = await import("../../server/config.ts");
  const { IngestService } = await import("../../server/ingest/service.ts");
  const { GrpcIngestSupervisor } = await import("../../server/ingest/supervisor.ts");
  const { MemoryRegistry, MemoryStore } = await import("../helpers/ingest_fakes.ts");
  const { openRowStore } = await import("../../server/storage/row_engine.ts");
  const { openAgentRegistry } = await import("../../server/agents/sqlite_registry.ts");
  const { listenerCommand } = await import("../helpers/grpc_client.ts");

  const dir = await Deno.makeTempDir({ prefix: "oxmon-ingest-bench-" });
  const retentionDays = 7;
  let store;
  if (kind === "memory") store = new MemoryStore();
  else if (kind === "row") store = openRowStore({ dataDir: dir });
  else {
    const { openChunkStore } = await import("../../server/storage/chunk/engine.ts");
    store = openChunkStore({ dataDir: dir, lateSampleMaxAgeMs: retentionDays * MS_PER_DAY });
  }
  const registry = kind === "memory"
    ? new MemoryRegistry()
    : openAgentRegistry(join(dir, "agents.db"));
  const log = createLogger({ level: "warn" });
  const service = new IngestService({
    store,
    registry,
    limits: DEFAULT_INGEST_LIMITS,
    agentTokens: [],
    retentionDays,
    clock: systemClock,
    log,
  });
  const command = listenerCommand();
  command.args.splice(1, 0, ...listenerArgs);
  const supervisor = new GrpcIngestSupervisor({
    host: "127.0.0.1",
    port: 0,
    // Without `handleMany` the supervisor commits requests one at a time.
    service: group ? service : { handle: (bytes, metadata) => service.handle(bytes, metadata) },
    log,
    command,
  });
  try {
    const { port } = await supervisor.start();
    console.log(JSON.stringify({ port, listenerPid: supervisor.stats().pid }));
    for await (const _ of Deno.stdin.readable) { /* until EOF */ }
    await supervisor.stop();
    console.log(JSON.stringify({ ingest: service.stats(), supervisor: supervisor.stats() }));
  } finally {
    store.close();
    registry.close();
    await Deno.remove(dir, { recursive: true });
  }
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      serve: { type: "boolean", default: false },
      store: { type: "string", default: "row" },
      clients: { type: "string", default: "50" },
      batches: { type: "string", default: "20" },
      points: { type: "string", default: "1000" },
      rounds: { type: "string", default: "1" },
      profile: { type: "string" },
      "no-group": { type: "boolean", default: false },
    },
  });
  const kind = values.store as StoreKind;
  if (!STORES.includes(kind)) {
    throw new RangeError(`--store: expected ${STORES.join(", ")}, got ${values.store}`);
  }
  const profileArgs = values.profile ? ["--cpu-prof", `--cpu-prof-dir=${values.profile}`] : [];
  if (values.serve) return await serve(kind, !values["no-group"], profileArgs);

  const server = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      ...profileArgs,
      new URL(import.meta.url).pathname,
      "--serve",
      "--store",
      kind,
      ...(values.profile ? ["--profile", values.profile] : []),
      ...(values["no-group"] ? ["--no-group"] : []),
    ],
    stdin: "piped",
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  const lines = server.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let text = "";
  const nextLine = async (): Promise<Record<string, unknown>> => {
    while (!text.includes("\n")) {
      const { value, done } = await lines.read();
      if (done) throw new Error("the bench server exited early");
      text += value;
    }
    const line = text.slice(0, text.indexOf("\n"));
    text = text.slice(line.length + 1);
    return JSON.parse(line);
  };
  const ready = await nextLine();
  const clients = Number(values.clients);
  const batches = Number(values.batches);
  const rounds = Number(values.rounds);
  const firstMs = Date.now() - 60_000 - rounds * batches * 1_000;
  for (let round = 0; round < rounds; round++) {
    const result = await benchIngest({
      clients,
      batches,
      points: Number(values.points),
      port: ready.port as number,
      firstTimestampMs: firstMs + round * batches * 1_000,
      serverPid: server.pid,
    });
    console.log(
      JSON.stringify({ store: kind, group: !values["no-group"], round: round + 1, ...result }),
    );
  }
  // The clients are closed first: a Deno grpc-js client hit by the server's GOAWAY can abort in
  // nghttp2 just like the server (denoland/deno#36788); the listener child is restarted instead.
  await server.stdin.close();
  console.log(JSON.stringify(await nextLine()));
  await lines.cancel();
  await server.status;
}

if (import.meta.main) await main();
