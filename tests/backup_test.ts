/**
 * `oxmon-server --backup DIR` copies a live data dir: taken while batches keep arriving, the copy
 * opens in a new server with every sample acknowledged before the backup began.
 */
import assert from "node:assert/strict";
import { backupDataDir } from "../server/backup.ts";
import { reportMetrics, withClient } from "./helpers/grpc_client.ts";
import { startTestServer } from "./helpers/server_process.ts";

const BATCH_POINTS = 200;

function batch(agentId: string, round: number, nowMs: number) {
  const timestampMs = nowMs - 60_000 + round * 10;
  return {
    agentId,
    timestampMs,
    dataPoints: Array.from({ length: BATCH_POINTS }, (_, i) => ({
      agentId,
      metricName: "disk.used_percent",
      labels: { mount: `/m${i}` },
      value: round + i / 1000,
      timestampMs,
    })),
  };
}

Deno.test("a backup taken while batches arrive opens with every sample acknowledged before it", async () => {
  const dir = await Deno.makeTempDir({ prefix: "oxmon-backup-" });
  const live = await startTestServer(`${dir}/data`);
  const nowMs = Date.now();
  let acknowledgedBefore = 0;
  try {
    await withClient(live.grpcPort, async (client) => {
      for (let round = 0; round < 10; round++) {
        await reportMetrics(client, batch("backup-1", round, nowMs));
      }
      acknowledgedBefore = 10;
      // Writes keep going while the backup reads.
      let writing = true;
      const writer = (async () => {
        for (let round = 10; writing && round < 500; round++) {
          await reportMetrics(client, batch("backup-1", round, nowMs));
        }
      })();
      const files = await backupDataDir(`${dir}/data`, `${dir}/copy`);
      writing = false;
      await writer;
      assert.deepEqual(
        files.map((file) => file.name).filter((name) => !/^\d{4}-/.test(name)),
        ["agent_whitelist.db", "agents.db", "alerts.db", "certs.db", "notify.db", "index.db"],
      );
    });
  } finally {
    await live.stop();
  }
  await assert.rejects(
    () => backupDataDir(`${dir}/data`, `${dir}/copy`),
    /Cannot back up into .*copy: it is not empty/,
  );
  const restored = await startTestServer(`${dir}/copy`);
  try {
    const { status, body } = await restored.getJson(
      `/api/v1/metrics?agent=backup-1&metric=disk.used_percent&label.mount=/m7` +
        `&from=${nowMs - 120_000}&to=${nowMs}`,
    );
    assert.equal(status, 200);
    const series = body.series as { points: { value: number }[] }[];
    assert.equal(series.length, 1);
    const values = series[0].points.map((point) => point.value);
    for (let round = 0; round < acknowledgedBefore; round++) {
      assert.ok(values.includes(round + 7 / 1000), `round ${round} missing from the copy`);
    }
  } finally {
    await restored.stop();
    await Deno.remove(dir, { recursive: true });
  }
});
