/**
 * A damaged `agents.db`, `alerts.db` or `notify.db` does not stop the server: it is moved aside
 * (logged with its path and SQLite's error), started anew, and health says `degraded`, listing
 * it, until the operator removes the moved file. Other errors opening a file name the file.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { memoryLogger } from "../shared/log.ts";
import { openAgentRegistry } from "../server/agents/sqlite_registry.ts";
import { AlertStore } from "../server/alerts/store.ts";
import { parseServerConfig } from "../server/config.ts";
import { CertStore } from "../server/certs/store.ts";
import { DeliveryStore } from "../server/notify/delivery_store.ts";
import { startServer } from "../server/server.ts";
import { reportMetrics, withClient } from "./helpers/grpc_client.ts";
import { SERVER_MAIN } from "./helpers/server_process.ts";

const ROWS = 2_000;

/**
 * Fills each small database with enough rows to span many pages; certs.db only when it is the
 * one damaged (its sound domains would be checked over the network at start).
 */
function fill(dataDir: string, damaged: string): void {
  const registry = openAgentRegistry(join(dataDir, "agents.db"));
  for (let i = 0; i < ROWS; i++) {
    registry.recordSeen(`host-${i}`, Date.now(), {
      hostname: `host-${i}.example.com`,
      os: "linux",
      osVersion: "12",
      arch: "x86_64",
      kernelVersion: "6.1",
      cpuCores: 4,
      memoryGb: 16,
      diskGb: 100,
    });
  }
  registry.close();
  const alerts = new AlertStore(join(dataDir, "alerts.db"));
  alerts.commit({
    events: Array.from({ length: ROWS }, (_, i) => ({
      id: `event-${i}`,
      ruleName: "high-cpu",
      ruleType: "threshold",
      agentId: `host-${i}`,
      metricName: "cpu.usage",
      labels: {},
      severity: "critical" as const,
      status: "firing" as const,
      message: `cpu.usage of host-${i} above 90`,
      value: 95,
      threshold: 90,
      timestampMs: Date.now() - i,
    })),
    upserts: [],
    deletes: [],
    seen: [],
  });
  alerts.close();
  const deliveries = new DeliveryStore(join(dataDir, "notify.db"));
  for (let i = 0; i < ROWS; i++) {
    deliveries.add({
      timeMs: Date.now() - i,
      channel: "hook",
      channelType: "webhook",
      eventIds: [`event-${i}`],
      severity: "critical",
      status: "sent",
      attempts: 1,
      error: null,
    });
  }
  deliveries.close();
  if (damaged !== "certs.db") return;
  const certs = new CertStore(join(dataDir, "certs.db"));
  certs.addDomains(
    Array.from({ length: ROWS }, (_, i) => ({
      domain: `host-${i}.example.com`,
      port: 443,
      checkIntervalSecs: null,
      note: "a note long enough to fill pages ".repeat(3),
    })),
    Date.now(),
  );
  certs.close();
}

/** Ways a file gets damaged on a real disk. */
const DAMAGE: Record<string, (path: string) => void> = {
  "64 KiB of garbage in the middle": (path) => {
    const size = Deno.statSync(path).size;
    using file = Deno.openSync(path, { read: true, write: true });
    file.seekSync(Math.floor(size / 8192) * 4096, Deno.SeekMode.Start);
    file.writeSync(garbage(65_536));
  },
  "a garbage header": (path) => {
    using file = Deno.openSync(path, { read: true, write: true });
    file.writeSync(garbage(100));
  },
  "cut to half its size": (path) => {
    Deno.truncateSync(path, Math.floor(Deno.statSync(path).size / 2 / 4096) * 4096);
  },
};

function garbage(bytes: number): Uint8Array {
  const out = new Uint8Array(bytes);
  for (let i = 0; i < bytes; i += 65_536) {
    crypto.getRandomValues(out.subarray(i, Math.min(bytes, i + 65_536)));
  }
  return out;
}

async function start(dataDir: string) {
  const log = memoryLogger("info");
  const config = parseServerConfig(`grpc_host = "127.0.0.1"
grpc_port = 0
http_host = "127.0.0.1"
http_port = 0
data_dir = ${JSON.stringify(dataDir)}
`);
  const server = await startServer(config, {
    log,
    listenerCommand: {
      cmd: Deno.execPath(),
      args: ["run", "-A", SERVER_MAIN.pathname, "--grpc-listener"],
    },
  });
  const health = async () => {
    const response = await fetch(`http://127.0.0.1:${server.httpPort}/api/v1/health`);
    assert.equal(response.status, 200);
    return await response.json();
  };
  return { server, log, health };
}

Deno.test("a damaged agents.db, alerts.db, notify.db or certs.db is moved aside and started anew", async (t) => {
  for (const file of ["agents.db", "alerts.db", "notify.db", "certs.db"]) {
    for (const [how, damage] of Object.entries(DAMAGE)) {
      await t.step(`${file}: ${how}`, async () => {
        const dataDir = await Deno.makeTempDir({ prefix: "oxmon-damaged-" });
        try {
          fill(dataDir, file);
          const path = join(dataDir, file);
          damage(path);
          const { server, log, health } = await start(dataDir);
          try {
            const moved = [...Deno.readDirSync(dataDir)].map((entry) => entry.name)
              .filter((name) => name.startsWith(`${file}.damaged-`));
            assert.equal(moved.length, 1, `moved aside: ${moved}`);
            const logged = log.lines.find((line) => line.includes("DAMAGED FILE"));
            assert.ok(logged, log.lines.join("\n"));
            assert.ok(logged.includes(path) && logged.includes(moved[0]), logged);
            assert.match(logged, /sqlite_error=/);

            let body = await health();
            assert.equal(body.status, "degraded");
            assert.deepEqual(body.issues.map((issue: { kind: string }) => issue.kind), [
              "quarantined",
            ]);
            assert.equal(body.issues[0].file, join(dataDir, moved[0]));
            assert.match(body.issues[0].message, new RegExp(`${file} was damaged`));

            // The rest works: a batch is stored and its agent registered in the new file.
            await withClient(server.grpcPort, (client) =>
              reportMetrics(client, {
                agentId: "after-1",
                dataPoints: [{
                  agentId: "after-1",
                  metricName: "cpu.usage",
                  value: 3,
                  timestampMs: Date.now(),
                }],
              }));
            const agents = await (await fetch(
              `http://127.0.0.1:${server.httpPort}/api/v1/agents/after-1`,
            )).json();
            assert.equal(agents.agent_id, "after-1");

            // The operator deals with the moved file: health is ok again.
            for (const name of [...Deno.readDirSync(dataDir)].map((entry) => entry.name)) {
              if (name.startsWith(`${file}.damaged-`)) Deno.removeSync(join(dataDir, name));
            }
            body = await health();
            assert.equal(body.status, "ok");
          } finally {
            await server.stop();
          }
        } finally {
          await Deno.remove(dataDir, { recursive: true });
        }
      });
    }
  }
});

Deno.test("a sound file that cannot be opened stops the start with an error naming it", async () => {
  const dataDir = await Deno.makeTempDir({ prefix: "oxmon-unopenable-" });
  try {
    // A folder where the file should be: not damage, so nothing may be moved aside.
    await Deno.mkdir(join(dataDir, "notify.db"));
    await assert.rejects(() => start(dataDir), (error: Error) => {
      assert.match(error.message, new RegExp(`${join(dataDir, "notify.db")}`));
      return true;
    });
    assert.ok(Deno.statSync(join(dataDir, "notify.db")).isDirectory);
  } finally {
    await Deno.remove(dataDir, { recursive: true });
  }
});
