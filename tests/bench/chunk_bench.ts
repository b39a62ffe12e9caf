/**
 * Chunk engine benchmarks, each side by side with the row engine in the same run:
 * - bytes per sample after the foundation's synthetic day, storage write rate with 1,000-point
 *   batches of interleaved series, and one series over 24 h raw and in 60 buckets (all through
 *   `benchStorage`, so both engines meet the exact same workload);
 * - RSS with 100k active series (1,000 agents × 100 series at 10 s), each engine in its own
 *   child process so one measurement cannot inflate the other.
 *
 * `deno task bench` calls `benchChunkEngine`; run alone for a table:
 * `deno run -A tests/bench/chunk_bench.ts [--scale=0.1] [--write-samples=300000] [--rss-rounds=360]`.
 */
import { parseArgs } from "node:util";
import { ManualClock } from "../../shared/clock.ts";
import type { MetricStore } from "../../server/storage/types.ts";
import { openChunkStore } from "../../server/storage/chunk/engine.ts";
import { openRowStore } from "../../server/storage/row_engine.ts";
import {
  benchStorage,
  type StorageBenchOptions,
  type StorageBenchResult,
} from "./storage_bench.ts";
import { syntheticBatches } from "./synthetic.ts";

export interface RssResult {
  engine: string;
  agents: number;
  seriesPerAgent: number;
  /** Collection rounds fed (10 s apart): 360 is a full hour, every open chunk at its largest. */
  rounds: number;
  samples: number;
  seconds: number;
  samplesPerSec: number;
  rssMb: number;
  heapUsedMb: number;
}

export interface ChunkBenchOptions extends StorageBenchOptions {
  /** Rounds of 100k series fed for the RSS figure. Default 360 (one hour of data). */
  rssRounds?: number;
  /** Rounds for the row engine's RSS run (it holds nothing per sample in memory). Default 12. */
  rowRssRounds?: number;
  rssAgents?: number;
  rssSeriesPerAgent?: number;
}

export interface ChunkBenchResult {
  storage: { chunk: StorageBenchResult; row: StorageBenchResult };
  rss: { chunk: RssResult; row: RssResult };
}

const RSS_START = Date.UTC(2026, 10, 27);

export function openEngine(engine: string, dataDir: string, clock?: ManualClock): MetricStore {
  if (engine === "chunk") return openChunkStore({ dataDir, clock });
  if (engine === "row") return openRowStore({ dataDir });
  throw new RangeError(`Unknown engine ${JSON.stringify(engine)}: expected "chunk" or "row"`);
}

/** Feeds `rounds` rounds of `agents × seriesPerAgent` series in this process; reports RSS. */
export async function measureRssHere(
  engine: string,
  agents: number,
  seriesPerAgent: number,
  rounds: number,
): Promise<RssResult> {
  const dataDir = await Deno.makeTempDir({ prefix: "oxmon-bench-rss-" });
  const clock = new ManualClock(RSS_START);
  const store = openEngine(engine, dataDir, clock);
  let samples = 0;
  let elapsed = 0;
  try {
    for (
      const batch of syntheticBatches({
        agents,
        seriesPerAgent,
        intervalMs: 10_000,
        startMs: RSS_START,
        durationMs: rounds * 10_000,
      })
    ) {
      clock.set(batch[0].timestampMs);
      const started = performance.now();
      store.write(batch);
      elapsed += performance.now() - started;
      samples += batch.length;
    }
    const memory = Deno.memoryUsage();
    return {
      engine,
      agents,
      seriesPerAgent,
      rounds,
      samples,
      seconds: elapsed / 1000,
      samplesPerSec: Math.round(samples / (elapsed / 1000)),
      rssMb: memory.rss / 2 ** 20,
      heapUsedMb: memory.heapUsed / 2 ** 20,
    };
  } finally {
    store.close();
    await Deno.remove(dataDir, { recursive: true });
  }
}

/** `measureRssHere` in a fresh child process. */
export async function measureRss(
  engine: string,
  agents: number,
  seriesPerAgent: number,
  rounds: number,
): Promise<RssResult> {
  const args = [
    "run",
    "-A",
    new URL(import.meta.url).pathname,
    `--rss-child=${engine}`,
    `--rss-agents=${agents}`,
    `--rss-series=${seriesPerAgent}`,
    `--rss-rounds=${rounds}`,
  ];
  const output = await new Deno.Command(Deno.execPath(), { args, stderr: "inherit" }).output();
  if (!output.success) throw new Error(`RSS child for ${engine} failed (exit ${output.code})`);
  return JSON.parse(new TextDecoder().decode(output.stdout)) as RssResult;
}

