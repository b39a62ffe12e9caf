/**
 * One client process of the fleet load bench: `count` simulated agents, each on its own HTTP/2
 * connection (the agent's own gRPC client), each sending a batch of 50 points every second,
 * spread evenly over the second. Prints one JSON line when done: calls, errors by kind, and
 * every call's latency in ms after the warm-up.
 *
 *   deno run -A tests/bench/_fleet_client.ts PORT FIRST COUNT WARMUP_SECS MEASURE_SECS
 */
import { GrpcClient } from "../../agent/grpc_client.ts";
import { encodeMetricBatch } from "../../shared/wire/encode_batch.ts";
import { REPORT_METRICS_PATH } from "../../shared/wire/method.ts";
import { GrpcStatus, grpcStatusName } from "../../shared/wire/status.ts";
import type { MetricDataPoint } from "../../shared/types.ts";

const [port, first, count, warmupSecs, measureSecs] = Deno.args.map(Number);
const POINTS = 50;
const METRICS = ["cpu.core_usage", "disk.used_percent", "network.bytes_recv", "memory.used"];

const startAt = performance.now() + 2_000; // every agent connected by then
const measureFrom = startAt + warmupSecs * 1_000;
const endAt = measureFrom + measureSecs * 1_000;
const latencies: number[] = [];
const errors: Record<string, number> = {};
let calls = 0;

async function agent(n: number): Promise<void> {
  const agentId = `fleet-${n}`;
  const client = new GrpcClient({
    address: `127.0.0.1:${port}`,
    metadata: { "agent-id": agentId },
  });
  const points: MetricDataPoint[] = Array.from({ length: POINTS }, (_, i) => ({
    agentId,
    metricName: METRICS[i % METRICS.length],
    labels: { n: String(i) },
    timestampMs: 0,
    value: 0,
  }));
  // Agents spread evenly over the second, as real ones drift apart.
  const phase = ((n - first) / count) * 1_000;
  let tick = 0;
  try {
    while (true) {
      const due = startAt + phase + tick * 1_000;
      if (due >= endAt) break;
      const wait = due - performance.now();
      if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
      tick++;
      const nowMs = Date.now();
      for (const point of points) {
        point.timestampMs = nowMs;
        point.value = (nowMs / 1_000 + point.metricName.length) % 100;
      }
      const request = encodeMetricBatch({ agentId, timestampMs: nowMs, dataPoints: points });
      const started = performance.now();
      let kind: string | undefined;
      try {
        const result = await client.unary(REPORT_METRICS_PATH, request, {
          deadlineMs: Date.now() + 10_000,
        });
        if (result.code !== GrpcStatus.OK) kind = grpcStatusName(result.code);
      } catch (error) {
        kind = (error as Error).name;
      }
      if (started < measureFrom) continue;
      calls++;
      if (kind) errors[kind] = (errors[kind] ?? 0) + 1;
      else latencies.push(performance.now() - started);
    }
  } finally {
    client.close();
  }
}

await Promise.all(Array.from({ length: count }, (_, i) => agent(first + i)));
console.log(JSON.stringify({ calls, errors, latencies }));
Deno.exit(0);
