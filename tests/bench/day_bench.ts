/**
 * Storage measured as a user would see it (issue 12): a day of host metrics (5 hosts × 50
 * series every 10 s, 2.16M samples, `synthetic.ts`) sent over gRPC to the server program in its
 * own process by an independent client (grpc-js here, batches of 20 rounds of one host, 1,000
 * points, encoded with the protobufjs oracle, not the server's codec):
 *
 * - in time order per host: one connection per host, its batches one after another;
 * - re-ordered: the same batches, host after host, taken by 8 connections from one queue, so
 *   eight consecutive batches of a host (160 rounds, 27 minutes of data) race each other;
 *
 * then, once the server says the day is compacted (`/api/v1/health`), a clean stop and the bytes
 * of the whole data directory (every file: partitions, index, rollups, agents, alerts, …).
 *
 * Beside it in the same run: the same code measured from another checkout (`baselineDir`, e.g.
 * main before this work), and VictoriaMetrics (Debian's `victoria-metrics`, when installed) fed
 * the same samples through `/api/v1/import`, stopped, and measured the same way.
 *
 * Also: one series over 30 days at a 1 h step over HTTP (p50), with the oldest 15 days past
 * raw retention (only in rollups), against VictoriaMetrics' `query_range` on the same data; and
 * the CPU the rollups cost per million samples, measured in process.
 */
import { Buffer } from "node:buffer";
import { join } from "node:path";
import { type Client, Client as GrpcClient, credentials, Metadata } from "@grpc/grpc-js";
import type { MetricDataPoint } from "../../shared/types.ts";
import { MetricBatchProto, ReportResponse } from "../../shared/proto/mod.ts";
import { REPORT_METRICS_PATH } from "../../shared/wire/method.ts";
import { syntheticAgentId, syntheticBatches } from "./synthetic.ts";
import { processTreeCpuMs } from "./ingest_bench.ts";
import {
  flushVictoriaMetrics,
  startVictoriaMetrics,
  VICTORIA_METRICS_BIN,
} from "../helpers/prometheus_peers.ts";
import {
  coarsen,
  decodeIntervals,
  encodeIntervals,
  FIVE_MINUTES_MS,
  intervalsOf,
  ONE_HOUR_MS,
} from "../../server/storage/chunk/_rollup.ts";
import { DEFAULT_TIERS } from "../../server/storage/chunk/_tiers.ts";
import { startServer } from "./server_process.ts";

const DAY_MS = 86_400_000;
const INTERVAL_MS = 10_000;
/** Rounds per batch: 20 rounds of 50 series, as an agent draining its buffer sends them. */
const ROUNDS_PER_BATCH = 20;
const REORDER_CONNECTIONS = 8;

export interface DayBenchOptions {
  hosts?: number;
  seriesPerHost?: number;
  /** Hours of data (24 is the full day). */
  hours?: number;
  /** A checkout of the code before (its `server/main.ts`), measured the same way. */
  baselineDir?: string;
  /** Series (of one host) loaded for 30 days for the query figure. */
  querySeries?: number;
  queryIterations?: number;
  /** Rounds per batch (default 20: 1,000 points). */
  roundsPerBatch?: number;
  /** Longest wait for the server to compact the day, ms. */
  compactTimeoutMs?: number;
  progress?: (line: string) => void;
}

export interface IngestFigure {
  samples: number;
  seconds: number;
  samplesPerSec: number;
  /** Server process tree CPU per million samples while ingesting, ms. */
  serverCpuMsPerMillion?: number;
  /** Whole data directory after the clean stop. */
  bytes: number;
  bytesPerSample: number;
  /** Bytes of rollup tier files, per raw sample (5 m, 1 h). */
  rollupBytesPerSample?: Record<string, number>;
  /** Seconds from the last acknowledgement until the server reported the day compacted. */
  compactWaitSeconds?: number;
  failedBatches: number;
}

