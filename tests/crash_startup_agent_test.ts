/**
 * Crash tests with real processes and SIGKILL at random moments, 20 of each kind:
 * - the server during start-up work: retention deleting expired days, the identity check and an
 *   index.db rebuild from the partitions, the quick_check of every file;
 * - the agent (with a spool), while the server is up and while it is down.
 * (`crash_server_test.ts` kills the server and its listener child under load.)
 * Afterwards every acknowledged sample is stored exactly once with its value, every SQLite file
 * passes integrity_check, and `--check-data` finds every file sound.
 * (Late samples and the rollup build under SIGKILL: `chunk_crash_test.ts`.)
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { reservePort } from "./helpers/recording_grpc_server.ts";
import { openChunkStore } from "../server/storage/chunk/engine.ts";
import { Random } from "./helpers/chunk_random.ts";
import { assertFilesSound, randomDelay } from "./helpers/crash.ts";
import { spawnServer } from "./helpers/server_cli.ts";
import { startAgentProgram, writeSpoolAgentConfig } from "./helpers/spool_agent.ts";
import { eventually } from "./helpers/server_process.ts";

const KILLS = Number(Deno.env.get("OXMON_CRASH_KILLS") ?? 20);
const SEED = Number(Deno.env.get("OXMON_FUZZ_SEED") ?? 3);
const DAY_MS = 86_400_000;

Deno.test(`the server SIGKILLed ${KILLS} times during retention and an index rebuild starts clean`, async () => {
  const dataDir = await Deno.makeTempDir({ prefix: "oxmon-crash-startup-" });
  const configDir = await Deno.makeTempDir({ prefix: "oxmon-crash-startup-config-" });
  const rng = new Random(SEED + 2);
  try {
    // Ten expired days and two kept ones, 2,000 series each.
    const todayMs = Math.floor(Date.now() / DAY_MS) * DAY_MS;
    const store = openChunkStore({ dataDir });
    const keptMs = todayMs - DAY_MS + 3_600_000;
    for (let day = 11; day >= 0; day--) {
      const atMs = day <= 1 ? keptMs + (1 - day) * 3_600_000 : todayMs - day * DAY_MS;
      for (let k = 0; k < 4; k++) {
        store.write(Array.from({ length: 2_000 }, (_, i) => ({
          agentId: `host-${i % 50}`,
          metricName: "startup.test",
          labels: { n: String(i) },
          timestampMs: atMs + k * 60_000,
          value: i + k,
        })));
      }
    }
    store.close();
    const configPath = join(configDir, "server.toml");
    Deno.writeTextFileSync(configPath, "retention_days = 2\n");
    const expired = [...Deno.readDirSync(dataDir)].map((entry) => entry.name).filter((name) =>
      /^\d{4}-\d{2}-\d{2}\.db$/.test(name) && Date.parse(name.slice(0, 10)) < todayMs - DAY_MS
    );
    const backup = join(configDir, "expired");
    Deno.mkdirSync(backup);
    for (const name of expired) Deno.copyFileSync(join(dataDir, name), join(backup, name));
    /** Every start finds index.db emptied and ten days to delete, whatever the last one did. */
    const setBack = () => {
      for (const suffix of ["", "-wal", "-shm"]) {
        try {
          if (suffix === "") Deno.truncateSync(join(dataDir, "index.db"), 0);
          else Deno.removeSync(join(dataDir, `index.db${suffix}`));
        } catch {
          // Not there.
        }
      }
      for (const name of expired) {
        try {
          Deno.statSync(join(dataDir, name));
        } catch {
          for (const suffix of ["-wal", "-shm"]) {
            try {
              Deno.removeSync(join(dataDir, name + suffix));
            } catch {
              // Not there.
            }
          }
          Deno.copyFileSync(join(backup, name), join(dataDir, name));
        }
      }
    };

    const phases = new Set<string>();
    for (let kill = 0; kill < KILLS; kill++) {
      setBack();
      const server = spawnServer(dataDir, { configPath });
      // Deno itself takes ~200 ms to start; the kill lands anywhere from there to serving.
      await randomDelay(() => rng.next(), 150, 700);
      const lines = server.lines.join("\n");
      phases.add(
        /retention removed/.test(lines)
          ? "after retention"
          : /oxmon server started/.test(lines)
          ? "serving, retention under way"
          : /rebuilt it from them/.test(lines)
          ? "after the rebuild"
          : /checked its files/.test(lines)
          ? "rebuilding"
          : "before or during the checks",
      );
      await server.kill();
    }
    setBack();
    const server = spawnServer(dataDir, { configPath });
    const { apiUrl } = await server.ready;
    const body = await (await fetch(
      `${apiUrl}/api/v1/metrics?metric=startup.test&from=${keptMs - 1}&to=${Date.now()}`,
    )).json();
    assert.equal(body.series.length, 2_000, "every series of the kept days, under its own name");
    for (const one of body.series) {
      const n = Number(one.labels.n);
      assert.equal(one.agent_id, `host-${n % 50}`);
      assert.deepEqual(
        one.points.map((p: { value: number }) => p.value),
        [n, n + 1, n + 2, n + 3, n, n + 1, n + 2, n + 3],
      );
    }
    const days = [...Deno.readDirSync(dataDir)].map((e) => e.name).filter((name) =>
      /^\d{4}-\d{2}-\d{2}\.db$/.test(name)
    );
    assert.equal(days.length, 2, `expired days removed: ${days}`);
    assert.equal((await server.stop()).code, 0);
    await assertFilesSound(dataDir);
    console.log(
      `start-up crash: ${KILLS} SIGKILLs during retention and index rebuild (phases hit: ` +
        `${[...phases].join(", ")}), 2,000 series intact`,
    );
  } finally {
    await Deno.remove(dataDir, { recursive: true });
    await Deno.remove(configDir, { recursive: true });
  }
});

