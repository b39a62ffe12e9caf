import assert from "node:assert/strict";
import { ManualClock } from "../shared/clock.ts";
import { silentLogger } from "../shared/log.ts";
import { defaultServerConfig } from "./config.ts";
import { openStore } from "./server.ts";

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