export interface DayBenchResult {
  hosts: number;
  seriesPerHost: number;
  samples: number;
  oxmon: { inOrder: IngestFigure; reordered: IngestFigure };
  baseline?: { inOrder: IngestFigure; reordered: IngestFigure };
  victoriaMetrics?: { inOrder: IngestFigure; reordered: IngestFigure } | { missing: string };
  query30d: {
    series: number;
    oxmonP50Ms: number;
    baselineP50Ms?: number;
    victoriaMetricsP50Ms?: number;
    buckets: number;
  };
  rollupCpu: { atSealMsPerMillion: number; atCompactionMsPerMillion: number };
}

/** Each host's batches of `rounds` rounds, in time order. */
function dayBatches(
  hosts: number,
  series: number,
  startMs: number,
  durationMs: number,
  rounds = ROUNDS_PER_BATCH,
) {
  const byHost = new Map<string, MetricDataPoint[][]>();
  const pending = new Map<string, MetricDataPoint[]>();
  for (
    const round of syntheticBatches({
      agents: hosts,
      seriesPerAgent: series,
      intervalMs: INTERVAL_MS,
      startMs,
      durationMs,
    })
  ) {
    const host = round[0].agentId;
    const list = pending.get(host) ?? [];
    list.push(...round);
    if (list.length >= rounds * series) {
      if (!byHost.has(host)) byHost.set(host, []);
      byHost.get(host)!.push(list);
      pending.set(host, []);
    } else pending.set(host, list);
  }
  for (const [host, list] of pending) {
    if (list.length === 0) continue;
    if (!byHost.has(host)) byHost.set(host, []);
    byHost.get(host)!.push(list);
  }
  return byHost;
}

/** Encodes a batch with the protobufjs oracle. */
function encode(points: MetricDataPoint[]): Buffer {
  return Buffer.from(
    MetricBatchProto.encode({
      agentId: points[0].agentId,
      timestampMs: points[points.length - 1].timestampMs,
      dataPoints: points.map((point) => ({
        timestampMs: point.timestampMs,
        agentId: point.agentId,
        metricName: point.metricName,
        value: point.value,
        labels: point.labels,
      })),
    }).finish(),
  );
}

function directoryBytes(dir: string): number {
  let bytes = 0;
  for (const entry of Deno.readDirSync(dir)) {
    const path = join(dir, entry.name);
    if (entry.isDirectory) bytes += directoryBytes(path);
    else if (entry.isFile) bytes += Deno.statSync(path).size;
  }
  return bytes;
}

/** Sends `queues` of batches, one connection per queue (or `shared` connections on one queue). */
async function send(
  port: number,
  work: { queues: Buffer[][] } | { shared: Buffer[]; connections: number },
): Promise<{ seconds: number; failed: number }> {
  const connections = "queues" in work ? work.queues.length : work.connections;
  const clients: Client[] = Array.from(
    { length: connections },
    (_, c) =>
      new GrpcClient(`127.0.0.1:${port}`, credentials.createInsecure(), { "oxmon.day_client": c }),
  );
  let failed = 0;
  const call = (client: Client, bytes: Buffer) =>
    new Promise<void>((resolve) => {
      client.makeUnaryRequest(
        REPORT_METRICS_PATH,
        (b: Buffer) => b,
        (raw: Buffer) => ReportResponse.decode(raw),
        bytes,
        new Metadata(),
        { deadline: Date.now() + 60_000 },
        (error, response) => {
          if (error || !response?.success) failed++;
          resolve();
        },
      );
    });
  try {
    await Promise.all(
      clients.map((client) =>
        new Promise<void>((resolve, reject) =>
          client.waitForReady(Date.now() + 10_000, (error) => error ? reject(error) : resolve())
        )
      ),
    );
    const started = performance.now();
    if ("queues" in work) {
      await Promise.all(work.queues.map(async (queue, c) => {
        for (const bytes of queue) await call(clients[c], bytes);
      }));
    } else {
      let next = 0;
      await Promise.all(clients.map(async (client) => {
        while (next < work.shared.length) await call(client, work.shared[next++]);
      }));
    }
    return { seconds: (performance.now() - started) / 1000, failed };
  } finally {
    for (const client of clients) client.close();
  }
}

