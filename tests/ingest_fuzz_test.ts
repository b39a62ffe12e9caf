/**
 * Ingest fuzz: random, mutated and noise `MetricBatchProto` requests, judged against the
 * protobufjs oracle. Through the ingest service on real storage (11,000 requests): each is
 * acknowledged or refused with INVALID_ARGUMENT — never another status, never an exception — a
 * request protobufjs cannot decode, or one with a known field of the wrong wire type, is
 * refused naming the field, and afterwards storage holds exactly the first value of every
 * accepted sample and the data stored before is unchanged. Through the real server program
 * (listener child, supervisor): 1,500 requests over gRPC, then health is ok with no listener
 * restart and the data stored before is unchanged.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { ManualClock } from "../shared/clock.ts";
import { silentLogger } from "../shared/log.ts";
import type { Labels, MetricBatch } from "../shared/types.ts";
import { encodeMetricBatch, GrpcStatus } from "../shared/wire/mod.ts";
import { openAgentRegistry } from "../server/agents/sqlite_registry.ts";
import { DEFAULT_INGEST_LIMITS } from "../server/config.ts";
import { IngestService } from "../server/ingest/service.ts";
import { openChunkStore } from "../server/storage/chunk/engine.ts";
import { canonicalLabelsJson } from "../server/storage/points.ts";
import { reportMetrics, withClient } from "./helpers/grpc_client.ts";
import { startTestServer } from "./helpers/server_process.ts";
import {
  firstMistypedField,
  mutate,
  normalize,
  NOW,
  oracleDecode,
  Random,
  randomBatchBytes,
} from "./helpers/wire_messages.ts";

const SEEDS = 3_400;
const NOISE = 1_000;
const OVER_THE_WIRE = 1_500;
const SEED = Number(Deno.env.get("OXMON_FUZZ_SEED") ?? 1);

const AGENTS = ["fuzz-1", "fuzz-2", "fuzz-3"];
const METRICS = ["cpu.usage", "memory.used_percent", "disk.used_percent", "net.x"];
const LABELS: Labels[] = [{}, { core: "0" }, { core: "1" }, { mount: "/" }, {
  mount: "/data",
  dev: "sda",
}];

/** A batch an agent could send, around `nowMs`: mostly valid, sometimes a sample too new. */
function plausibleBatch(rng: Random, nowMs: number): MetricBatch {
  const agentId = rng.pick(AGENTS);
  const baseMs = nowMs - rng.int(0, 3 * 86_400_000);
  return {
    agentId,
    timestampMs: baseMs,
    dataPoints: Array.from({ length: rng.int(1, 30) }, () => ({
      agentId: rng.chance(0.9) ? agentId : "",
      metricName: rng.pick(METRICS),
      labels: rng.pick(LABELS),
      // Seconds apart, often the same instants again: retries, duplicates, conflicts.
      timestampMs: baseMs - baseMs % 1_000 + rng.int(-5, 5) * 1_000 +
        (rng.chance(0.01) ? 3_600_000 : 0),
      value: rng.pick([() => rng.int(0, 100), () => rng.next() * 1e6, () => -0, () => 0.1])(),
    })),
  };
}

/**
 * The requests: per seed a plausible batch, a mutation of it, a random batch of the decoder
 * tests and a mutation of that; then random bytes.
 */
function* requests(
  first: number,
  seeds: number,
  noise: number,
  nowMs: number,
): Generator<Uint8Array> {
  for (let seed = first; seed < first + seeds; seed++) {
    const rng = new Random(seed);
    const plausible = encodeMetricBatch(plausibleBatch(rng, nowMs));
    yield plausible;
    yield mutate(rng, plausible);
    if (seed % 2 === 0) {
      const bytes = randomBatchBytes(rng);
      yield bytes;
      yield mutate(rng, bytes);
    }
  }
  for (let seed = first; seed < first + noise; seed++) {
    const rng = new Random(seed * 7_919);
    yield Uint8Array.from({ length: rng.int(1, 64) }, () => rng.int(0, 255));
  }
}

const sampleKey = (agentId: string, metric: string, labels: Record<string, string>, ts: number) =>
  JSON.stringify([agentId, metric, canonicalLabelsJson(labels), ts]);

/** A baseline batch: stored before the fuzz, it must read back the same after. */
function baseline(nowMs: number) {
  return {
    agentId: "baseline-1",
    timestampMs: nowMs,
    dataPoints: Array.from({ length: 50 }, (_, i) => ({
      agentId: "baseline-1",
      metricName: "cpu.usage",
      labels: { core: String(i % 5) },
      timestampMs: nowMs - 600_000 + i * 10_000,
      value: i * 1.25,
    })),
  };
}

