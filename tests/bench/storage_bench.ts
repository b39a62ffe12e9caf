/**
 * Storage benchmark, inside the process (no gRPC, no HTTP): write rate with 1,000-point batches
 * of interleaved series as live agents send them, bytes per sample after a synthetic day, and
 * query latency for one series over 24 h, raw and in 60 buckets. `benchPlainTable` measures the
 * one-row-per-sample layout (labels as text, one index) on the same stream for comparison.
 *
 * `deno task bench` calls `benchStorage`/`benchPlainTable`; run alone for a table:
 * `deno run -A tests/bench/storage_bench.ts [--scale=0.1] [--write-samples=300000]`.
 */
import { join } from "node:path";
import { parseArgs } from "node:util";
import type { MetricDataPoint } from "../../shared/types.ts";
import type { MetricStore } from "../../server/storage/types.ts";
import { openRowStore } from "../../server/storage/row_engine.ts";
import { openDatabase } from "../../server/sqlite.ts";
import { rebatch, syntheticAgentId, syntheticBatches } from "./synthetic.ts";

const DAY_MS = 86_400_000;
/** 2026-11-27T00:00:00Z: the synthetic day fills exactly one partition. */
const DAY_START = Date.UTC(2026, 10, 27);

export interface StorageBenchOptions {
  /** Fraction of the foundation's 100 agents × 50 series for the synthetic day. Default 0.1. */
  scale?: number;
  /** Samples written for the write-rate figure (100 agents × 50 series, interleaved). Default 300,000. */
  writeSamples?: number;
  /** Points per write call. Default 1,000. */
  batchSize?: number;
  /** Timed queries per shape, after 20 untimed ones. Default 200. */
  queryIterations?: number;
  seed?: number;
  /** Progress lines (e.g. `console.error`); nothing by default. */
  progress?: (line: string) => void;
}

export interface WriteRate {
  samples: number;
  batchSize: number;
  /** Time inside `write` calls only. */
  seconds: number;
  samplesPerSec: number;
  /** `close()` after the writes (an engine may flush what it holds in memory). */
  closeSeconds: number;
  /** On-disk bytes per sample after closing (small runs overstate this: fixed overheads). */
  bytesPerSample: number;
}

export interface Latency {
  p50Ms: number;
  p95Ms: number;
}

export interface StorageBenchResult {
  engine: string;
  write: WriteRate;
  day: {
    /** Fraction of 100 agents used; bytes per sample do not depend much on it. */
    scale: number;
    agents: number;
    seriesPerAgent: number;
    intervalMs: number;
    samples: number;
    bytes: number;
    bytesPerSample: number;
    /** Loading the day, writes and close. */
    loadSeconds: number;
  };
  query: {
    iterations: number;
    /** Samples in one series over the day. */
    samplesPerSeries: number;
    raw: Latency;
    buckets60: Latency;
  };
}

export interface PlainTableBenchResult {
  engine: "plain-table";
  write: WriteRate;
}

const FULL_AGENTS = 100;
const SERIES_PER_AGENT = 50;
const INTERVAL_MS = 10_000;

function resolve(options: StorageBenchOptions) {
  const scale = options.scale ?? 0.1;
  if (!(scale > 0 && scale <= 1)) throw new RangeError(`scale must be in (0, 1], got ${scale}`);
  const writeSamples = options.writeSamples ?? 300_000;
  const batchSize = options.batchSize ?? 1_000;
  const queryIterations = options.queryIterations ?? 200;
  for (
    const [name, value] of [["writeSamples", writeSamples], ["batchSize", batchSize], [
      "queryIterations",
      queryIterations,
    ]] as const
  ) {
    if (!Number.isSafeInteger(value) || value <= 0) {
      throw new RangeError(`${name} must be a positive integer, got ${value}`);
    }
  }
  return {
    scale,
    writeSamples,
    batchSize,
    queryIterations,
    seed: options.seed ?? 1,
    progress: options.progress ?? (() => {}),
  };
}

/** The write-rate stream: all 100 agents, so every batch touches 1,000 different series. */
function writeStream(samples: number, batchSize: number, seed: number): MetricDataPoint[][] {
  const rounds = Math.ceil(samples / (FULL_AGENTS * SERIES_PER_AGENT));
  const batches: MetricDataPoint[][] = [];
  let left = samples;
  for (
    const batch of rebatch(
      syntheticBatches({
        agents: FULL_AGENTS,
        seriesPerAgent: SERIES_PER_AGENT,
        intervalMs: INTERVAL_MS,
        startMs: DAY_START,
        durationMs: rounds * INTERVAL_MS,
        seed,
      }),
      batchSize,
    )
  ) {
    if (left <= 0) break;
    batches.push(batch.length > left ? batch.slice(0, left) : batch);
    left -= batch.length;
  }
  return batches;
}

