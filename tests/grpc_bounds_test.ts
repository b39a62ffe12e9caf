/**
 * The gRPC listener under hostile clients, against the real server and its real listener child:
 * request bodies of strangers are never read (RSS stays low under 100 concurrent 4 MiB streams),
 * the in-flight byte budget refuses with RESOURCE_EXHAUSTED, silent and idle connections are
 * closed by the timeouts, and connections over the cap are closed at once.
 */
import assert from "node:assert/strict";
import { GrpcStatus as status, REPORT_METRICS_PATH as PATH } from "../shared/wire/mod.ts";
import { openClient, reportMetrics, withClient } from "./helpers/grpc_client.ts";
import { type RawSession, startHttp2Clients } from "./helpers/http2_client.ts";
import { deadline } from "../shared/deadline.ts";
import { closedWithin } from "./helpers/closed_within.ts";
import { eventually, startTestServer, type TestServer } from "./helpers/server_process.ts";

const TOKEN = "agent-token-0123456789";

async function withServer(toml: string, use: (server: TestServer) => Promise<void>) {
  const dir = await Deno.makeTempDir({ prefix: "oxmon-bounds-" });
  const server = await startTestServer(
    `${dir}/data`,
    `[[agent_tokens]]\ntoken = "${TOKEN}"\nagents = ["*"]\n${toml}`,
  );
  try {
    await use(server);
  } finally {
    await server.stop();
    await Deno.remove(dir, { recursive: true });
  }
}

/** Resident memory of a process in MB (0 once it is gone). */
async function rssMb(pid: number): Promise<number> {
  const text = await Deno.readTextFile(`/proc/${pid}/status`).catch(() => "");
  const kb = /VmRSS:\s+(\d+) kB/.exec(text)?.[1];
  return kb === undefined ? 0 : Number(kb) / 1024;
}

function batch(agentId: string) {
  const nowMs = Date.now();
  return {
    agentId,
    timestampMs: nowMs,
    dataPoints: [{ agentId, metricName: "cpu.usage", value: 1, timestampMs: nowMs }],
  };
}

async function validReport(server: TestServer, agentId: string): Promise<number> {
  const once = () =>
    withClient(server.grpcPort, async (client) => {
      try {
        await reportMetrics(client, batch(agentId), 10_000, { authorization: `Bearer ${TOKEN}` });
        return status.OK;
      } catch (error) {
        return (error as { code: number }).code;
      }
    });
  // UNAVAILABLE says "retry", as an agent would (a listener child restarting after
  // denoland/deno#36788).
  let code = await once();
  for (let attempt = 0; attempt < 3 && code === status.UNAVAILABLE; attempt++) {
    await new Promise((resolve) => setTimeout(resolve, 300));
    code = await once();
  }
  return code;
}

/** A gRPC message of `length` bytes of 7s (or zeros), for calls whose content is never read. */
const body = (length: number, fill = 7) => ({ length, fill });

Deno.test("100 concurrent 4 MiB streams without credentials are refused unread: the listener stays under 300 MB and a valid agent still reports", async () => {
  await withServer("", async (server) => {
    const pid = server.grpcListenerPid()!;
    const before = await rssMb(pid);
    // Ten connections of ten streams, each sending 4 MiB (just under the limit) with no token.
    await using clients = startHttp2Clients();
    const sessions = await Promise.all(
      Array.from({ length: 10 }, () => clients.connect(server.grpcPort)),
    );
    const large = body(4 * 1024 * 1024 - 64);
    let peak = before;
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        peak = Math.max(peak, await rssMb(pid));
        await new Promise((resolve) => setTimeout(resolve, 25));
      }
    })();
    try {
      const calls = sessions.flatMap((session) =>
        Array.from({ length: 10 }, () => session.call(PATH, large).status)
      );
      // Meanwhile a valid agent reports.
      assert.equal(await validReport(server, "web-1"), status.OK);
      const codes = await Promise.all(calls);
      assert.deepEqual(new Set(codes), new Set([status.UNAUTHENTICATED]));
    } finally {
      sampling = false;
      await sampler;
      await Promise.all(sessions.map((session) => session.close()));
    }
    console.log(`listener RSS: ${before.toFixed(0)} MB before, ${peak.toFixed(0)} MB at peak`);
    assert.ok(peak < 300, `listener RSS peaked at ${peak.toFixed(0)} MB`);
    const health = await (await fetch(`${server.apiUrl}/api/v1/health`)).json();
    assert.equal(health.ingest.unauthenticated, 100);
    assert.equal(health.ingest.batches_accepted, 1);
  });
});

Deno.test("calls beyond the in-flight byte budget get RESOURCE_EXHAUSTED; the server advertises its stream limit", async () => {
  await withServer(
    `[ingest]\nmax_batch_bytes = 524288\n[grpc]\nmax_inflight_bytes = 1048576\n` +
      `inflight_wait_secs = 0\nmax_concurrent_streams = 8\n`,
    async (server) => {
      await using clients = startHttp2Clients();
      const session = await clients.connect(server.grpcPort);
      try {
        assert.equal(session.maxConcurrentStreams, 8);
        // Two authenticated calls that send their headers but hold their bodies: they take the
        // whole budget (a call reserves max_batch_bytes before its body is read).
        const holders = [0, 1].map(() =>
          session.call(PATH, undefined, { authorization: `Bearer ${TOKEN}` })
        );
        await new Promise((resolve) => setTimeout(resolve, 300));
        assert.equal(await validReport(server, "web-1"), status.RESOURCE_EXHAUSTED);
        for (const holder of holders) holder.cancel();
        await Promise.all(holders.map((holder) => holder.status));
        await eventually(
          async () => (await validReport(server, "web-1")) === status.OK,
          "room in the budget again",
        );
      } finally {
        await session.close();
      }
    },
  );
});