async function health(httpPort: number): Promise<Record<string, unknown>> {
  const response = await fetch(`http://127.0.0.1:${httpPort}/api/v1/health`);
  return await response.json();
}

/** Waits until the server's storage has nothing left to compact or merge (new code only). */
async function waitCompacted(httpPort: number, timeoutMs: number): Promise<number | undefined> {
  const started = performance.now();
  for (;;) {
    const storage = (await health(httpPort)).storage as Record<string, unknown> | null;
    if (!storage || !("uncompacted_days" in storage)) return undefined;
    const days = storage.uncompacted_days as string[];
    if (days.length === 0 && storage.pending_samples === 0) {
      return (performance.now() - started) / 1000;
    }
    if (performance.now() - started > timeoutMs) {
      throw new Error(`the server did not compact ${days.join(", ")} within ${timeoutMs} ms`);
    }
    await new Promise((resolve) => setTimeout(resolve, 1_000));
  }
}

/** One server run: start, send, wait for compaction, stop, measure. */
async function measureServer(
  sourceDir: string,
  dataDir: string,
  work: Parameters<typeof send>[1],
  samples: number,
  timeoutMs: number,
): Promise<IngestFigure> {
  const server = await startServer(sourceDir, dataDir);
  let sent: { seconds: number; failed: number };
  let cpuMs: number | undefined;
  let compactWaitSeconds: number | undefined;
  try {
    const before = processTreeCpuMs(server.pid);
    sent = await send(server.grpcPort, work);
    const after = processTreeCpuMs(server.pid);
    if (before && after) {
      cpuMs = after.own + after.children - before.own - before.children;
    }
    compactWaitSeconds = await waitCompacted(server.httpPort, timeoutMs);
  } finally {
    await server.stop();
  }
  const bytes = directoryBytes(dataDir);
  const rollups: Record<string, number> = {};
  for (const entry of Deno.readDirSync(dataDir)) {
    const match = /^rollup-(\w+)-/.exec(entry.name);
    if (match) {
      rollups[match[1]] = (rollups[match[1]] ?? 0) +
        Deno.statSync(join(dataDir, entry.name)).size / samples;
    }
  }
  return {
    samples,
    seconds: sent.seconds,
    samplesPerSec: Math.round(samples / sent.seconds),
    serverCpuMsPerMillion: cpuMs === undefined ? undefined : cpuMs / (samples / 1e6),
    bytes,
    bytesPerSample: bytes / samples,
    rollupBytesPerSample: Object.keys(rollups).length > 0 ? rollups : undefined,
    compactWaitSeconds,
    failedBatches: sent.failed,
  };
}

function promName(name: string): string {
  return name.replaceAll(".", "_");
}

/** JSON lines for VictoriaMetrics' /api/v1/import: one line per series and batch. */
function importLines(batch: MetricDataPoint[]): string {
  const bySeries = new Map<
    string,
    { metric: Record<string, string>; values: number[]; timestamps: number[] }
  >();
  for (const point of batch) {
    const key = `${point.metricName} ${JSON.stringify(point.labels)}`;
    let line = bySeries.get(key);
    if (!line) {
      line = {
        metric: { __name__: promName(point.metricName), agent: point.agentId, ...point.labels },
        values: [],
        timestamps: [],
      };
      bySeries.set(key, line);
    }
    line.values.push(point.value);
    line.timestamps.push(point.timestampMs);
  }
  return [...bySeries.values()].map((line) => JSON.stringify(line)).join("\n") + "\n";
}