export async function benchChunkEngine(options: ChunkBenchOptions = {}): Promise<ChunkBenchResult> {
  const progress = options.progress ?? (() => {});
  progress("storage: chunk engine");
  const chunk = await benchStorage((dataDir) => openChunkStore({ dataDir }), options);
  progress("storage: row engine");
  const row = await benchStorage((dataDir) => openRowStore({ dataDir }), options);
  const agents = options.rssAgents ?? 1_000;
  const series = options.rssSeriesPerAgent ?? 100;
  progress(`RSS: ${agents} agents × ${series} series, chunk engine`);
  const chunkRss = await measureRss("chunk", agents, series, options.rssRounds ?? 360);
  progress(`RSS: ${agents} agents × ${series} series, row engine`);
  const rowRss = await measureRss("row", agents, series, options.rowRssRounds ?? 12);
  return { storage: { chunk, row }, rss: { chunk: chunkRss, row: rowRss } };
}

export function formatChunkBench(result: ChunkBenchResult): string {
  const { chunk, row } = result.storage;
  const fixed = (value: number, digits = 2) => value.toFixed(digits);
  const rows: [string, string, string, string][] = [
    ["figure", "chunk", "row", "target (chunk)"],
    [
      `bytes/sample, synthetic day (scale ${chunk.day.scale}: ${chunk.day.agents} agents × ${chunk.day.seriesPerAgent})`,
      fixed(chunk.day.bytesPerSample),
      fixed(row.day.bytesPerSample),
      "≤ 2.5",
    ],
    [
      `write samples/s (${chunk.write.samples} samples, batches of ${chunk.write.batchSize})`,
      String(chunk.write.samplesPerSec),
      String(row.write.samplesPerSec),
      "≥ 1,000,000",
    ],
    [
      "synthetic day load incl. close, s",
      fixed(chunk.day.loadSeconds, 1),
      fixed(row.day.loadSeconds, 1),
      "",
    ],
    [
      "1 series × 24 h raw p50 / p95 ms",
      `${fixed(chunk.query.raw.p50Ms, 3)} / ${fixed(chunk.query.raw.p95Ms, 3)}`,
      `${fixed(row.query.raw.p50Ms, 3)} / ${fixed(row.query.raw.p95Ms, 3)}`,
      "",
    ],
    [
      "1 series × 24 h, 60 buckets p50 / p95 ms",
      `${fixed(chunk.query.buckets60.p50Ms, 3)} / ${fixed(chunk.query.buckets60.p95Ms, 3)}`,
      `${fixed(row.query.buckets60.p50Ms, 3)} / ${fixed(row.query.buckets60.p95Ms, 3)}`,
      "p50 ≤ 1",
    ],
    [
      `RSS MB, ${
        result.rss.chunk.agents * result.rss.chunk.seriesPerAgent
      } series (rounds: ${result.rss.chunk.rounds} / ${result.rss.row.rounds})`,
      fixed(result.rss.chunk.rssMb, 0),
      fixed(result.rss.row.rssMb, 0),
      "≤ 512",
    ],
    [
      "ingest samples/s during the RSS run",
      String(result.rss.chunk.samplesPerSec),
      String(result.rss.row.samplesPerSec),
      "",
    ],
  ];
  const widths = [0, 1, 2, 3].map((c) => Math.max(...rows.map((r) => r[c].length)));
  return rows.map((r) => r.map((cell, c) => cell.padEnd(widths[c])).join("  ")).join("\n");
}

if (import.meta.main) {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      "scale": { type: "string" },
      "write-samples": { type: "string" },
      "rss-rounds": { type: "string" },
      "rss-agents": { type: "string" },
      "rss-series": { type: "string" },
      "rss-child": { type: "string" },
      "json": { type: "boolean" },
    },
  });
  const number = (text: string | undefined) => (text === undefined ? undefined : Number(text));
  if (values["rss-child"]) {
    const result = await measureRssHere(
      values["rss-child"],
      number(values["rss-agents"]) ?? 1_000,
      number(values["rss-series"]) ?? 100,
      number(values["rss-rounds"]) ?? 360,
    );
    console.log(JSON.stringify(result));
  } else {
    const result = await benchChunkEngine({
      scale: number(values.scale),
      writeSamples: number(values["write-samples"]),
      rssRounds: number(values["rss-rounds"]),
      rssAgents: number(values["rss-agents"]),
      rssSeriesPerAgent: number(values["rss-series"]),
      progress: (line) => console.error(line),
    });
    console.log(values.json ? JSON.stringify(result, null, 2) : formatChunkBench(result));
  }
}
