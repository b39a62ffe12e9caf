/**
 * The agent loses nothing across its own restarts: with `spool_dir` set, the real agent
 * program, SIGKILLed again and again while the server is down, sends every batch it ever
 * collected once the server is up — each exactly once, oldest first.
 */
import assert from "node:assert/strict";
import { reservePort } from "./helpers/recording_grpc_server.ts";
import { eventually, startTestServer } from "./helpers/server_process.ts";
import { startAgentProgram, writeSpoolAgentConfig } from "./helpers/spool_agent.ts";

const KILLS = 3;

function entries(dir: string): number {
  try {
    return [...Deno.readDirSync(dir)].filter((entry) => entry.name.endsWith(".batch")).length;
  } catch {
    return 0; // Not made yet.
  }
}

Deno.test("an agent SIGKILLed during a server outage sends every spooled batch once the server is up", async () => {
  const dir = await Deno.makeTempDir({ prefix: "oxmon-agent-spool-" });
  const port = reservePort();
  const { configPath, spoolDir } = writeSpoolAgentConfig(dir, "spool-1", port);
  const server = { current: undefined as Awaited<ReturnType<typeof startTestServer>> | undefined };
  let agent: Deno.ChildProcess | undefined;
  try {
    // The server is down: each life of the agent spools a few rounds, then dies by SIGKILL at
    // a moment of our choosing (mid-round included).
    for (let life = 0; life < KILLS; life++) {
      agent = startAgentProgram(configPath);
      const before = life === 0 ? 0 : entries(spoolDir);
      await eventually(() => entries(spoolDir) >= before + 2, `life ${life}: two rounds spooled`);
      await new Promise((resolve) => setTimeout(resolve, 137 * life));
      agent.kill("SIGKILL");
      await agent.status;
    }
    const spooled = entries(spoolDir);
    assert.ok(spooled >= 2 * KILLS, `${spooled} batches spooled`);

    server.current = await startTestServer(`${dir}/data`, "", { grpcPort: port });
    agent = startAgentProgram(configPath);
    await eventually(() => entries(spoolDir) === 0, "the spool sent empty", 30_000);
    const stored = async () => {
      const { body } = await server.current!.getJson(
        `/api/v1/metrics?agent=spool-1&metric=system.uptime&from=${Date.now() - 3_600_000}`,
      );
      return ((body.series as { points: { timestamp: string }[] }[])[0]?.points ?? []).map((p) =>
        Date.parse(p.timestamp)
      );
    };
    // Every spooled round arrived (one sample of system.uptime each), with the rounds of the
    // last life on top; none twice.
    await eventually(async () => (await stored()).length >= spooled, "every spooled round stored");
    const times = await stored();
    assert.equal(new Set(times).size, times.length);
    console.log(
      `agent spool: ${KILLS} SIGKILLs during an outage, ${spooled} batches spooled, ` +
        `${times.length} rounds stored after the server came up`,
    );
    agent.kill("SIGTERM");
    assert.equal((await agent.status).code, 0);
    agent = undefined;
  } finally {
    if (agent) {
      agent.kill("SIGKILL");
      await agent.status;
    }
    await server.current?.stop();
    await Deno.remove(dir, { recursive: true });
  }
});