/** VictoriaMetrics fed the same batches over HTTP import, then stopped and measured. */
async function measureVictoriaMetrics(
  batches: { queues: MetricDataPoint[][][] } | { shared: MetricDataPoint[][]; connections: number },
  samples: number,
): Promise<IngestFigure> {
  const peer = await startVictoriaMetrics();
  try {
    const post = async (batch: MetricDataPoint[]) => {
      const response = await fetch(`${peer.url}/api/v1/import`, {
        method: "POST",
        body: importLines(batch),
      });
      await response.body?.cancel();
      if (!response.ok) throw new Error(`VictoriaMetrics import: ${response.status}`);
    };
    const started = performance.now();
    if ("queues" in batches) {
      await Promise.all(batches.queues.map(async (queue) => {
        for (const batch of queue) await post(batch);
      }));
    } else {
      let next = 0;
      await Promise.all(Array.from({ length: batches.connections }, async () => {
        while (next < batches.shared.length) await post(batches.shared[next++]);
      }));
    }
    await flushVictoriaMetrics(peer);
    const seconds = (performance.now() - started) / 1000;
    await peer.kill();
    const bytes = directoryBytes(peer.dataDir);
    return {
      samples,
      seconds,
      samplesPerSec: Math.round(samples / seconds),
      bytes,
      bytesPerSample: bytes / samples,
      failedBatches: 0,
    };
  } finally {
    await peer.stop();
  }
}

/** The p50 of `iterations` GETs of `url` (after 5 untimed ones). */
async function p50(
  url: string,
  iterations: number,
  check: (body: unknown) => number,
): Promise<[number, number]> {
  let result = 0;
  const times: number[] = [];
  for (let i = 0; i < iterations + 5; i++) {
    const started = performance.now();
    const response = await fetch(url);
    const body = await response.json();
    if (!response.ok) throw new Error(`GET ${url}: ${response.status} ${JSON.stringify(body)}`);
    if (i >= 5) times.push(performance.now() - started);
    result = check(body);
  }
  times.sort((a, b) => a - b);
  return [times[Math.floor(times.length / 2)], result];
}

/**
 * 30 days of one host (`series` series) loaded into a server that keeps raw data 31 days, then
 * the server restarted with the default (15): the oldest days are left in the rollups only.
 */
async function measureQuery30d(
  sourceDir: string,
  dir: string,
  series: number,
  iterations: number,
  compactTimeoutMs: number,
  newCode: boolean,
): Promise<{ p50Ms: number; buckets: number; batches: MetricDataPoint[][] }> {
  const nowMs = Date.now();
  const startMs = nowMs - 30 * DAY_MS;
  const byHost = dayBatches(
    1,
    series,
    startMs - (startMs % INTERVAL_MS),
    30 * DAY_MS - 60_000,
    Math.ceil(1_000 / series),
  );
  const batches = [...byHost.values()][0];
  const dataDir = join(dir, "query30d");
  const longRaw = newCode ? "[storage.rollups]\nraw_days = 31\n" : "retention_days = 31\n";
  let server = await startServer(sourceDir, dataDir, longRaw);
  try {
    await send(server.grpcPort, { queues: [batches.map(encode)] });
    if (newCode) await waitCompacted(server.httpPort, compactTimeoutMs);
  } finally {
    await server.stop();
  }
  // Restarted as configured by default (new code: raw 15 days; the baseline keeps its 31).
  server = await startServer(sourceDir, dataDir, newCode ? "" : longRaw);
  try {
    const agent = syntheticAgentId(0);
    const url = `http://127.0.0.1:${server.httpPort}/api/v1/metrics?agent=${agent}` +
      `&metric=cpu.usage&from=${nowMs - 30 * DAY_MS}&to=${nowMs}&step=1h`;
    const [p50Ms, buckets] = await p50(
      url,
      iterations,
      (body) => (body as { series: { points: unknown[] }[] }).series[0]?.points.length ?? 0,
    );
    return { p50Ms, buckets, batches };
  } finally {
    await server.stop();
  }
}