function directoryBytes(dir: string): number {
  let bytes = 0;
  for (const entry of Deno.readDirSync(dir)) {
    if (entry.isFile) bytes += Deno.statSync(join(dir, entry.name)).size;
  }
  return bytes;
}

async function withTempDir<T>(fn: (dir: string) => Promise<T> | T): Promise<T> {
  const dir = await Deno.makeTempDir({ prefix: "oxmon-bench-" });
  try {
    return await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

interface Writer {
  write(points: readonly MetricDataPoint[]): unknown;
  close(): void;
}

function measureWrites(
  writer: Writer,
  batches: MetricDataPoint[][],
  dir: string,
  batchSize: number,
): WriteRate {
  let samples = 0;
  let elapsed = 0;
  for (const batch of batches) {
    const started = performance.now();
    writer.write(batch);
    elapsed += performance.now() - started;
    samples += batch.length;
  }
  const closeStarted = performance.now();
  writer.close();
  const closeSeconds = (performance.now() - closeStarted) / 1000;
  return {
    samples,
    batchSize,
    seconds: elapsed / 1000,
    samplesPerSec: Math.round(samples / (elapsed / 1000)),
    closeSeconds,
    bytesPerSample: directoryBytes(dir) / samples,
  };
}

function percentile(sorted: number[], fraction: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(fraction * sorted.length))];
}

function timeQuery(iterations: number, run: () => number): Latency & { result: number } {
  let result = 0;
  for (let i = 0; i < 20; i++) result = run();
  const times: number[] = [];
  for (let i = 0; i < iterations; i++) {
    const started = performance.now();
    result = run();
    times.push(performance.now() - started);
  }
  times.sort((a, b) => a - b);
  return { p50Ms: percentile(times, 0.5), p95Ms: percentile(times, 0.95), result };
}

/** Measures one engine. `open` gets a fresh temporary directory for each phase. */
export async function benchStorage(
  open: (dataDir: string) => MetricStore,
  options: StorageBenchOptions = {},
): Promise<StorageBenchResult> {
  const { scale, writeSamples, batchSize, queryIterations, seed, progress } = resolve(options);

  const batches = writeStream(writeSamples, batchSize, seed);
  progress(`write rate: ${writeSamples} samples in batches of ${batchSize}`);
  let engine = "";
  const write = await withTempDir((dir) => {
    const store = open(dir);
    engine = store.stats().engine;
    return measureWrites(store, batches, dir, batchSize);
  });
  batches.length = 0;

  const agents = Math.max(1, Math.round(FULL_AGENTS * scale));
  progress(`synthetic day: ${agents} agents × ${SERIES_PER_AGENT} series at ${INTERVAL_MS} ms`);
  return await withTempDir((dir) => {
    const loadStarted = performance.now();
    let store = open(dir);
    let samples = 0;
    const day = syntheticBatches({
      agents,
      seriesPerAgent: SERIES_PER_AGENT,
      intervalMs: INTERVAL_MS,
      startMs: DAY_START,
      durationMs: DAY_MS,
      seed,
    });
    for (const batch of rebatch(day, batchSize)) {
      store.write(batch);
      samples += batch.length;
    }
    // As a user sees it once the day is over: an engine that compacts finished days does so
    // (its clock is told an hour has passed).
    const later = Date.now() + 3_600_000;
    while (store.maintain?.(later, 1_000)) { /* until the day is compacted */ }
    store.close();
    const loadSeconds = (performance.now() - loadStarted) / 1000;
    const bytes = directoryBytes(dir);

    progress(`queries: ${queryIterations} per shape`);
    store = open(dir);
    try {
      const query = {
        agentId: syntheticAgentId(0),
        metricName: "cpu.usage",
        labels: {},
        fromMs: DAY_START,
        toMs: DAY_START + DAY_MS - 1,
      };
      const raw = timeQuery(queryIterations, () => store.queryRaw(query)[0].samples.length);
      const buckets60 = timeQuery(
        queryIterations,
        () => store.queryBuckets(query, DAY_MS / 60)[0].buckets.length,
      );
      if (buckets60.result !== 60) throw new Error(`expected 60 buckets, got ${buckets60.result}`);
      return {
        engine,
        write,
        day: {
          scale,
          agents,
          seriesPerAgent: SERIES_PER_AGENT,
          intervalMs: INTERVAL_MS,
          samples,
          bytes,
          bytesPerSample: bytes / samples,
          loadSeconds,
        },
        query: {
          iterations: queryIterations,
          samplesPerSeries: raw.result,
          raw: { p50Ms: raw.p50Ms, p95Ms: raw.p95Ms },
          buckets60: { p50Ms: buckets60.p50Ms, p95Ms: buckets60.p95Ms },
        },
      };
    } finally {
      store.close();
    }
  });
}

