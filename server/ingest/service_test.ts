import assert from "node:assert/strict";
import { GrpcStatus } from "../../shared/wire/mod.ts";
import { ManualClock } from "../../shared/clock.ts";
import { memoryLogger, silentLogger } from "../../shared/log.ts";
import type { MetricDataPoint } from "../../shared/types.ts";
import { DEFAULT_INGEST_LIMITS } from "../config.ts";
import { Wire } from "../../tests/helpers/wire_messages.ts";
import {
  encodeBatch,
  makeBatch,
  MemoryRegistry,
  MemoryStore,
} from "../../tests/helpers/ingest_fakes.ts";
import { IngestService, type IngestServiceOptions } from "./service.ts";
import { openChunkStore } from "../storage/chunk/engine.ts";

const NOW = Date.UTC(2026, 10, 27, 12, 0, 0);

function setup(options: Partial<IngestServiceOptions> = {}) {
  const store = new MemoryStore();
  const registry = new MemoryRegistry();
  const clock = new ManualClock(NOW);
  const log = memoryLogger();
  const service = new IngestService({
    store,
    registry,
    limits: DEFAULT_INGEST_LIMITS,
    agentTokens: [],
    retentionDays: 7,
    clock,
    log,
    ...options,
  });
  return { store, registry, clock, log, service };
}

Deno.test("IngestService commits a batch, registers the agent and then calls onCommitted", () => {
  const committed: MetricDataPoint[][] = [];
  const { store, registry, service, clock } = setup({
    onCommitted: (points) => {
      // Storage already holds the points when the hook runs.
      assert.equal(store.sampleCount(), points.length);
      committed.push([...points]);
    },
  });
  const sent = {
    ...makeBatch("web-01", 3, NOW - 5_000),
    systemInfo: { hostname: "web-01", os: "Linux", cpuCores: 4 },
  };
  const result = service.handle(encodeBatch(sent), {});
  assert.deepEqual(result, { code: GrpcStatus.OK, message: "stored 3 of 3 points", success: true });
  assert.equal(committed.length, 1);
  assert.equal(committed[0].length, 3);
  const [series] = store.queryRaw({
    agentId: "web-01",
    labels: { core: "1" },
    fromMs: 0,
    toMs: NOW,
  });
  assert.deepEqual(series.samples, [{ timestampMs: NOW - 5_000, value: 0.5 }]);
  assert.deepEqual(registry.get("web-01"), {
    agentId: "web-01",
    firstSeenMs: NOW,
    lastSeenMs: NOW,
    systemInfo: {
      hostname: "web-01",
      os: "Linux",
      osVersion: "",
      arch: "",
      kernelVersion: "",
      cpuCores: 4,
      memoryGb: 0,
      diskGb: 0,
    },
  });

  clock.advance(10_000);
  service.handle(encodeBatch(makeBatch("web-01", 1, NOW + 9_000)));
  const record = registry.get("web-01")!;
  assert.equal(record.firstSeenMs, NOW);
  assert.equal(record.lastSeenMs, NOW + 10_000);
  assert.equal(record.systemInfo?.hostname, "web-01", "kept when a batch carries none");
  assert.deepEqual(service.stats(), {
    batches_accepted: 2,
    batches_rejected: 0,
    batches_failed: 0,
    points_accepted: 4,
    points_rejected: 0,
    points_duplicate: 0,
    points_conflict: 0,
    points_too_old: 0,
    unauthenticated: 0,
    permission_denied: 0,
    points_series_limited: 0,
    local_points: 0,
  });
});

Deno.test("IngestService.commitLocal stores the server's own samples and feeds onCommitted without registering an agent", () => {
  const committed: MetricDataPoint[][] = [];
  const { store, registry, service } = setup({
    onCommitted: (points) => committed.push([...points]),
  });
  const points: MetricDataPoint[] = [
    {
      agentId: "cert-checker",
      metricName: "certificate.days_until_expiry",
      labels: { domain: "a.example" },
      timestampMs: NOW,
      value: 12,
    },
    {
      agentId: "cert-checker",
      metricName: "certificate.is_valid",
      labels: { domain: "a.example" },
      timestampMs: NOW,
      value: 1,
    },
  ];
  assert.deepEqual(service.commitLocal(points), { written: 2, duplicates: 0, conflicts: 0 });
  assert.equal(store.sampleCount(), 2);
  assert.deepEqual(committed, [points]);
  assert.equal(registry.get("cert-checker"), undefined, "not an agent: no row in /agents");
  assert.equal(service.stats().local_points, 2);
  store.failWrites = true;
  assert.throws(() => service.commitLocal(points), /SQLITE_FULL/);
  assert.equal(committed.length, 1, "nothing is fed when storage failed");
});