async function queryVictoriaMetrics30d(
  batches: MetricDataPoint[][],
  iterations: number,
): Promise<number> {
  const peer = await startVictoriaMetrics();
  try {
    for (const batch of batches) {
      const response = await fetch(`${peer.url}/api/v1/import`, {
        method: "POST",
        body: importLines(batch),
      });
      await response.body?.cancel();
    }
    await flushVictoriaMetrics(peer);
    const nowS = Math.floor(Date.now() / 1000);
    const query = encodeURIComponent(`cpu_usage{agent="${syntheticAgentId(0)}"}`);
    const url = `${peer.url}/api/v1/query_range?query=${query}&start=${
      nowS - 30 * 86_400
    }&end=${nowS}&step=3600`;
    const [p50Ms] = await p50(url, iterations, () => 0);
    return p50Ms;
  } finally {
    await peer.stop();
  }
}

/** CPU the rollups cost per million samples: 5-minute intervals as hours seal, tiers at compaction. */
function measureRollupCpu(hosts: number, seriesPerHost: number): DayBenchResult["rollupCpu"] {
  const dayStart = Date.UTC(2026, 10, 27);
  const series = new Map<string, { ts: number[]; vs: number[] }>();
  for (
    const round of syntheticBatches({
      agents: hosts,
      seriesPerAgent: seriesPerHost,
      intervalMs: INTERVAL_MS,
      startMs: dayStart,
      durationMs: DAY_MS,
    })
  ) {
    for (const point of round) {
      const key = `${point.agentId} ${point.metricName} ${JSON.stringify(point.labels)}`;
      let one = series.get(key);
      if (!one) series.set(key, one = { ts: [], vs: [] });
      one.ts.push(point.timestampMs);
      one.vs.push(point.value);
    }
  }
  let samples = 0;
  const hourRows: Array<Array<[number, Uint8Array]>> = [];
  let started = performance.now();
  for (const { ts, vs } of series.values()) {
    samples += ts.length;
    const rows: Array<[number, Uint8Array]> = [];
    for (let at = 0; at < ts.length; at += 360) {
      const hourTs = ts.slice(at, at + 360);
      const hour = hourTs[0] - (hourTs[0] % ONE_HOUR_MS);
      const intervals = intervalsOf(hourTs, vs.slice(at, at + 360), hourTs.length, FIVE_MINUTES_MS);
      rows.push([hour, encodeIntervals(hour, FIVE_MINUTES_MS, intervals)]);
    }
    hourRows.push(rows);
  }
  const atSeal = performance.now() - started;
  started = performance.now();
  for (const rows of hourRows) {
    const fine = rows.flatMap(([hour, data]) =>
      decodeIntervals(data, hour, FIVE_MINUTES_MS, "bench")
    );
    for (const tier of DEFAULT_TIERS) {
      const intervals = tier.resolutionMs === FIVE_MINUTES_MS
        ? fine
        : coarsen(fine, tier.resolutionMs);
      encodeIntervals(dayStart, tier.resolutionMs, intervals, tier.packing);
    }
  }
  const atCompaction = performance.now() - started;
  return {
    atSealMsPerMillion: atSeal / (samples / 1e6),
    atCompactionMsPerMillion: atCompaction / (samples / 1e6),
  };
}

