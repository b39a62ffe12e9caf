/**
 * REST query latency over HTTP: one series over a range (typically 24 h), raw and in 60
 * buckets, as sequential `fetch` calls after a warm-up. `deno task bench` calls `benchHttp`;
 * run this file directly for a standalone measurement against the row store:
 * `deno run -A tests/bench/http_bench.ts [iterations]`.
 */
import { createApiApp } from "../../server/api/app.ts";
import { serveApi } from "../../server/api/serve.ts";
import { openTestEnv } from "../helpers/api_env.ts";
import { silentLogger } from "../../shared/log.ts";
import type { MetricDataPoint } from "../../shared/types.ts";

export interface LatencyStats {
  p50Ms: number;
  p95Ms: number;
  /** Points (samples or buckets) in each answer. */
  points: number;
  /** Size of each answer's body. */
  bytes: number;
}

export interface HttpBenchResult {
  iterations: number;
  raw: LatencyStats;
  buckets60: LatencyStats;
}

export interface HttpBenchOptions {
  agent: string;
  metric: string;
  fromMs: number;
  toMs: number;
  /** Timed requests per query shape. */
  iterations: number;
  /** Untimed requests first, to warm the JIT, connections and SQLite caches. Default 20. */
  warmup?: number;
}

function percentile(sorted: number[], fraction: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(fraction * sorted.length))];
}

async function measure(url: string, iterations: number, warmup: number): Promise<LatencyStats> {
  let points = 0;
  let bytes = 0;
  const fetchOnce = async () => {
    const response = await fetch(url);
    const body = new Uint8Array(await response.arrayBuffer());
    if (!response.ok) {
      throw new Error(
        `Cannot benchmark ${url}: HTTP ${response.status} ${new TextDecoder().decode(body)}`,
      );
    }
    return body;
  };
  for (let i = 0; i < warmup; i++) await fetchOnce();
  const durations: number[] = [];
  for (let i = 0; i < iterations; i++) {
    const started = performance.now();
    const body = await fetchOnce();
    durations.push(performance.now() - started);
    if (i === 0) {
      bytes = body.length;
      const answer = JSON.parse(new TextDecoder().decode(body));
      points = answer.series.reduce(
        (sum: number, s: { points: unknown[] }) => sum + s.points.length,
        0,
      );
    }
  }
  durations.sort((a, b) => a - b);
  return { p50Ms: percentile(durations, 0.5), p95Ms: percentile(durations, 0.95), points, bytes };
}

export async function benchHttp(
  baseUrl: string,
  options: HttpBenchOptions,
): Promise<HttpBenchResult> {
  const { agent, metric, fromMs, toMs, iterations, warmup = 20 } = options;
  if (!Number.isInteger(iterations) || iterations < 1) {
    throw new RangeError(
      `Cannot benchmark: iterations must be a positive integer, got ${iterations}`,
    );
  }
  if (!(toMs > fromMs)) throw new RangeError(`Cannot benchmark: toMs must be after fromMs`);
  const query = new URLSearchParams({ agent, metric, from: String(fromMs), to: String(toMs) });
  const rawUrl = `${baseUrl}/api/v1/metrics?${query}`;
  // The smallest whole-ms step that makes exactly 60 buckets of the inclusive range.
  const stepMs = Math.ceil((toMs - fromMs + 1) / 60);
  const bucketUrl = `${rawUrl}&step=${stepMs}ms`;
  const raw = await measure(rawUrl, iterations, warmup);
  const buckets60 = await measure(bucketUrl, iterations, warmup);
  return { iterations, raw, buckets60 };
}

/** A day of one host's series at 10 s (8,640 samples each); the benchmarked one is cpu.usage. */
function syntheticDay(agentId: string, endMs: number, seriesCount: number): MetricDataPoint[] {
  const points: MetricDataPoint[] = [];
  for (let s = 0; s < seriesCount; s++) {
    const metricName = s === 0 ? "cpu.usage" : "cpu.core_usage";
    const labels: Record<string, string> = s === 0 ? {} : { core: String(s - 1) };
    for (let i = 0; i < 8640; i++) {
      const value = Math.round((40 + 30 * Math.sin(i / 50 + s) + (i % 13)) * 10) / 10;
      points.push({ agentId, metricName, labels, timestampMs: endMs - (8639 - i) * 10_000, value });
    }
  }
  return points;
}

if (import.meta.main) {
  const iterations = Number(Deno.args[0] ?? 200);
  const env = await openTestEnv({ log: silentLogger });
  const endMs = Math.floor(Date.now() / 10_000) * 10_000;
  env.clock.set(endMs);
  const points = syntheticDay("bench-1", endMs, 20);
  for (let i = 0; i < points.length; i += 1000) env.ingest(points.slice(i, i + 1000));
  const server = await serveApi(createApiApp(env.deps), {
    hostname: "127.0.0.1",
    port: 0,
    log: silentLogger,
  });
  try {
    const result = await benchHttp(`http://127.0.0.1:${server.port}`, {
      agent: "bench-1",
      metric: "cpu.usage",
      fromMs: endMs - 86_400_000 + 1,
      toMs: endMs,
      iterations,
    });
    console.log(JSON.stringify({ engine: env.store.stats().engine, ...result }, null, 2));
  } finally {
    await server.shutdown();
    await env.close();
  }
}
