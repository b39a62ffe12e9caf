/**
 * `deno bench shared/wire/`: the batch codec on the two batches that matter, a 1,000-point
 * batch as `tests/bench/ingest_bench.ts` sends (50 metrics × 20 label values) and a host's
 * 62-point round as the agent sends it.
 */
import type { MetricBatch, MetricDataPoint } from "../types.ts";
import { decodeMetricBatch } from "./decode_batch.ts";
import { encodeMetricBatch } from "./encode_batch.ts";

const NOW = Date.UTC(2026, 10, 27, 12, 0, 0);

function ingestBenchBatch(timestampMs: number): MetricBatch {
  const dataPoints: MetricDataPoint[] = [];
  for (let i = 0; i < 1_000; i++) {
    dataPoints.push({
      timestampMs,
      agentId: "bench-1",
      metricName: `bench.metric_${i % 50}`,
      value: (i * 7919 + timestampMs / 1000) % 1000 / 10,
      labels: { series: String(Math.floor(i / 50)) },
    });
  }
  return { agentId: "bench-1", timestampMs, dataPoints };
}

function hostBatch(timestampMs: number): MetricBatch {
  const dataPoints: MetricDataPoint[] = [];
  const point = (metricName: string, value: number, labels: Record<string, string> = {}) =>
    dataPoints.push({ timestampMs, agentId: "web-01", metricName, value, labels });
  for (let core = 0; core < 16; core++) point("cpu.core_usage", core * 3.3, { core: `${core}` });
  for (const mount of ["/", "/home", "/var", "/boot"]) {
    for (const name of ["total", "used", "available", "used_percent"]) {
      point(`disk.${name}`, 1e9 + name.length, { mount });
    }
  }
  for (const device of ["sda", "sdb", "nvme0n1"]) {
    for (const name of ["read_bytes", "write_bytes", "read_ops", "write_ops"]) {
      point(`disk.${name}_per_sec`, 1e6 + name.length, { device });
    }
  }
  for (const name of ["memory.total", "memory.used", "memory.available", "system.load_1"]) {
    point(name, timestampMs % 977);
  }
  point("system.uptime", 86_400);
  point("cpu.usage", 12.5);
  return { agentId: "web-01", timestampMs, dataPoints };
}

// Twenty batches each, a second apart, as they arrive: the values and timestamps differ.
const ingestBatches = Array.from({ length: 20 }, (_, i) => ingestBenchBatch(NOW + i * 1_000));
const hostBatches = Array.from({ length: 20 }, (_, i) => hostBatch(NOW + i * 1_000));
const ingestBytes = ingestBatches.map(encodeMetricBatch);
const hostBytes = hostBatches.map(encodeMetricBatch);
let round = 0;

Deno.bench("decodeMetricBatch, 1,000 points", () => {
  decodeMetricBatch(ingestBytes[round++ % 20]);
});
Deno.bench("decodeMetricBatch, a host's 62 points", () => {
  decodeMetricBatch(hostBytes[round++ % 20]);
});
Deno.bench("encodeMetricBatch, 1,000 points", () => {
  encodeMetricBatch(ingestBatches[round++ % 20]);
});
Deno.bench("encodeMetricBatch, a host's 62 points", () => {
  encodeMetricBatch(hostBatches[round++ % 20]);
});