export async function benchDay(
  tmp: string,
  options: DayBenchOptions = {},
): Promise<DayBenchResult> {
  const hosts = options.hosts ?? 5;
  const seriesPerHost = options.seriesPerHost ?? 50;
  const hours = options.hours ?? 24;
  const progress = options.progress ?? (() => {});
  const timeoutMs = options.compactTimeoutMs ?? 300_000;
  const here = new URL("../..", import.meta.url).pathname;
  // Yesterday (UTC), whole: within raw retention, never in the future, one partition.
  const dayStart = Math.floor(Date.now() / DAY_MS) * DAY_MS - DAY_MS;
  const byHost = dayBatches(
    hosts,
    seriesPerHost,
    dayStart,
    hours * 3_600_000,
    options.roundsPerBatch ?? ROUNDS_PER_BATCH,
  );
  const queues = [...byHost.values()];
  const inTimeOrder: MetricDataPoint[][] = [];
  for (let i = 0; i < Math.max(...queues.map((queue) => queue.length)); i++) {
    for (const queue of queues) if (i < queue.length) inTimeOrder.push(queue[i]);
  }
  const samples = inTimeOrder.reduce((sum, batch) => sum + batch.length, 0);
  progress(`day: encoding ${inTimeOrder.length} batches (${samples} samples)`);
  const encoded = new Map(inTimeOrder.map((batch) => [batch, encode(batch)]));
  const inOrderWork = { queues: queues.map((queue) => queue.map((batch) => encoded.get(batch)!)) };
  const hostAfterHost = queues.flat();
  const reorderedWork = {
    shared: hostAfterHost.map((batch) => encoded.get(batch)!),
    connections: REORDER_CONNECTIONS,
  };
  const run = async (sourceDir: string, name: string) => {
    progress(`day: ${name}, in time order per host`);
    const inOrder = await measureServer(
      sourceDir,
      join(tmp, `${name}-in-order`),
      inOrderWork,
      samples,
      timeoutMs,
    );
    progress(`day: ${name}, re-ordered over ${REORDER_CONNECTIONS} connections`);
    const reordered = await measureServer(
      sourceDir,
      join(tmp, `${name}-reordered`),
      reorderedWork,
      samples,
      timeoutMs,
    );
    return { inOrder, reordered };
  };
  const oxmon = await run(here, "oxmon");
  const baseline = options.baselineDir ? await run(options.baselineDir, "baseline") : undefined;
  let victoriaMetrics: DayBenchResult["victoriaMetrics"];
  try {
    Deno.statSync(VICTORIA_METRICS_BIN);
    progress("day: VictoriaMetrics, in time order per host and re-ordered");
    victoriaMetrics = {
      inOrder: await measureVictoriaMetrics({ queues }, samples),
      reordered: await measureVictoriaMetrics({
        shared: hostAfterHost,
        connections: REORDER_CONNECTIONS,
      }, samples),
    };
  } catch (error) {
    victoriaMetrics = {
      missing: error instanceof Deno.errors.NotFound
        ? `${VICTORIA_METRICS_BIN} is not installed (apt-get install victoria-metrics)`
        : String(error),
    };
  }
  const querySeries = options.querySeries ?? 10;
  const iterations = options.queryIterations ?? 50;
  progress(`30-day query: loading 30 days of ${querySeries} series`);
  const query = await measureQuery30d(here, tmp, querySeries, iterations, timeoutMs, true);
  const baselineQuery = options.baselineDir
    ? await measureQuery30d(
      options.baselineDir,
      join(tmp, "baseline"),
      querySeries,
      iterations,
      timeoutMs,
      false,
    )
    : undefined;
  const victoriaQuery = "missing" in (victoriaMetrics ?? {})
    ? undefined
    : await queryVictoriaMetrics30d(query.batches, iterations);
  progress("rollup CPU, in process");
  const rollupCpu = measureRollupCpu(hosts, seriesPerHost);
  return {
    hosts,
    seriesPerHost,
    samples,
    oxmon,
    baseline,
    victoriaMetrics,
    query30d: {
      series: querySeries,
      oxmonP50Ms: query.p50Ms,
      baselineP50Ms: baselineQuery?.p50Ms,
      victoriaMetricsP50Ms: victoriaQuery,
      buckets: query.buckets,
    },
    rollupCpu,
  };
}
