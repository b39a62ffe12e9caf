/** The agent executable as a subprocess: flags, config errors, and a clean SIGTERM shutdown. */
import assert from "node:assert/strict";
import { GrpcStatus as status } from "../shared/wire/mod.ts";
import { startRecordingServer, waitFor } from "../tests/helpers/recording_grpc_server.ts";
import { parseFlags } from "./main.ts";

const MAIN = new URL("./main.ts", import.meta.url).pathname;

function spawnAgent(args: string[]): Deno.ChildProcess {
  return new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", MAIN, ...args],
    stdout: "piped",
    stderr: "piped",
    stdin: "null",
  }).spawn();
}

const text = (bytes: Uint8Array) => new TextDecoder().decode(bytes);

Deno.test("agent/main.ts flushes its buffer and exits 0 on SIGTERM", async () => {
  let up = false;
  let attempts = 0;
  await using server = await startRecordingServer({
    respond: () => {
      attempts++;
      return up ? undefined : { code: status.UNAVAILABLE, details: "warming up" };
    },
  });
  const dir = await Deno.makeTempDir({ prefix: "oxmon-agent-main-" });
  try {
    const config = `${dir}/agent.toml`;
    await Deno.writeTextFile(
      config,
      [
        `agent_id = "sigterm-test"`,
        `server_endpoint = "http://127.0.0.1:${server.port}"`,
        `collection_interval_secs = 1`,
        `shutdown_grace_secs = 5`,
      ].join("\n"),
    );
    const child = spawnAgent(["--config", config]);
    const output = child.output();
    // A few refused sends put the agent into a backoff wait with batches buffered.
    await waitFor(() => attempts >= 4, "the agent's first send attempts", 20_000);
    up = true;
    const signalled = performance.now();
    child.kill("SIGTERM");
    const { code, stderr } = await output;
    const exitMs = performance.now() - signalled;
    const log = text(stderr);
    assert.equal(code, 0, log);
    const stopped = /agent stopped collected=(\d+) sent=(\d+) dropped=0/.exec(log);
    assert.ok(stopped, log);
    const [collected, sent] = [Number(stopped[1]), Number(stopped[2])];
    assert.ok(collected >= 2, log);
    assert.equal(sent, collected, "everything collected was flushed");
    assert.equal(server.received.length, collected);
    assert.ok(server.received.every((r) => r.batch.agentId === "sigterm-test"));
    assert.ok(exitMs < 5_000, `exited ${exitMs} ms after SIGTERM`);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("agent/main.ts runs without --config, on embedded defaults and flags", async () => {
  await using server = await startRecordingServer();
  const child = spawnAgent([
    "--server",
    `127.0.0.1:${server.port}`,
    "--agent-id",
    "no-config",
    "--interval",
    "1",
  ]);
  const output = child.output();
  await waitFor(() => server.received.length >= 1, "the first batch", 20_000);
  child.kill("SIGINT");
  const { code } = await output;
  assert.equal(code, 0);
  const [first] = server.received;
  assert.equal(first.batch.agentId, "no-config");
  assert.ok(first.batch.systemInfo?.cpuCores, "system info with the first batch");
  const names = new Set(first.batch.dataPoints.map((p) => p.metricName));
  for (const name of ["memory.total", "system.load_1", "system.uptime"]) assert.ok(names.has(name));
});

Deno.test("agent/main.ts reports bad flags and config problems with exit code 2", async (t) => {
  await t.step("--help prints usage and exits 0", async () => {
    const { code, stdout } = await spawnAgent(["--help"]).output();
    assert.equal(code, 0);
    assert.match(text(stdout), /--config FILE/);
  });
  await t.step("a config problem names the key", async () => {
    const dir = await Deno.makeTempDir({ prefix: "oxmon-agent-main-" });
    try {
      await Deno.writeTextFile(`${dir}/bad.toml`, "collection_interval_secs = 0\n");
      const { code, stderr } = await spawnAgent(["--config", `${dir}/bad.toml`]).output();
      assert.equal(code, 2);
      assert.match(text(stderr), /collection_interval_secs: expected a positive integer, got 0/);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  });
  await t.step("an unknown flag is named", async () => {
    const { code, stderr } = await spawnAgent(["--intervall", "2"]).output();
    assert.equal(code, 2);
    assert.match(text(stderr), /intervall/);
  });
});

Deno.test("parseFlags reads --name value, --name=value and --help", async (t) => {
  await t.step("both value forms", () => {
    assert.deepEqual(
      parseFlags(["--config", "a.toml", "--server=http://h:1", "--agent-id", "x", "--interval=5"]),
      { config: "a.toml", server: "http://h:1", "agent-id": "x", interval: "5" },
    );
  });
  await t.step("a value may contain '=' and start with '-'", () => {
    assert.deepEqual(parseFlags(["--agent-id=a=b", "--interval", "-1"]), {
      "agent-id": "a=b",
      interval: "-1",
    });
  });
  await t.step("-h and --help", () => {
    assert.deepEqual(parseFlags(["-h"]), { help: true });
    assert.deepEqual(parseFlags(["--help"]), { help: true });
  });
  await t.step("unknown flags, positionals and missing values are named", () => {
    assert.throws(() => parseFlags(["--intervall", "2"]), /Unknown option '--intervall'/);
    assert.throws(() => parseFlags(["-x"]), /Unknown option '-x'/);
    assert.throws(() => parseFlags(["extra"]), /Unexpected argument 'extra'/);
    assert.throws(() => parseFlags(["--config"]), /Option '--config' needs a value/);
    assert.throws(() => parseFlags(["--server", "--interval", "1"]), /'--server' needs a value/);
  });
});
