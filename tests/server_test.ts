/** The server as operators run it: its example config, its process lifecycle, and agents that
 * start before it. */
import assert from "node:assert/strict";
import { loadServerConfig, parseServerConfig } from "../server/config.ts";
import { parseAgentConfig, runAgent } from "../agent/mod.ts";
import { eventually, SERVER_MAIN, startTestServer } from "./helpers/server_process.ts";
import { reportMetrics, withClient } from "./helpers/grpc_client.ts";

const EXAMPLE = new URL("../config/server.example.toml", import.meta.url).pathname;

function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  return port;
}

Deno.test("config/server.example.toml loads with every original oxmon key", () => {
  const config = loadServerConfig(EXAMPLE);
  assert.equal(config.grpcPort, 9090);
  assert.equal(config.httpPort, 8080);
  assert.equal(config.dataDir, "data");
  assert.equal(config.retentionDays, 7);
  assert.deepEqual(
    config.alert.rules.map((rule) => [rule.name, rule.type]),
    [
      ["high-cpu", "threshold"],
      ["memory-spike", "rate_of_change"],
      ["disk-full-prediction", "trend_prediction"],
      ["root-disk-full", "threshold"],
      ["agent-down", "agent_absent"],
    ],
  );
  // The example channels are switched off (enabled = false) so an installed copy sends nothing;
  // switched on, each loads.
  assert.deepEqual(config.notification.channels, []);
  const enabled = parseServerConfig(
    Deno.readTextFileSync(EXAMPLE).replaceAll("\nenabled = false\n", "\n"),
  );
  assert.deepEqual(enabled.notification.channels.map((channel) => channel.type), [
    "email",
    "webhook",
    "sms",
  ]);
  assert.equal(config.notification.silenceWindows.length, 1);
  assert.equal(config.notification.aggregationWindowSecs, 60);
});

Deno.test("the original top-level layout loads: aggregation_window_secs and cert_check", () => {
  const config = parseServerConfig(`
grpc_port = 9090
http_port = 8080
data_dir = "data"
retention_days = 7
require_agent_auth = false
aggregation_window_secs = 30

[cert_check]
enabled = true
default_interval_secs = 86400
`);
  assert.equal(config.notification.aggregationWindowSecs, 30);
  assert.deepEqual(config.security.agentTokens, []);
});

Deno.test("a server config names every bad key by its TOML path", () => {
  assert.throws(
    () =>
      parseServerConfig(`
grpc_port = 70000
retention_dayz = 3
require_agent_auth = true
[ingest]
max_points_per_batch = 0
`),
    (error: Error) => {
      assert.match(error.message, /grpc_port: expected an integer of at most 65535, got 70000/);
      assert.match(error.message, /retention_dayz: unknown key/);
      assert.match(
        error.message,
        /ingest\.max_points_per_batch: expected a positive integer, got 0/,
      );
      return true;
    },
  );
});

/** Reads stderr lines until one matches, returning the match; the rest keeps draining. */
async function waitForLine(
  lines: AsyncIterator<string>,
  pattern: RegExp,
  seen: string[],
): Promise<RegExpMatchArray> {
  while (true) {
    const next = await lines.next();
    if (next.done) throw new Error(`stderr ended before ${pattern}:\n${seen.join("\n")}`);
    seen.push(next.value);
    const match = next.value.match(pattern);
    if (match) return match;
  }
}

async function* splitLines(stream: ReadableStream<Uint8Array>): AsyncGenerator<string> {
  let rest = "";
  for await (const chunk of stream.pipeThrough(new TextDecoderStream())) {
    const parts = (rest + chunk).split("\n");
    rest = parts.pop()!;
    yield* parts;
  }
  if (rest) yield rest;
}

function processExists(pid: number): boolean {
  try {
    Deno.kill(pid, "SIGCONT");
    return true;
  } catch {
    return false;
  }
}