const PREFACE = new TextEncoder().encode("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n");
/** An empty SETTINGS frame. */
const SETTINGS = new Uint8Array([0, 0, 0, 4, 0, 0, 0, 0, 0]);

Deno.test("200 silent, preface-only and idle gRPC connections are closed by the listener's timeouts", async () => {
  await withServer(
    `[grpc]\nhandshake_timeout_secs = 1\nidle_timeout_secs = 2\n`,
    async (server) => {
      const sockets: { conn: Deno.Conn; kind: string }[] = [];
      await using clients = startHttp2Clients();
      const sessions: RawSession[] = [];
      try {
        for (let i = 0; i < 150; i++) {
          const conn = await Deno.connect({ hostname: "127.0.0.1", port: server.grpcPort });
          if (i % 2 === 1) {
            await conn.write(PREFACE);
            await conn.write(SETTINGS);
          }
          sockets.push({ conn, kind: i % 2 === 1 ? "preface only" : "silent" });
        }
        // 50 connections that made one call and then went idle.
        const idleClosed: Promise<number>[] = [];
        for (let i = 0; i < 50; i++) {
          const session = await clients.connect(server.grpcPort);
          sessions.push(session);
          const started = performance.now();
          await session.call(PATH, body(8, 0)).status;
          idleClosed.push(session.closed.then(() => performance.now() - started));
        }
        const waits = await Promise.all(sockets.map(({ conn }) => closedWithin(conn, 8_000)));
        assert.ok(Math.max(...waits) < 4_000, `a silent socket lasted ${Math.max(...waits)} ms`);
        const idle = await deadline(Promise.all(idleClosed), 10_000);
        assert.ok(Math.max(...idle) < 8_000, `an idle connection lasted ${Math.max(...idle)} ms`);
        // A new client is served as before.
        assert.equal(await validReport(server, "web-1"), status.OK);
      } finally {
        for (const { conn } of sockets) {
          try {
            conn.close();
          } catch {
            // Closed by the server.
          }
        }
        await Promise.all(sessions.map((session) => session.close()));
      }
    },
  );
});

Deno.test("gRPC connections over max_connections are closed at once", async () => {
  await withServer(`[grpc]\nmax_connections = 5\n`, async (server) => {
    const held: Deno.Conn[] = [];
    try {
      for (let i = 0; i < 5; i++) {
        const conn = await Deno.connect({ hostname: "127.0.0.1", port: server.grpcPort });
        await conn.write(PREFACE);
        held.push(conn);
      }
      await new Promise((resolve) => setTimeout(resolve, 200));
      const extra = await Deno.connect({ hostname: "127.0.0.1", port: server.grpcPort });
      assert.ok(await closedWithin(extra, 2_000) < 2_000);
      extra.close();
    } finally {
      for (const conn of held) conn.close();
    }
    await eventually(
      async () => (await validReport(server, "web-1")) === status.OK,
      "a connection once the others are gone",
    );
  });
});

Deno.test("100k new series from one agent stop at max_series_per_agent: the excess is refused and counted, then RESOURCE_EXHAUSTED", async () => {
  await withServer(
    `[ingest]\nmax_series_per_agent = 5000\nmax_new_series_per_agent_per_minute = 1000000\n`,
    async (server) => {
      const client = await openClient({ address: `127.0.0.1:${server.grpcPort}` });
      const replies: { code: number; message: string }[] = [];
      try {
        const nowMs = Date.now();
        for (let b = 0; b < 10; b++) {
          const dataPoints = Array.from({ length: 10_000 }, (_, i) => ({
            agentId: "noisy-1",
            metricName: "app.requests",
            labels: { request_id: `r${b * 10_000 + i}` },
            value: 1,
            timestampMs: nowMs,
          }));
          try {
            const reply = await reportMetrics(
              client,
              { agentId: "noisy-1", timestampMs: nowMs, dataPoints },
              30_000,
              { authorization: `Bearer ${TOKEN}` },
            );
            replies.push({ code: status.OK, message: reply.message ?? "" });
          } catch (error) {
            const { code, details } = error as { code: number; details: string };
            replies.push({ code, message: details });
          }
        }
      } finally {
        await client.close();
      }
      assert.equal(replies[0].code, status.OK);
      assert.match(
        replies[0].message,
        /5000 points of 5000 new series refused: ingest\.max_series_per_agent \(5000\) reached/,
      );
      for (const reply of replies.slice(1)) {
        assert.equal(reply.code, status.RESOURCE_EXHAUSTED);
        assert.match(reply.message, /max_series_per_agent \(5000\).*nothing of the batch/);
      }
      // Known series still flow; another agent is not affected.
      assert.equal(await validReport(server, "web-1"), status.OK);
      const health = await (await fetch(`${server.apiUrl}/api/v1/health`)).json();
      assert.equal(health.ingest.points_series_limited, 95_000);
      assert.deepEqual(health.series_limits.points_refused_by_agent, { "noisy-1": 95_000 });
      assert.equal(health.series_limits.series, 5_001);
      const series = await (await fetch(
        `${server.apiUrl}/api/v1/metrics/series?agent=noisy-1&limit=1`,
      )).json();
      assert.equal(series.total, 5_000);
    },
  );
});