Deno.test("IngestService stores a retried batch once", () => {
  const { store, service } = setup();
  const bytes = encodeBatch(makeBatch("web-01", 100, NOW - 1_000));
  assert.equal(service.handle(bytes).success, true);
  const retry = service.handle(bytes);
  assert.equal(retry.success, true);
  assert.match(retry.message, /stored 0 of 100 points, 100 already stored/);
  assert.equal(store.sampleCount(), 100);
  assert.equal(service.stats().points_duplicate, 100);
});

Deno.test("IngestService refuses an invalid batch with INVALID_ARGUMENT and writes nothing", async (t) => {
  const cases: [string, Record<string, unknown>, RegExp][] = [
    ["empty batch", { dataPoints: [] }, /^data_points: /],
    ["bad agent id", { agentId: "web 01" }, /^agent_id: /],
    ["non-finite value in the last point", { lastPoint: { value: NaN } }, /value: .*NaN/],
    ["point of another agent", { lastPoint: { agentId: "other" } }, /\]\.agent_id: /],
    ["future timestamp", { lastPoint: { timestampMs: NOW + 301_000 } }, /timestamp_ms: /],
  ];
  for (const [name, change, message] of cases) {
    await t.step(name, () => {
      const { store, registry, service } = setup({ onCommitted: () => assert.fail("called") });
      const { lastPoint, ...batchChange } = change as { lastPoint?: object };
      const batch = { ...makeBatch("web-01", 10, NOW), ...batchChange };
      if (lastPoint) Object.assign(batch.dataPoints![9], lastPoint);
      const result = service.handle(encodeBatch(batch));
      assert.equal(result.code, GrpcStatus.INVALID_ARGUMENT);
      assert.equal(result.success, false);
      assert.match(result.message, message);
      assert.equal(store.writes, 0, "nothing of a bad batch is written");
      assert.equal(registry.list().length, 0);
      assert.equal(service.stats().batches_rejected, 1);
    });
  }
  await t.step("undecodable bytes", () => {
    const { store, service } = setup();
    const result = service.handle(new Uint8Array([0x1a, 0xff, 0xff, 0x01]));
    assert.equal(result.code, GrpcStatus.INVALID_ARGUMENT);
    assert.match(result.message, /^request: cannot decode MetricBatchProto/);
    assert.equal(store.writes, 0);
  });
});

Deno.test("IngestService refuses a known field with the wrong wire type, naming it", () => {
  const { store, service } = setup();
  // protobufjs would skip the mistyped value and the point would be stored with value 0.
  const wire = new Wire().string(1, "web-01");
  for (let i = 0; i < 3; i++) {
    wire.delimited(3, new Wire().tag(1, 0).varint(NOW).string(3, "cpu.usage").finish());
  }
  wire.delimited(
    3,
    new Wire().tag(1, 0).varint(NOW).string(3, "disk.used").string(4, "0").finish(),
  );
  assert.deepEqual(service.handle(wire.finish()), {
    code: GrpcStatus.INVALID_ARGUMENT,
    message: "request: cannot decode MetricBatchProto: " +
      "batch.data_points[3].value: wire type 2, expected 1 (double)",
    success: false,
  });
  assert.equal(store.writes, 0);
});

Deno.test("IngestService refuses a label value with a control character", () => {
  const { store, service } = setup();
  const batch = makeBatch("web-01", 5, NOW, { labels: { mount: "/\u001fx" } });
  assert.deepEqual(service.handle(encodeBatch(batch)), {
    code: GrpcStatus.INVALID_ARGUMENT,
    message: 'data_points[0].labels["mount"]: control character U+001F at offset 1',
    success: false,
  });
  assert.equal(store.writes, 0);
});

Deno.test("IngestService refuses a batch over max_points_per_batch before decoding its points", () => {
  const { store, service } = setup({ limits: { ...DEFAULT_INGEST_LIMITS, maxPointsPerBatch: 5 } });
  const wire = encodeBatch(makeBatch("web-01", 5, NOW));
  // 100,000 more empty points after five good ones.
  const request = new Uint8Array(wire.length + 200_000);
  request.set(wire);
  for (let at = wire.length; at < request.length; at += 2) request[at] = 0x1a;
  const result = service.handle(request);
  assert.deepEqual(result, {
    code: GrpcStatus.INVALID_ARGUMENT,
    message: "data_points: 100005 points, at most 5 allowed",
    success: false,
  });
  assert.equal(store.writes, 0);
  const stats = service.stats();
  assert.equal(stats.batches_rejected, 1);
  assert.equal(stats.points_rejected, 100_005);
});

