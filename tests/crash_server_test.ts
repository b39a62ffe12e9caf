/**
 * Crash tests with real processes and SIGKILL at random moments, 20 of each kind: the whole
 * server, and the gRPC listener child, under a steady gRPC load that retries every batch until
 * acknowledged. (`crash_startup_agent_test.ts` kills the server during start-up work and the
 * agent.)
 * Afterwards every acknowledged sample is stored exactly once with its value, every SQLite file
 * passes integrity_check, and `--check-data` finds every file sound.
 * (Late samples and the rollup build under SIGKILL: `chunk_crash_test.ts`.)
 */
import assert from "node:assert/strict";
import { reservePort } from "./helpers/recording_grpc_server.ts";
import { Random } from "./helpers/chunk_random.ts";
import {
  assertFilesSound,
  assertLoadStored,
  childPids,
  randomDelay,
  startLoad,
} from "./helpers/crash.ts";
import { spawnServer } from "./helpers/server_cli.ts";
import { eventually } from "./helpers/server_process.ts";

const KILLS = Number(Deno.env.get("OXMON_CRASH_KILLS") ?? 20);
const SEED = Number(Deno.env.get("OXMON_FUZZ_SEED") ?? 3);

Deno.test(`the server SIGKILLed ${KILLS} times under load keeps every acknowledged sample once`, async () => {
  const dataDir = await Deno.makeTempDir({ prefix: "oxmon-crash-server-" });
  const rng = new Random(SEED);
  const port = reservePort();
  const startMs = Date.now() - 3_600_000;
  const load = startLoad({ port, startMs });
  try {
    for (let kill = 0; kill < KILLS; kill++) {
      const server = spawnServer(dataDir, { grpcPort: port });
      await server.ready;
      await randomDelay(() => rng.next(), 30, 250);
      await server.kill();
    }
    const server = spawnServer(dataDir, { grpcPort: port });
    const { apiUrl } = await server.ready;
    const before = load.total();
    await eventually(() => load.total() > before + 20, "load resuming");
    await load.stop();
    const samples = await assertLoadStored(apiUrl, load, { startMs });
    assert.equal((await server.stop()).code, 0);
    await assertFilesSound(dataDir);
    console.log(
      `server crash: ${KILLS} SIGKILLs under load, ${samples} acknowledged samples stored once ` +
        `(${load.retries} calls retried)`,
    );
  } finally {
    await load.stop();
    await Deno.remove(dataDir, { recursive: true });
  }
});

Deno.test(`the gRPC listener child SIGKILLed ${KILLS} times under load loses nothing acknowledged`, async () => {
  const dataDir = await Deno.makeTempDir({ prefix: "oxmon-crash-listener-" });
  const rng = new Random(SEED + 1);
  const port = reservePort();
  const startMs = Date.now() - 3_600_000;
  const server = spawnServer(dataDir, { grpcPort: port });
  const load = startLoad({ port, startMs });
  try {
    const { apiUrl } = await server.ready;
    for (let kill = 0; kill < KILLS; kill++) {
      // A child that serves (the load moves), killed at a random moment of its work. (One
      // killed while starting would be restarted with a growing backoff instead.)
      const before = load.total();
      await eventually(() => load.total() > before, "the load moving");
      await randomDelay(() => rng.next(), 0, 200);
      const [child] = childPids(server.process.pid);
      assert.ok(child, "the listener child runs");
      Deno.kill(child, "SIGKILL");
    }
    await eventually(async () => {
      const health = await (await fetch(`${apiUrl}/api/v1/health`)).json();
      return health.ingest.grpc_listener_restarts >= KILLS;
    }, `${KILLS} listener restarts counted`);
    const before = load.total();
    await eventually(() => load.total() > before + 20, "load resuming");
    await load.stop();
    const samples = await assertLoadStored(apiUrl, load, { startMs });
    assert.equal((await server.stop()).code, 0);
    await assertFilesSound(dataDir);
    console.log(
      `listener crash: ${KILLS} SIGKILLs under load, ${samples} acknowledged samples stored ` +
        `once (${load.retries} calls retried)`,
    );
  } finally {
    await load.stop();
    await server.kill();
    await Deno.remove(dataDir, { recursive: true });
  }
});