Deno.test(`the agent SIGKILLed ${KILLS} times delivers every batch it spooled, once`, async () => {
  const dir = await Deno.makeTempDir({ prefix: "oxmon-crash-agent-" });
  const rng = new Random(SEED + 3);
  const port = reservePort();
  const { configPath, spoolDir } = writeSpoolAgentConfig(dir, "crash-agent", port);
  /** Batch times found in the spool right after a kill: each must reach the server. */
  const leftInSpool = new Set<number>();
  const readSpool = () => {
    try {
      for (const entry of Deno.readDirSync(spoolDir)) {
        if (!entry.name.endsWith(".batch")) continue;
        const header = Deno.readFileSync(join(spoolDir, entry.name)).subarray(10, 18);
        leftInSpool.add(new DataView(header.buffer, header.byteOffset).getFloat64(0, true));
      }
    } catch {
      // Not made yet.
    }
  };
  let server = spawnServer(join(dir, "data"), { grpcPort: port });
  await server.ready;
  let agent: Deno.ChildProcess | undefined;
  try {
    for (let kill = 0; kill < KILLS; kill++) {
      // A third of the lives run while the server is down, so the spool fills.
      if (kill === Math.floor(KILLS / 3)) await server.stop();
      if (kill === Math.floor((2 * KILLS) / 3)) {
        server = spawnServer(join(dir, "data"), { grpcPort: port });
        await server.ready;
      }
      agent = startAgentProgram(configPath);
      await randomDelay(() => rng.next(), 200, 900);
      agent.kill("SIGKILL");
      await agent.status;
      agent = undefined;
      readSpool();
    }
    assert.ok(leftInSpool.size > 0, "some lives ended with unsent batches");
    // One last life drains the spool.
    agent = startAgentProgram(configPath);
    const { apiUrl } = await server.ready;
    const stored = async () => {
      const body = await (await fetch(
        `${apiUrl}/api/v1/metrics?agent=crash-agent&metric=system.uptime&from=${
          Date.now() - 3_600_000
        }`,
      )).json();
      return (body.series[0]?.points ?? []).map((p: { timestamp: string }) =>
        Date.parse(p.timestamp)
      );
    };
    await eventually(
      async () => {
        const times = new Set(await stored());
        return [...leftInSpool].every((t) => times.has(t));
      },
      "every batch left in the spool at a kill stored",
      30_000,
    );
    const times = await stored();
    assert.equal(new Set(times).size, times.length, "no round stored twice");
    // Past start-up, where its stop signal handlers are in place.
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    agent.kill("SIGTERM");
    assert.equal((await agent.status).code, 0);
    agent = undefined;
    assert.equal((await server.stop()).code, 0);
    await assertFilesSound(join(dir, "data"));
    console.log(
      `agent crash: ${KILLS} SIGKILLs (server down for a third of them), ${leftInSpool.size} ` +
        `batches left in the spool at kills, all stored; ${times.length} rounds stored once`,
    );
  } finally {
    if (agent) {
      try {
        agent.kill("SIGKILL");
      } catch {
        // It exited by itself.
      }
      await agent.status;
    }
    await server.kill();
    await Deno.remove(dir, { recursive: true });
  }
});