Deno.test("IngestService checks bearer tokens when tokens are configured", async (t) => {
  const bytes = encodeBatch(makeBatch("web-01", 2, NOW));
  const { store, service } = setup({ agentTokens: ["alpha-token", "beta-token"] });
  await t.step("missing authorization is UNAUTHENTICATED", () => {
    const result = service.handle(bytes, { agentId: "web-01" });
    assert.equal(result.code, GrpcStatus.UNAUTHENTICATED);
    assert.match(result.message, /^authorization: missing/);
  });
  await t.step("a wrong token or scheme is UNAUTHENTICATED", () => {
    for (const authorization of ["Bearer alpha", "Bearer alpha-token2", "Basic alpha-token", ""]) {
      const result = service.handle(bytes, { authorization });
      assert.equal(result.code, GrpcStatus.UNAUTHENTICATED, authorization);
    }
    assert.equal(store.writes, 0);
  });
  await t.step("any configured token is accepted", () => {
    assert.equal(service.handle(bytes, { authorization: "Bearer beta-token" }).success, true);
    assert.equal(service.handle(bytes, { authorization: "bearer alpha-token" }).success, true);
  });
  assert.equal(service.stats().unauthenticated, 5);

  await t.step("no tokens configured means open", () => {
    const open = setup().service;
    assert.equal(open.handle(bytes).success, true);
    assert.equal(open.handle(bytes, { authorization: "Bearer anything" }).success, true);
  });
});

Deno.test("IngestService answers UNAVAILABLE without internals when storage fails", () => {
  const { store, registry, service, log } = setup();
  store.failWrites = true;
  const result = service.handle(encodeBatch(makeBatch("web-01", 2, NOW)));
  assert.equal(result.code, GrpcStatus.UNAVAILABLE);
  assert.equal(result.success, false);
  assert.doesNotMatch(result.message, /SQLITE|\/data/);
  assert.equal(registry.list().length, 0);
  assert.equal(service.stats().batches_failed, 1);
  assert.ok(log.lines.some((line) => line.includes("ERROR") && line.includes("SQLITE_FULL")));
});

Deno.test("IngestService acknowledges a committed batch even when the registry or hook fail", () => {
  const { store, registry, service, log } = setup({
    onCommitted: () => {
      throw new Error("alert engine exploded");
    },
  });
  registry.failUpdates = true;
  const result = service.handle(encodeBatch(makeBatch("web-01", 2, NOW)));
  assert.equal(result.success, true);
  assert.equal(store.sampleCount(), 2);
  assert.ok(log.lines.some((line) => line.includes("agent registry update failed")));
  assert.ok(log.lines.some((line) => line.includes("alert engine exploded")));
});

Deno.test("IngestService refuses a bad retention setting when built", () => {
  assert.throws(
    () => setup({ retentionDays: 0, log: silentLogger }),
    /retentionDays must be a positive integer, got 0/,
  );
});

/** A store that refuses, as storage may, any write holding a point of `refusedMetric`. */
class RefusingStore extends MemoryStore {
  constructor(readonly refusedMetric: string) {
    super();
  }
  override write(points: readonly MetricDataPoint[]) {
    if (points.some((point) => point.metricName === this.refusedMetric)) {
      throw new RangeError(`points[0].metric_name: ${this.refusedMetric} refused`);
    }
    return super.write(points);
  }
}