Deno.test("the server program serves, then stops cleanly on SIGTERM with its listener child", async () => {
  const dir = await Deno.makeTempDir({ prefix: "oxmon-proc-" });
  const configPath = `${dir}/server.toml`;
  await Deno.writeTextFile(
    configPath,
    `grpc_host = "127.0.0.1"\ngrpc_port = 0\nhttp_host = "127.0.0.1"\nhttp_port = 0\n` +
      `data_dir = "${dir}/data"\n`,
  );
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", SERVER_MAIN.pathname, "--config", configPath],
    stdin: "null",
    stdout: "null",
    stderr: "piped",
  }).spawn();
  const lines = splitLines(child.stderr);
  const seen: string[] = [];
  try {
    const ready = await waitForLine(lines, /grpc listener ready .*pid=(\d+)/, seen);
    const listenerPid = Number(ready[1]);
    const started = await waitForLine(
      lines,
      /oxmon server started .*grpc=[\d.]+:(\d+) http=[\d.]+:(\d+)/,
      seen,
    );
    const [grpcPort, httpPort] = [Number(started[1]), Number(started[2])];

    const nowMs = Date.now();
    const reply = await withClient(grpcPort, (client) =>
      reportMetrics(client, {
        agentId: "proc-1",
        timestampMs: nowMs,
        dataPoints: [{
          agentId: "proc-1",
          metricName: "cpu.usage",
          value: 12.5,
          timestampMs: nowMs,
        }],
      }));
    assert.equal(reply.success, true);
    const health = await fetch(`http://127.0.0.1:${httpPort}/api/v1/health`);
    const body = await health.json();
    assert.equal(body.agent_count, 1);
    assert.equal(body.ingest.points_accepted, 1);

    child.kill("SIGTERM");
    const drained = (async () => {
      for await (const line of lines) seen.push(line);
    })();
    const status = await child.status;
    await drained;
    assert.equal(status.code, 0, seen.join("\n"));
    assert.ok(seen.some((line) => line.includes("oxmon server stopped")), seen.join("\n"));
    assert.equal(processExists(listenerPid), false, "the gRPC listener child outlived the server");
  } finally {
    try {
      child.kill("SIGKILL");
    } catch {
      // already exited
    }
    await child.status;
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("an agent started before the server delivers its buffer in order, oldest dropped past the bound", async () => {
  const dir = await Deno.makeTempDir({ prefix: "oxmon-late-server-" });
  const grpcPort = freePort();
  const stopAgent = new AbortController();
  let stats = { collected: 0, sent: 0, dropped: 0 };
  const agent = runAgent(
    parseAgentConfig(`
agent_id = "early-1"
server_endpoint = "http://127.0.0.1:${grpcPort}"
buffer_max_size = 4
[collectors]
cpu = false
filesystem = false
disk_io = false
network = false
load = false
`),
    {
      signal: stopAgent.signal,
      intervalMs: 100,
      backoff: { baseMs: 50, maxMs: 200 },
      onProgress: (now) => stats = { ...now },
    },
  );
  let server: Awaited<ReturnType<typeof startTestServer>> | undefined;
  try {
    await eventually(() => stats.collected >= 8, "8 rounds collected while the server is down");
    assert.equal(stats.sent, 0);
    assert.ok(stats.dropped >= 4, `dropped ${stats.dropped}`);
    server = await startTestServer(`${dir}/data`, "", { grpcPort });
    await eventually(() => stats.sent >= 6, "the buffer drained after the server came up");
    stopAgent.abort();
    const final = await agent;
    const uptime = await server.getJson(
      "/api/v1/metrics?agent=early-1&metric=system.uptime&from=0",
    );
    const points = (uptime.body.series as { points: { timestamp: string }[] }[])[0].points;
    const times = points.map((point) => Date.parse(point.timestamp));
    // Everything acknowledged is stored, once, in collection order.
    assert.equal(times.length, final.sent);
    assert.deepEqual(times, [...times].sort((a, b) => a - b));
    assert.equal(new Set(times).size, times.length);
    // Past the bound of 4 the oldest batches were dropped and counted, not sent.
    assert.equal(final.collected, final.sent + final.dropped + final.buffered + final.rejected);
    assert.ok(final.dropped >= 4);
  } finally {
    stopAgent.abort();
    await agent;
    await server?.stop();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a bad config stops the server program with exit code 2, naming every bad key", async () => {
  const dir = await Deno.makeTempDir({ prefix: "oxmon-badcfg-" });
  try {
    await Deno.writeTextFile(
      `${dir}/server.toml`,
      `grpc_port = "x"\n[[alert.rules]]\nname = "a"\ntype = "threshold"\nmetric = "cpu.usage"\n` +
        `operator = "greater_than"\nvalue = 1\nduration_secs = -5\n`,
    );
    const { code, stderr } = await new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", SERVER_MAIN.pathname, "--config", `${dir}/server.toml`, "--check-config"],
      stdin: "null",
      stdout: "null",
      stderr: "piped",
    }).output();
    const text = new TextDecoder().decode(stderr);
    assert.equal(code, 2, text);
    assert.match(text, /grpc_port: expected a non-negative integer, got "x"/);
    assert.match(text, /alert\.rules\[0\]\.duration_secs: expected a non-negative integer, got -5/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("agent_tokens refuses empty tokens and tokens with spaces", () => {
  assert.throws(
    () => parseServerConfig(`agent_tokens = ["good-token", "has space", ""]`),
    (error: Error) => {
      assert.match(error.message, /agent_tokens\[1\]: expected a non-empty token of printable/);
      assert.match(error.message, /agent_tokens\[2\]: expected a non-empty token of printable/);
      assert.doesNotMatch(error.message, /agent_tokens\[0\]/);
      return true;
    },
  );
});

Deno.test("a request over max_batch_bytes is refused by the listener and nothing is stored", async () => {
  const dir = await Deno.makeTempDir({ prefix: "oxmon-big-" });
  const server = await startTestServer(`${dir}/data`, "[ingest]\nmax_batch_bytes = 4096\n");
  try {
    const nowMs = Date.now();
    const dataPoints = Array.from({ length: 500 }, (_, i) => ({
      agentId: "big-1",
      metricName: "cpu.core_usage",
      labels: { core: String(i) },
      value: i,
      timestampMs: nowMs,
    }));
    await assert.rejects(
      withClient(
        server.grpcPort,
        (client) => reportMetrics(client, { agentId: "big-1", timestampMs: nowMs, dataPoints }),
      ),
      (error: { code?: number }) => error.code === 8, // RESOURCE_EXHAUSTED
    );
    const health = await server.getJson("/api/v1/health");
    assert.equal((health.body.ingest as Record<string, number>).points_accepted, 0);
    assert.equal(health.body.agent_count, 0);
  } finally {
    await server.stop();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("the server program exits 1 with a plain message when its HTTP port is taken", async () => {
  const dir = await Deno.makeTempDir({ prefix: "oxmon-busy-" });
  const busy = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  try {
    const { code, stderr } = await new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "-A",
        SERVER_MAIN.pathname,
        "--data-dir",
        `${dir}/data`,
        "--http-host",
        "127.0.0.1",
        "--http-port",
        String((busy.addr as Deno.NetAddr).port),
        "--grpc-host",
        "127.0.0.1",
        "--grpc-port",
        "0",
      ],
      stdin: "null",
      stdout: "null",
      stderr: "piped",
    }).output();
    const text = new TextDecoder().decode(stderr);
    assert.equal(code, 1, text);
    assert.match(text, /cannot start the server .*(in use|AddrInUse)/i);
    assert.doesNotMatch(text, /at .*server\.ts:\d+/, "no stack trace");
  } finally {
    busy.close();
    await Deno.remove(dir, { recursive: true });
  }
});
