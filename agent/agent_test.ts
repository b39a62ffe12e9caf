/**
 * The agent loop against a real grpc-js server on 127.0.0.1, with a counting collector so the
 * order of arrival can be checked batch by batch.
 */
import assert from "node:assert/strict";
import { GrpcStatus as status } from "../shared/wire/mod.ts";
import { memoryLogger } from "../shared/log.ts";
import { type AgentStats, runAgent } from "./agent.ts";
import type { Collector } from "./collectors/types.ts";
import { type AgentConfig, parseAgentConfig } from "./config.ts";
import {
  type Received,
  reservePort,
  startRecordingServer,
  waitFor,
} from "../tests/helpers/recording_grpc_server.ts";

const systemInfo = {
  hostname: "test-host",
  os: "Linux",
  osVersion: "1",
  arch: "x86_64",
  kernelVersion: "6.1",
  cpuCores: 2,
  memoryGb: 1,
  diskGb: 10,
};

/** Round n yields `system.uptime = n`. */
function countingCollector(): Collector {
  let round = 0;
  return { name: "counter", collect: () => [{ name: "system.uptime", value: ++round }] };
}

const roundOf = (received: Received) => Number(received.batch.dataPoints[0].value);

function configFor(port: number, extra = ""): Readonly<AgentConfig> {
  return parseAgentConfig(`
agent_id = "test-agent"
server_endpoint = "http://127.0.0.1:${port}"
${extra}`);
}

function startAgent(config: Readonly<AgentConfig>) {
  const controller = new AbortController();
  let stats: AgentStats | undefined;
  const log = memoryLogger();
  const done = runAgent(config, {
    signal: controller.signal,
    log,
    collectors: [countingCollector()],
    systemInfo: () => systemInfo,
    intervalMs: 20,
    backoff: { baseMs: 10, maxMs: 50 },
    onProgress: (progress) => (stats = progress),
  });
  return {
    log,
    progress: () => stats,
    stop: () => {
      controller.abort();
      return done;
    },
  };
}

Deno.test("batches buffered while the server is down arrive in order once it is up", async () => {
  const port = reservePort();
  const agent = startAgent(configFor(port, "buffer_max_size = 1000"));
  await waitFor(() => (agent.progress()?.collected ?? 0) >= 5, "5 rounds with the server down");
  assert.ok(agent.progress()!.failedSends > 0);
  assert.equal(agent.progress()!.sent, 0);

  await using server = await startRecordingServer({ port });
  await waitFor(() => server.received.length >= 10, "the buffered batches to arrive");
  const stats = await agent.stop();

  const rounds = server.received.map(roundOf);
  assert.deepEqual(rounds, rounds.map((_, i) => i + 1), "every round, oldest first");
  assert.equal(stats.sent, server.received.length);
  assert.equal(stats.collected, stats.sent, "the stop flushed everything");
  assert.equal(stats.dropped, 0);
  for (const { batch, metadata } of server.received) {
    assert.equal(batch.agentId, "test-agent");
    assert.equal(metadata["agent-id"], "test-agent");
    assert.ok(batch.dataPoints.every((point) => point.agentId === "test-agent"));
    assert.ok(batch.dataPoints.every((point) => point.timestampMs === batch.timestampMs));
  }
  const timestamps = server.received.map((r) => r.batch.timestampMs);
  assert.deepEqual(timestamps, [...timestamps].sort((a, b) => a - b));
  assert.equal(server.received[0].batch.systemInfo?.hostname, "test-host");
  assert.ok(server.received.slice(1).every((r) => !r.batch.systemInfo), "system info once");
});

Deno.test("past the buffer bound the oldest batches are dropped and counted", async () => {
  const port = reservePort();
  const agent = startAgent(configFor(port, "buffer_max_size = 3"));
  await waitFor(() => (agent.progress()?.dropped ?? 0) >= 4, "the buffer to overflow");

  await using server = await startRecordingServer({ port });
  await waitFor(() => server.received.length >= 6, "batches after the outage");
  const stats = await agent.stop();

  const rounds = server.received.map(roundOf);
  assert.ok(rounds[0] > 4, `the oldest rounds were dropped, got ${rounds[0]} first`);
  assert.deepEqual(rounds, [...rounds].sort((a, b) => a - b), "in order");
  assert.equal(new Set(rounds).size, rounds.length, "no duplicates");
  assert.equal(stats.dropped + stats.sent, stats.collected, "every batch sent or counted");
  assert.ok(agent.log.lines.some((line) => /WARN .*buffer full, dropped the oldest/.test(line)));
  assert.equal(server.received[0].batch.systemInfo?.hostname, "test-host", "info survives drops");
});

Deno.test("a batch refused as INVALID_ARGUMENT is dropped, not retried forever", async () => {
  await using server = await startRecordingServer({
    respond: ({ batch }) =>
      batch.dataPoints[0].value === 2
        ? { code: status.INVALID_ARGUMENT, details: "bad batch" }
        : undefined,
  });
  const agent = startAgent(configFor(server.port));
  await waitFor(() => server.received.length >= 4, "batches after the refused one");
  const stats = await agent.stop();
  assert.equal(stats.rejected, 1);
  assert.deepEqual(server.received.slice(0, 3).map(roundOf), [1, 3, 4]);
  assert.ok(
    agent.log.lines.some((line) => /ERROR .*refused a batch as invalid.*bad batch/.test(line)),
  );
});

