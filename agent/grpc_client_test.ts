/** The gRPC client on the agent's own HTTP/2 client, against a real grpc-js server on 127.0.0.1. */
import assert from "node:assert/strict";
import type { MetricBatch } from "../shared/types.ts";
import { testCertificates } from "../tests/helpers/pki.ts";
import {
  reservePort,
  type Respond,
  startRecordingServer,
} from "../tests/helpers/recording_grpc_server.ts";
import {
  decodeReportResponse,
  encodeMetricBatch,
  GrpcStatus,
  type GrpcStatusCode,
  grpcStatusName,
  REPORT_METRICS_PATH as PATH,
} from "../shared/wire/mod.ts";
import { GrpcClient } from "./grpc_client.ts";

const batch: MetricBatch = {
  agentId: "web-01",
  timestampMs: 1_000,
  dataPoints: [{
    timestampMs: 1_000,
    agentId: "web-01",
    metricName: "system.uptime",
    value: 42,
    labels: {},
  }],
};
const message = encodeMetricBatch(batch);
const inSeconds = (seconds: number) => Date.now() + seconds * 1000;

Deno.test("GrpcClient passes on the status the server answers with", async (t) => {
  let answer: ReturnType<Respond>;
  await using server = await startRecordingServer({ respond: () => answer });
  const client = new GrpcClient({ address: `127.0.0.1:${server.port}` });
  const call = () => client.unary(PATH, message, { deadlineMs: inSeconds(5) });
  try {
    await t.step("OK carries the response message", async () => {
      answer = undefined;
      const result = await call();
      assert.equal(result.code, GrpcStatus.OK);
      assert.deepEqual(decodeReportResponse(result.response!), { success: true, message: "ok" });
      assert.equal(server.received[0].batch.dataPoints[0].value, 42);
    });
    const failures: [string, GrpcStatusCode][] = [
      ["INVALID_ARGUMENT", GrpcStatus.INVALID_ARGUMENT],
      ["UNAUTHENTICATED", GrpcStatus.UNAUTHENTICATED],
      ["PERMISSION_DENIED", GrpcStatus.PERMISSION_DENIED],
      ["RESOURCE_EXHAUSTED", GrpcStatus.RESOURCE_EXHAUSTED],
    ];
    for (const [name, code] of failures) {
      await t.step(`${name} with its percent-decoded details`, async () => {
        answer = { code, details: `${name.toLowerCase()}: 100% wrong, ü` };
        assert.deepEqual(await call(), {
          code,
          details: `${name.toLowerCase()}: 100% wrong, ü`,
        });
        assert.equal(grpcStatusName(code), name);
      });
    }
    await t.step("calls share one connection", () => {
      assert.equal(server.received.length, 1);
      answer = undefined;
    });
  } finally {
    client.close();
  }
});

Deno.test("GrpcClient sends batches larger than HTTP/2's initial flow-control window", async () => {
  await using server = await startRecordingServer();
  const client = new GrpcClient({ address: `127.0.0.1:${server.port}` });
  try {
    const dataPoints = Array.from({ length: 8_000 }, (_, i) => ({
      timestampMs: 1_000 + i,
      agentId: "web-01",
      metricName: "network.bytes_received_per_sec",
      value: i,
      labels: { interface: `eth${i}` },
    }));
    const large = encodeMetricBatch({ agentId: "web-01", timestampMs: 1_000, dataPoints });
    assert.ok(large.length > 4 * 65_535, `${large.length} bytes`);
    for (let call = 0; call < 3; call++) {
      const result = await client.unary(PATH, large, { deadlineMs: inSeconds(10) });
      assert.equal(result.code, GrpcStatus.OK, result.details);
    }
    assert.equal(server.received.length, 3);
    assert.deepEqual(
      server.received[2].batch.dataPoints.map((point) => point.value),
      dataPoints.map((point) => point.value),
    );
  } finally {
    client.close();
  }
});

Deno.test("GrpcClient reports a server that is down as UNAVAILABLE", async () => {
  const client = new GrpcClient({ address: `127.0.0.1:${reservePort()}` });
  try {
    const result = await client.unary(PATH, message, { deadlineMs: inSeconds(5) });
    assert.equal(result.code, GrpcStatus.UNAVAILABLE);
    assert.match(result.details, /connection refused/i);
  } finally {
    client.close();
  }
});