/**
 * The layout the row engine is compared with: one plain table, one row per sample with agent,
 * metric and labels as text, and one index for range queries; same pragmas as the engines.
 */
export function openPlainTable(path: string): Writer {
  const db = openDatabase(path, { cacheSizeKib: 65_536 });
  db.exec(`
    CREATE TABLE IF NOT EXISTS samples (
      agent TEXT NOT NULL,
      metric TEXT NOT NULL,
      labels TEXT NOT NULL,
      ts INTEGER NOT NULL,
      value REAL NOT NULL
    );
    CREATE INDEX IF NOT EXISTS samples_by_series ON samples (agent, metric, labels, ts);
  `);
  const insert = db.prepare(
    "INSERT INTO samples (agent, metric, labels, ts, value) VALUES (?, ?, ?, ?, ?)",
  );
  return {
    write(points) {
      db.exec("BEGIN");
      try {
        for (const point of points) {
          insert.run(
            point.agentId,
            point.metricName,
            JSON.stringify(point.labels),
            point.timestampMs,
            point.value,
          );
        }
        db.exec("COMMIT");
      } catch (error) {
        db.exec("ROLLBACK");
        throw error;
      }
    },
    close: () => db.close(),
  };
}

/** Write rate of the plain table on the same stream `benchStorage` writes. */
export async function benchPlainTable(
  options: StorageBenchOptions = {},
): Promise<PlainTableBenchResult> {
  const { writeSamples, batchSize, seed, progress } = resolve(options);
  const batches = writeStream(writeSamples, batchSize, seed);
  progress(`plain table: ${writeSamples} samples in batches of ${batchSize}`);
  const write = await withTempDir((dir) =>
    measureWrites(openPlainTable(join(dir, "samples.db")), batches, dir, batchSize)
  );
  return { engine: "plain-table", write };
}

function formatTable(row: StorageBenchResult, plain: PlainTableBenchResult): string {
  const lines = [
    ["", row.engine, plain.engine],
    [
      `write samples/s (batches of ${row.write.batchSize})`,
      row.write.samplesPerSec.toLocaleString("en-US"),
      plain.write.samplesPerSec.toLocaleString("en-US"),
    ],
    [
      `bytes/sample after ${row.write.samples.toLocaleString("en-US")} samples`,
      row.write.bytesPerSample.toFixed(1),
      plain.write.bytesPerSample.toFixed(1),
    ],
    [
      `bytes/sample, one day, ${row.day.agents} agents × ${row.day.seriesPerAgent} (scale ${row.day.scale})`,
      row.day.bytesPerSample.toFixed(2),
      "",
    ],
    [
      `query 24 h raw (${row.query.samplesPerSeries} samples) p50 / p95 ms`,
      `${row.query.raw.p50Ms.toFixed(2)} / ${row.query.raw.p95Ms.toFixed(2)}`,
      "",
    ],
    [
      "query 24 h in 60 buckets p50 / p95 ms",
      `${row.query.buckets60.p50Ms.toFixed(2)} / ${row.query.buckets60.p95Ms.toFixed(2)}`,
      "",
    ],
  ];
  const widths = [0, 1, 2].map((i) => Math.max(...lines.map((line) => line[i].length)));
  return lines.map((line) =>
    [line[0].padEnd(widths[0]), line[1].padStart(widths[1]), line[2].padStart(widths[2])].join(
      "  ",
    )
  ).join("\n");
}

if (import.meta.main) {
  const args = parseArgs({
    args: Deno.args,
    options: {
      scale: { type: "string", default: "0.1" },
      "write-samples": { type: "string", default: "300000" },
      iterations: { type: "string", default: "200" },
      json: { type: "boolean", default: false },
    },
  });
  const options: StorageBenchOptions = {
    scale: Number(args.values.scale),
    writeSamples: Number(args.values["write-samples"]),
    queryIterations: Number(args.values.iterations),
    progress: (line) => console.error(line),
  };
  const row = await benchStorage((dataDir) => openRowStore({ dataDir }), options);
  const plain = await benchPlainTable(options);
  console.log(args.values.json ? JSON.stringify({ row, plain }, null, 2) : formatTable(row, plain));
}