Deno.test("a refused token is logged loudly while batches stay buffered", async () => {
  let acceptedToken = "new-token";
  await using server = await startRecordingServer({
    respond: ({ metadata }) =>
      metadata.authorization === `Bearer ${acceptedToken}`
        ? undefined
        : { code: status.UNAUTHENTICATED, details: "wrong token" },
  });
  const agent = startAgent(configFor(server.port, `auth_token = "old-token"`));
  await waitFor(() => (agent.progress()?.collected ?? 0) >= 3, "rounds while refused");
  assert.ok(agent.log.lines.some((line) => /ERROR .*check auth_token.*wrong token/.test(line)));
  acceptedToken = "old-token";
  await waitFor(() => server.received.length >= 3, "the buffered batches after the fix");
  await agent.stop();
  assert.deepEqual(server.received.slice(0, 3).map(roundOf), [1, 2, 3]);
});

Deno.test("a stopping agent gives up flushing after the grace period", async () => {
  const port = reservePort();
  const agent = startAgent(configFor(port, "shutdown_grace_secs = 0.2"));
  await waitFor(() => (agent.progress()?.collected ?? 0) >= 2, "rounds with the server down");
  const started = performance.now();
  const stats = await agent.stop();
  const elapsed = performance.now() - started;
  assert.ok(elapsed < 1_500, `stopped after ${elapsed} ms`);
  assert.ok(stats.buffered >= 2);
  assert.equal(stats.sent, 0);
  assert.ok(agent.log.lines.some((line) => /WARN .*unsent batches/.test(line)));
});

/** `agent.*` points of a received batch as `name{collector}` → value. */
function selfMetricsOf(received: Received): Map<string, number> {
  return new Map(
    received.batch.dataPoints
      .filter((point) => point.metricName!.startsWith("agent."))
      .map((point) => {
        const collector = point.labels?.collector;
        const name = collector ? `${point.metricName}{${collector}}` : point.metricName!;
        return [name, Number(point.value)];
      }),
  );
}

Deno.test("a collector that throws reports 0 and the batch still goes out", async (t) => {
  const broken: Collector = {
    name: "broken",
    collect: () => {
      throw new Error("cannot read /proc/broken");
    },
  };
  await t.step("beside a collector that works", async () => {
    await using server = await startRecordingServer();
    const controller = new AbortController();
    const done = runAgent(configFor(server.port), {
      signal: controller.signal,
      collectors: [countingCollector(), broken],
      systemInfo: () => systemInfo,
      intervalMs: 20,
    });
    await waitFor(() => server.received.length >= 2, "two batches");
    controller.abort();
    await done;
    for (const received of server.received.slice(0, 2)) {
      assert.equal(received.batch.dataPoints[0].metricName, "system.uptime");
      const self = selfMetricsOf(received);
      assert.equal(self.get("agent.collector_success{counter}"), 1);
      assert.equal(self.get("agent.collector_success{broken}"), 0);
      assert.ok(self.get("agent.collector_duration_seconds{counter}")! >= 0);
      assert.ok(self.get("agent.collector_duration_seconds{broken}")! >= 0);
      assert.equal(self.get("agent.buffer_batches"), 0);
      assert.equal(self.get("agent.dropped_batches_total"), 0);
    }
  });
  await t.step("alone: every round still reports it", async () => {
    await using server = await startRecordingServer();
    const controller = new AbortController();
    const done = runAgent(configFor(server.port), {
      signal: controller.signal,
      collectors: [broken],
      systemInfo: () => systemInfo,
      intervalMs: 20,
    });
    await waitFor(() => server.received.length >= 3, "three batches");
    controller.abort();
    const stats = await done;
    assert.ok(stats.collected >= 3);
    for (const received of server.received) {
      assert.deepEqual(
        received.batch.dataPoints.map((point) => point.metricName),
        [
          "agent.collector_success",
          "agent.collector_duration_seconds",
          "agent.buffer_batches",
          "agent.dropped_batches_total",
        ],
      );
      assert.equal(selfMetricsOf(received).get("agent.collector_success{broken}"), 0);
    }
  });
});

Deno.test("the buffer's backlog and drops are reported with the batches", async () => {
  const port = reservePort();
  const agent = startAgent(configFor(port, "buffer_max_size = 3"));
  await waitFor(() => (agent.progress()?.dropped ?? 0) >= 2, "the buffer to overflow");
  await using server = await startRecordingServer({ port });
  await waitFor(() => server.received.length >= 6, "batches after the outage");
  const stats = await agent.stop();
  const backlog = server.received.map((received) => selfMetricsOf(received));
  // Batches collected during the outage saw the buffer filling up.
  assert.ok(backlog.some((self) => self.get("agent.buffer_batches")! >= 2));
  assert.ok(backlog.some((self) => self.get("agent.dropped_batches_total")! >= 1));
  const totals = backlog.map((self) => self.get("agent.dropped_batches_total")!);
  assert.deepEqual(totals, [...totals].sort((a, b) => a - b), "a counter never goes down");
  assert.ok(totals.at(-1)! <= stats.dropped);
});
