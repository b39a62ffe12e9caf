import assert from "node:assert/strict";
import { GrpcStatus as status } from "../shared/wire/mod.ts";
import type { MetricBatch } from "../shared/types.ts";
import {
  reservePort,
  type Respond,
  startRecordingServer,
} from "../tests/helpers/recording_grpc_server.ts";
import { encodeMetricBatch } from "../shared/wire/encode_batch.ts";
import { GrpcBatchSender } from "./sender.ts";

const systemInfo = {
  hostname: "web-01",
  os: "Ubuntu",
  osVersion: "24.04",
  arch: "x86_64",
  kernelVersion: "6.8.0",
  cpuCores: 4,
  memoryGb: 15.56,
  diskGb: 97.3,
};

function batch(timestampMs: number, withInfo = false): MetricBatch {
  return {
    agentId: "web-01",
    timestampMs,
    dataPoints: [{
      timestampMs,
      agentId: "web-01",
      metricName: "disk.used_percent",
      value: 42.5,
      labels: { mount: "/" },
    }],
    ...(withInfo ? { systemInfo } : {}),
  };
}

const deadline = () => Date.now() + 5_000;

Deno.test("GrpcBatchSender delivers batches with metadata over one connection", async () => {
  await using server = await startRecordingServer();
  const sender = new GrpcBatchSender({
    server: { address: `127.0.0.1:${server.port}`, tls: false },
    agentId: "web-01",
    authToken: "t0ken",
  });
  try {
    assert.deepEqual(
      await sender.send(encodeMetricBatch(batch(1_000, true)), { deadlineMs: deadline() }),
      {
        kind: "sent",
      },
    );
    assert.deepEqual(
      await sender.send(encodeMetricBatch(batch(2_000)), { deadlineMs: deadline() }),
      {
        kind: "sent",
      },
    );
  } finally {
    sender.close();
  }
  const [first, second] = server.received;
  assert.equal(first.metadata.authorization, "Bearer t0ken");
  assert.equal(first.metadata["agent-id"], "web-01");
  assert.equal(first.batch.agentId, "web-01");
  assert.equal(first.batch.timestampMs, 1_000);
  assert.deepEqual(first.batch.dataPoints[0].labels, { mount: "/" });
  assert.equal(first.batch.dataPoints[0].agentId, "web-01");
  assert.equal(first.batch.systemInfo?.hostname, "web-01");
  assert.equal(first.batch.systemInfo?.cpuCores, 4);
  assert.equal(second.batch.systemInfo, null);
  assert.equal(first.peer, second.peer, "both calls used the same connection");
});

Deno.test("GrpcBatchSender classifies the server's answers", async (t) => {
  let answer: ReturnType<Respond>;
  await using server = await startRecordingServer({ respond: () => answer });
  const sender = new GrpcBatchSender({
    server: { address: `127.0.0.1:${server.port}`, tls: false },
    agentId: "web-01",
  });
  try {
    await t.step("INVALID_ARGUMENT: rejected for good", async () => {
      answer = { code: status.INVALID_ARGUMENT, details: "data_points[0].value: not finite" };
      assert.deepEqual(await sender.send(encodeMetricBatch(batch(1)), { deadlineMs: deadline() }), {
        kind: "rejected",
        reason: "data_points[0].value: not finite",
      });
    });
    await t.step("UNAUTHENTICATED: failed, flagged", async () => {
      answer = { code: status.UNAUTHENTICATED, details: "missing bearer token" };
      const outcome = await sender.send(encodeMetricBatch(batch(1)), { deadlineMs: deadline() });
      assert.equal(outcome.kind, "failed");
      assert.ok(outcome.kind === "failed" && outcome.unauthenticated);
    });
    await t.step("success=false: failed, retryable", async () => {
      answer = { success: false, message: "storage busy" };
      assert.deepEqual(await sender.send(encodeMetricBatch(batch(1)), { deadlineMs: deadline() }), {
        kind: "failed",
        reason: "server replied success=false: storage busy",
        unauthenticated: false,
      });
    });
    await t.step("no metadata authorization without a token", async () => {
      answer = undefined;
      await sender.send(encodeMetricBatch(batch(1)), { deadlineMs: deadline() });
      assert.equal(server.received.at(-1)?.metadata.authorization, undefined);
    });
  } finally {
    sender.close();
  }
});

Deno.test("GrpcBatchSender reports an unreachable server as a retryable failure", async () => {
  const sender = new GrpcBatchSender({
    server: { address: `127.0.0.1:${reservePort()}`, tls: false },
    agentId: "web-01",
  });
  try {
    const outcome = await sender.send(encodeMetricBatch(batch(1)), { deadlineMs: deadline() });
    assert.equal(outcome.kind, "failed");
    assert.match(outcome.kind === "failed" ? outcome.reason : "", /^UNAVAILABLE/);
  } finally {
    sender.close();
  }
});