Deno.test("IngestService.handleMany commits a group's good batches in one write", async (t) => {
  await t.step("bad batches are refused alone, results keep request order", () => {
    const committed: string[] = [];
    const { store, registry, service } = setup({
      agentTokens: ["token"],
      onCommitted: (points) => {
        assert.equal(store.writes, 1, "after the one group write");
        committed.push(points[0].agentId);
      },
    });
    const auth = { authorization: "Bearer token" };
    const bad = makeBatch("web-02", 3, NOW);
    bad.dataPoints![2].value = Infinity;
    const results = service.handleMany([
      { bytes: encodeBatch(makeBatch("web-01", 3, NOW)), metadata: auth },
      { bytes: encodeBatch(bad), metadata: auth },
      { bytes: encodeBatch(makeBatch("web-03", 3, NOW)) },
      { bytes: new Uint8Array([0x1a, 0xff]), metadata: auth },
      { bytes: encodeBatch(makeBatch("web-04", 5, NOW)), metadata: auth },
    ]);
    assert.deepEqual(results.map((result) => [result.code, result.message.split(":")[0]]), [
      [GrpcStatus.OK, "stored 3 of 3 points"],
      [GrpcStatus.INVALID_ARGUMENT, "data_points[2].value"],
      [GrpcStatus.UNAUTHENTICATED, "authorization"],
      [GrpcStatus.INVALID_ARGUMENT, "request"],
      [GrpcStatus.OK, "stored 5 of 5 points"],
    ]);
    assert.equal(store.writes, 1);
    assert.equal(store.sampleCount(), 8);
    assert.deepEqual(committed, ["web-01", "web-04"]);
    assert.deepEqual(registry.list().map((agent) => agent.agentId), ["web-01", "web-04"]);
    const stats = service.stats();
    assert.equal(stats.batches_accepted, 2);
    assert.equal(stats.batches_rejected, 3);
    assert.equal(stats.points_accepted, 8);
  });

  await t.step("storage refusing one batch of the group fails that batch only", () => {
    const store = new RefusingStore("disk.refused");
    const { registry, service, log } = setup({ store });
    const results = service.handleMany([
      { bytes: encodeBatch(makeBatch("web-01", 2, NOW)) },
      { bytes: encodeBatch(makeBatch("web-02", 2, NOW, { metric: "disk.refused" })) },
      { bytes: encodeBatch(makeBatch("web-03", 2, NOW)) },
    ]);
    assert.deepEqual(results.map((result) => result.code), [
      GrpcStatus.OK,
      GrpcStatus.UNAVAILABLE,
      GrpcStatus.OK,
    ]);
    assert.equal(store.sampleCount(), 4);
    assert.deepEqual(registry.list().map((agent) => agent.agentId), ["web-01", "web-03"]);
    assert.equal(service.stats().batches_failed, 1);
    assert.ok(log.lines.some((line) => line.includes("group write failed")));
  });

  await t.step("retried and conflicting samples are counted for the group", () => {
    const { store, service, log } = setup();
    const first = makeBatch("web-01", 4, NOW);
    assert.equal(service.handle(encodeBatch(first)).message, "stored 4 of 4 points");
    const conflicting = makeBatch("web-02", 2, NOW, { valueBase: 10 });
    const results = service.handleMany([
      { bytes: encodeBatch(first) },
      { bytes: encodeBatch(makeBatch("web-02", 2, NOW)) },
      { bytes: encodeBatch(conflicting) },
    ]);
    assert.ok(results.every((result) => result.success));
    assert.equal(
      results[0].message,
      "stored 4 points, committed with 2 other batches: 2 new, 4 already stored, 2 refused " +
        "(another value is stored at that timestamp)",
    );
    // Within the group the first value wins, as with separate writes.
    const [series] = store.queryRaw({
      agentId: "web-02",
      labels: { core: "1" },
      fromMs: 0,
      toMs: NOW,
    });
    assert.deepEqual(series.samples, [{ timestampMs: NOW, value: 0.5 }]);
    const stats = service.stats();
    assert.equal(stats.points_duplicate, 4);
    assert.equal(stats.points_conflict, 2);
    // The conflict is logged once for the group, naming its batches' agents.
    const conflicts = log.lines.filter((line) => line.includes("samples conflict"));
    assert.equal(conflicts.length, 1);
    assert.ok(conflicts[0].includes("web-01,web-02,web-02"), conflicts[0]);
  });
});

Deno.test("IngestService answers corrupted bytes with INVALID_ARGUMENT or a commit, never a crash", () => {
  const { store, service } = setup();
  const bytes = encodeBatch(makeBatch("web-01", 20, NOW, { labels: { mount: "/" } }));
  let state = 7;
  const next = (below: number) => {
    state = (Math.imul(state, 1103515245) + 12345) >>> 0;
    return state % below;
  };
  for (let round = 0; round < 2_000; round++) {
    const corrupt = bytes.slice(0, next(3) === 0 ? next(bytes.length) : bytes.length);
    for (let flips = 1 + next(3); flips > 0 && corrupt.length > 0; flips--) {
      corrupt[next(corrupt.length)] = next(256);
    }
    const writesBefore = store.writes;
    const result = service.handle(corrupt);
    if (result.code === GrpcStatus.OK) continue;
    assert.equal(result.code, GrpcStatus.INVALID_ARGUMENT, result.message);
    assert.equal(store.writes, writesBefore, "nothing of a refused batch is written");
  }
});

Deno.test("IngestService reports samples the chunk store refuses as too old", async () => {
  const dataDir = await Deno.makeTempDir({ prefix: "oxmon-too-old-" });
  const clock = new ManualClock(NOW);
  // A store whose age limit (1 h) is tighter than validation's retention (7 days).
  const store = openChunkStore({ dataDir, clock, lateSampleMaxAgeMs: 3_600_000 });
  try {
    const { service } = setup({ store, clock });
    const reply = service.handle(encodeBatch(makeBatch("web-01", 2, NOW - 2 * 3_600_000)));
    assert.equal(reply.code, GrpcStatus.OK);
    assert.match(reply.message, /stored 0 of 2 points, 2 refused as older than retention/);
    assert.equal(service.stats().points_too_old, 2);
  } finally {
    store.close();
    await Deno.remove(dataDir, { recursive: true });
  }
});
