import assert from "node:assert/strict";
import { ManualClock } from "../shared/clock.ts";
import { silentLogger } from "../shared/log.ts";
import { defaultServerConfig, parseServerConfig } from "./config.ts";
import { openStore, startServer } from "./server.ts";

Deno.test("openStore gives the chunk store the server's clock for its age limit", async () => {
  const dataDir = await Deno.makeTempDir({ prefix: "oxmon-open-store-" });
  // A clock far from the system's: what the server was started with is what counts.
  const nowMs = Date.UTC(2020, 0, 1, 12);
  const config = { ...defaultServerConfig(), dataDir, storageEngine: "chunk" as const };
  const store = openStore(config, silentLogger, new ManualClock(nowMs));
  try {
    const result = store.write([
      { agentId: "web-01", metricName: "cpu.usage", labels: {}, timestampMs: nowMs, value: 1 },
    ]);
    assert.deepEqual(result, { written: 1, duplicates: 0, conflicts: 0, tooOld: 0 });
  } finally {
    store.close();
    await Deno.remove(dataDir, { recursive: true });
  }
});

Deno.test("startServer closes what it opened when its HTTP port is taken", async () => {
  const dir = await Deno.makeTempDir({ prefix: "oxmon-start-fail-" });
  const busy = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  try {
    const config = parseServerConfig(
      `http_host = "127.0.0.1"\nhttp_port = ${(busy.addr as Deno.NetAddr).port}\n` +
        `grpc_host = "127.0.0.1"\ngrpc_port = 0\ndata_dir = ${JSON.stringify(`${dir}/data`)}\n`,
    );
    await assert.rejects(startServer(config, { log: silentLogger }), Deno.errors.AddrInUse);
    // Leak detection fails this test if a timer, database or file stayed open; the files can go.
    await Deno.remove(`${dir}/data`, { recursive: true });
  } finally {
    busy.close();
    await Deno.remove(dir, { recursive: true });
  }
});