Deno.test("11,000 random and mutated batches through ingest: OK or INVALID_ARGUMENT as the oracle says, storage exact", async () => {
  const dir = await Deno.makeTempDir({ prefix: "oxmon-ingest-fuzz-" });
  const clock = new ManualClock(NOW);
  const store = openChunkStore({
    dataDir: join(dir, "data"),
    clock,
    lateSampleMaxAgeMs: 7 * 86_400_000,
  });
  const registry = openAgentRegistry(join(dir, "agents.db"));
  try {
    const service = new IngestService({
      store,
      registry,
      limits: DEFAULT_INGEST_LIMITS,
      agentTokens: [],
      retentionDays: 7,
      clock,
      log: silentLogger,
    });
    assert.equal(service.handle(encodeMetricBatch(baseline(NOW))).code, GrpcStatus.OK);
    const everything = { fromMs: 0, toMs: NOW + 86_400_000 };
    const before = store.queryRaw({ ...everything, agentId: "baseline-1" });

    const counts = { accepted: 0, undecodable: 0, mistyped: 0, invalid: 0 };
    /** First value per accepted sample, as storage must hold it. */
    const expected = new Map<string, number>();
    let n = 0;
    for (const bytes of requests(SEED * 1_000_000, SEEDS, NOISE, NOW)) {
      n++;
      const context = `request ${n}`;
      let result;
      try {
        result = service.handle(bytes);
      } catch (error) {
        assert.fail(`${context}: the service threw ${(error as Error).stack}`);
      }
      assert.ok(
        result.code === GrpcStatus.OK || result.code === GrpcStatus.INVALID_ARGUMENT,
        `${context}: status ${result.code} ${result.message}`,
      );
      assert.ok(result.message.length > 0, context);
      let oracle;
      try {
        oracle = oracleDecode(bytes);
      } catch {
        oracle = undefined;
      }
      if (oracle === undefined) {
        assert.equal(result.code, GrpcStatus.INVALID_ARGUMENT, `${context}: undecodable accepted`);
        assert.match(result.message, /^request: cannot decode MetricBatchProto: batch/, context);
        counts.undecodable++;
        continue;
      }
      const mistyped = firstMistypedField(bytes);
      if (mistyped !== undefined) {
        assert.equal(result.code, GrpcStatus.INVALID_ARGUMENT, `${context}: ${mistyped} accepted`);
        assert.ok(result.message.endsWith(mistyped), `${context}: ${result.message}`);
        counts.mistyped++;
        continue;
      }
      if (result.code !== GrpcStatus.OK) {
        counts.invalid++;
        continue;
      }
      counts.accepted++;
      const batch = normalize(oracle);
      for (const point of batch.dataPoints) {
        // A point without an agent id is the batch agent's.
        const key = sampleKey(
          point.agentId || batch.agentId,
          point.metricName,
          Object.fromEntries(point.labels),
          point.timestampMs,
        );
        if (!expected.has(key)) expected.set(key, point.value);
      }
    }

    const stored = new Map<string, number>();
    for (const series of store.queryRaw(everything)) {
      if (series.agentId === "baseline-1") continue;
      for (const sample of series.samples) {
        const key = sampleKey(series.agentId, series.metricName, series.labels, sample.timestampMs);
        assert.ok(!stored.has(key), `stored twice: ${key}`);
        stored.set(key, sample.value);
      }
    }
    assert.equal(stored.size, expected.size, "samples stored vs accepted");
    for (const [key, value] of expected) {
      assert.ok(
        Object.is(stored.get(key), value),
        `${key}: stored ${stored.get(key)}, sent ${value}`,
      );
    }
    assert.deepEqual(store.queryRaw({ ...everything, agentId: "baseline-1" }), before);
    console.log(
      `ingest fuzz (seed ${SEED}): ${n} requests through the service: ${JSON.stringify(counts)}; ` +
        `${expected.size} samples stored exactly`,
    );
    assert.ok(n >= 11_000);
    // Each outcome must be common, or the fuzz proves less than it says.
    for (const [outcome, count] of Object.entries(counts)) {
      assert.ok(count > 200, `${outcome}: ${JSON.stringify(counts)}`);
    }
  } finally {
    registry.close();
    store.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("1,500 random and mutated batches over gRPC leave the real server healthy and its data unchanged", async () => {
  const dir = await Deno.makeTempDir({ prefix: "oxmon-ingest-fuzz-wire-" });
  const server = await startTestServer(`${dir}/data`);
  try {
    const nowMs = Date.now();
    const statuses: Record<string, number> = {};
    await withClient(server.grpcPort, async (client) => {
      await reportMetrics(client, baseline(nowMs));
      const query = `/api/v1/metrics?agent=baseline-1&from=${nowMs - 3_600_000}&to=${nowMs}`;
      const before = await server.getJson(query);
      let sent = 0;
      for (const bytes of requests(SEED * 1_000_000 + 500_000, OVER_THE_WIRE / 3, 0, Date.now())) {
        sent++;
        try {
          await reportMetrics(client, bytes);
          statuses.OK = (statuses.OK ?? 0) + 1;
        } catch (error) {
          const code = (error as { code: number }).code;
          assert.equal(code, GrpcStatus.INVALID_ARGUMENT, `request ${sent}: ${error}`);
          statuses.INVALID_ARGUMENT = (statuses.INVALID_ARGUMENT ?? 0) + 1;
        }
      }
      const health = await server.getJson("/api/v1/health");
      assert.equal(health.status, 200);
      assert.equal(health.body.status, "ok");
      assert.equal((health.body.ingest as Record<string, number>).grpc_listener_restarts, 0);
      assert.deepEqual(await server.getJson(query), before);
      console.log(`ingest fuzz over gRPC: ${sent} requests: ${JSON.stringify(statuses)}`);
    });
  } finally {
    await server.stop();
    await Deno.remove(dir, { recursive: true });
  }
});