Deno.test("GrpcClient ends a call at its deadline with DEADLINE_EXCEEDED", async (t) => {
  const replies: Promise<undefined>[] = [];
  const peers: string[] = [];
  await using server = await startRecordingServer({
    respond: (received) => {
      peers.push(received.peer);
      const late = new Promise<undefined>((resolve) => setTimeout(() => resolve(undefined), 600));
      replies.push(late);
      return late;
    },
  });
  const client = new GrpcClient({ address: `127.0.0.1:${server.port}` });
  try {
    await t.step("a server slower than the deadline", async () => {
      const started = performance.now();
      const result = await client.unary(PATH, message, { deadlineMs: Date.now() + 150 });
      const tookMs = performance.now() - started;
      assert.equal(result.code, GrpcStatus.DEADLINE_EXCEEDED);
      assert.ok(tookMs < 500, `returned after ${tookMs} ms`);
    });
    await t.step("the next call after a timeout uses a new connection", async () => {
      const first = await client.unary(PATH, message, { deadlineMs: Date.now() + 100 });
      assert.equal(first.code, GrpcStatus.DEADLINE_EXCEEDED);
      const second = await client.unary(PATH, message, { deadlineMs: Date.now() + 100 });
      assert.equal(second.code, GrpcStatus.DEADLINE_EXCEEDED);
      const [before, after] = peers.slice(-2);
      assert.equal(peers.length, 3);
      assert.notEqual(before, after, "a silently dead connection must not be reused");
    });
    await t.step("a deadline already past: no call at all", async () => {
      const calls = replies.length;
      const result = await client.unary(PATH, message, { deadlineMs: Date.now() - 1 });
      assert.equal(result.code, GrpcStatus.DEADLINE_EXCEEDED);
      assert.equal(replies.length, calls);
    });
  } finally {
    client.close();
    await Promise.all(replies);
  }
});

Deno.test("GrpcClient cancels a call when its signal aborts", async () => {
  const replies: Promise<undefined>[] = [];
  await using server = await startRecordingServer({
    respond: () => {
      const late = new Promise<undefined>((resolve) => setTimeout(() => resolve(undefined), 300));
      replies.push(late);
      return late;
    },
  });
  const client = new GrpcClient({ address: `127.0.0.1:${server.port}` });
  try {
    const controller = new AbortController();
    const pending = client.unary(PATH, message, {
      deadlineMs: inSeconds(5),
      signal: controller.signal,
    });
    setTimeout(() => controller.abort(), 50);
    assert.equal((await pending).code, GrpcStatus.CANCELLED);
    controller.abort();
    const result = await client.unary(PATH, message, {
      deadlineMs: inSeconds(5),
      signal: controller.signal,
    });
    assert.equal(result.code, GrpcStatus.CANCELLED);
  } finally {
    client.close();
    await Promise.all(replies);
  }
});

Deno.test("GrpcClient connects again after the server restarts", async () => {
  const port = reservePort();
  const client = new GrpcClient({ address: `127.0.0.1:${port}` });
  const call = () => client.unary(PATH, message, { deadlineMs: inSeconds(5) });
  try {
    const first = await startRecordingServer({ port });
    assert.equal((await call()).code, GrpcStatus.OK);
    await first.close();
    assert.equal((await call()).code, GrpcStatus.UNAVAILABLE);
    await using second = await startRecordingServer({ port });
    assert.equal((await call()).code, GrpcStatus.OK);
    assert.equal(second.received.length, 1);
  } finally {
    client.close();
  }
});

Deno.test("GrpcClient speaks TLS to a server signed by the given CA", async (t) => {
  const dir = await Deno.makeTempDir({ prefix: "oxmon-agent-tls-" });
  try {
    const certificates = await testCertificates(dir);
    await using server = await startRecordingServer({ tls: certificates });
    const address = `localhost:${server.port}`;
    await t.step("trusting the CA: OK", async () => {
      const client = new GrpcClient({ address, tls: true, caCert: certificates.caCert });
      try {
        const result = await client.unary(PATH, message, { deadlineMs: inSeconds(5) });
        assert.equal(result.code, GrpcStatus.OK, result.details);
        assert.equal(server.received.length, 1);
      } finally {
        client.close();
      }
    });
    await t.step("without the CA: UNAVAILABLE, nothing delivered", async () => {
      const client = new GrpcClient({ address, tls: true });
      try {
        const result = await client.unary(PATH, message, { deadlineMs: inSeconds(5) });
        assert.equal(result.code, GrpcStatus.UNAVAILABLE);
        assert.match(result.details, /certificate|issuer/i);
        assert.equal(server.received.length, 1);
      } finally {
        client.close();
      }
    });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("GrpcClient gives up a TLS handshake the server never answers and dials again", async () => {
  // Accepts TCP connections and never speaks: a hung server, or a middlebox that lost the flow.
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const accepted: Deno.Conn[] = [];
  const accepting = (async () => {
    for await (const conn of listener) accepted.push(conn);
  })();
  const client = new GrpcClient({
    address: `127.0.0.1:${(listener.addr as Deno.NetAddr).port}`,
    tls: true,
  });
  try {
    for (let call = 1; call <= 3; call++) {
      const result = await client.unary(PATH, message, { deadlineMs: Date.now() + 200 });
      assert.equal(result.code, GrpcStatus.DEADLINE_EXCEEDED);
      await new Promise((resolve) => setTimeout(resolve, 50));
      // Not stuck behind the first handshake for good: every call tries a new connection.
      assert.equal(accepted.length, call);
    }
  } finally {
    client.close();
    listener.close();
    await accepting.catch(() => {});
    for (const conn of accepted) conn.close();
  }
});

Deno.test("GrpcClient keeps a deadline later than setTimeout's 24.8-day limit", async () => {
  await using server = await startRecordingServer();
  const client = new GrpcClient({ address: `127.0.0.1:${server.port}` });
  try {
    const result = await client.unary(PATH, message, { deadlineMs: inSeconds(30 * 86_400) });
    assert.equal(result.code, GrpcStatus.OK, result.details);
  } finally {
    client.close();
  }
});
