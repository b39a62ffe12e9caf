/**
 * Heap allocated per ingested point on the server's ingest path, in process: request bytes →
 * `IngestService.handleMany` (authentication, decoding, validation, series guard, chunk store
 * write, agent registry, `onCommitted`) — no listener, no socket. The fleet bench's shape: each
 * agent sends 50 points (4 metrics, label `n` = 0…49) a second, requests are handled in groups
 * as the supervisor receives them. Batches are encoded up front; the first tick (creating the
 * series) is not measured.
 *
 *   deno run -A tests/bench/ingest_alloc_bench.ts [--agents 3000] [--ticks 10] [--group 8]
 *
 * Prints one JSON line: bytes allocated per point (V8's `total_allocated_bytes`), µs per point,
 * heap used at the end.
 */
import v8 from "node:v8";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { systemClock } from "../../shared/clock.ts";
import { silentLogger } from "../../shared/log.ts";
import type { MetricDataPoint } from "../../shared/types.ts";
import { encodeMetricBatch } from "../../shared/wire/mod.ts";
import { openAgentRegistry } from "../../server/agents/sqlite_registry.ts";
import { defaultServerConfig } from "../../server/config.ts";
import { FleetSummary } from "../../server/fleet/mod.ts";
import { IngestService } from "../../server/ingest/service.ts";
import { DEFAULT_SERIES_LIMITS, SeriesGuard } from "../../server/ingest/series_guard.ts";
import { openStore } from "../../server/server.ts";

const POINTS = 50;
const METRICS = ["cpu.core_usage", "disk.used_percent", "network.bytes_recv", "memory.used"];

function encodeTick(agents: number, timestampMs: number): Uint8Array[] {
  return Array.from({ length: agents }, (_, n) => {
    const agentId = `fleet-${n}`;
    const dataPoints: MetricDataPoint[] = Array.from({ length: POINTS }, (_, i) => ({
      agentId,
      metricName: METRICS[i % METRICS.length],
      labels: { n: String(i) },
      timestampMs,
      value: (timestampMs / 1_000 + i) % 100,
    }));
    return encodeMetricBatch({ agentId, timestampMs, dataPoints });
  });
}

const { values } = parseArgs({
  options: {
    agents: { type: "string", default: "3000" },
    ticks: { type: "string", default: "10" },
    group: { type: "string", default: "8" },
  },
});
const agents = Number(values.agents);
const ticks = Number(values.ticks);
const group = Number(values.group);

const dataDir = await Deno.makeTempDir({ prefix: "oxmon-alloc-bench-" });
const config = { ...defaultServerConfig(), dataDir };
const store = openStore(config, silentLogger, systemClock);
const registry = openAgentRegistry(join(dataDir, "agents.db"));
const fleet = new FleetSummary({
  store,
  agents: () => registry.list(),
  clock: systemClock,
  agentIntervalSecs: config.agentIntervalSecs,
  activeAlerts: () => [],
  log: silentLogger,
});
const limits = { ...DEFAULT_SERIES_LIMITS };
const ingest = new IngestService({
  store,
  registry,
  limits: config.ingest,
  series: { guard: new SeriesGuard(limits, store.listSeries()), limits },
  retentionDays: config.retentionDays,
  clock: systemClock,
  log: silentLogger,
  onCommitted: (points) => fleet.observe(points),
});

const startMs = Date.now() - (ticks + 2) * 1_000;
const encoded = Array.from(
  { length: ticks + 1 },
  (_, t) => encodeTick(agents, startMs + t * 1_000),
);
let failed = 0;
const runTick = (batches: Uint8Array[]) => {
  for (let first = 0; first < batches.length; first += group) {
    const requests = batches.slice(first, first + group).map((bytes) => ({ bytes }));
    for (const result of ingest.handleMany(requests)) if (!result.success) failed++;
  }
};
runTick(encoded[0]);
const allocatedBefore = v8.getHeapStatistics().total_allocated_bytes;
const started = performance.now();
for (let t = 1; t <= ticks; t++) runTick(encoded[t]);
const elapsedMs = performance.now() - started;
const allocated = v8.getHeapStatistics().total_allocated_bytes - allocatedBefore;
const points = agents * POINTS * ticks;
console.log(JSON.stringify({
  agents,
  ticks,
  group,
  points,
  failedBatches: failed,
  bytesPerPoint: Math.round(allocated / points),
  usPerPoint: Number((elapsedMs * 1_000 / points).toFixed(2)),
  heapUsedMb: Math.round(v8.getHeapStatistics().used_heap_size / 1e6),
}));
store.close();
registry.close();
await Deno.remove(dataDir, { recursive: true });
