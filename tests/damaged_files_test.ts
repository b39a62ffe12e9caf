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
import { openCertStore } from "../server/certs/store.ts";
import { openDeliveryStore } from "../server/notify/mod.ts";
import { startServer } from "../server/server.ts";
import { openChunkStore } from "../server/storage/chunk/engine.ts";
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
  const deliveries = openDeliveryStore(join(dataDir, "notify.db"));
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
  const certs = openCertStore(join(dataDir, "certs.db"));
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

Deno.test("a damaged agent_whitelist.db is moved aside too: issued tokens are lost, not the server", async () => {
  const dataDir = await Deno.makeTempDir({ prefix: "oxmon-damaged-whitelist-" });
  try {
    Deno.writeFileSync(join(dataDir, "agent_whitelist.db"), garbage(8192));
    const { server, log, health } = await start(dataDir);
    try {
      assert.match(
        log.lines.join("\n"),
        /DAMAGED FILE moved aside; agent_whitelist\.db is started empty/,
      );
      const body = await health();
      assert.equal(body.issues[0].kind, "quarantined");
      assert.match(body.issues[0].file, /agent_whitelist\.db\.damaged-/);
    } finally {
      await server.stop();
    }
  } finally {
    await Deno.remove(dataDir, { recursive: true });
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

const DAY_MS = 86_400_000;

/** Three UTC days of 20 series every 30 s, up to now; returns the day names, oldest first. */
function writeThreeDays(dataDir: string): string[] {
  const store = openChunkStore({ dataDir });
  const nowMs = Date.now();
  const firstDayMs = Math.floor(nowMs / DAY_MS) * DAY_MS - 2 * DAY_MS;
  try {
    for (let t = firstDayMs; t < nowMs - 60_000; t += 30_000) {
      store.write(Array.from({ length: 20 }, (_, i) => ({
        agentId: "history-1",
        metricName: "cpu.usage",
        labels: { core: String(i) },
        timestampMs: t,
        value: (t / 30_000) % 100,
      })));
    }
  } finally {
    store.close();
  }
  return [0, 1, 2].map((n) => new Date(firstDayMs + n * DAY_MS).toISOString().slice(0, 10));
}

Deno.test("a damaged partition is moved aside and every other day is still served", async (t) => {
  const cases: Record<string, [number, (path: string) => void]> = {
    "a partition of two days ago, cut to half its size": [0, DAMAGE["cut to half its size"]],
    "today's partition with 64 KiB of garbage": [2, DAMAGE["64 KiB of garbage in the middle"]],
  };
  for (const [name, [damagedDay, damage]] of Object.entries(cases)) {
    await t.step(name, async () => {
      const dataDir = await Deno.makeTempDir({ prefix: "oxmon-damaged-partition-" });
      try {
        const days = writeThreeDays(dataDir);
        const dayRange = (day: string) => {
          const from = Date.parse(`${day}T00:00:00Z`);
          return `from=${from}&to=${Math.min(from + DAY_MS - 1, Date.now())}`;
        };
        const path = join(dataDir, `${days[damagedDay]}.db`);
        damage(path);
        const { server, log, health } = await start(dataDir);
        try {
          const logged = log.lines.find((line) => line.includes("DAMAGED FILE"));
          assert.ok(logged?.includes(path), log.lines.join("\n"));
          const body = await health();
          assert.equal(body.status, "degraded");
          assert.equal(body.issues.length, 1, JSON.stringify(body.issues));
          assert.match(body.issues[0].file, new RegExp(`${days[damagedDay]}\\.db\\.damaged-`));
          const api = `http://127.0.0.1:${server.httpPort}/api/v1`;
          for (const [n, day] of days.entries()) {
            const response = await fetch(`${api}/metrics?agent=history-1&${dayRange(day)}`);
            assert.equal(response.status, 200, `${day}: ${response.status}`);
            const { series } = await response.json();
            if (n === damagedDay) {
              assert.equal(series.length, 0, "the damaged day's samples are aside");
            } else {
              assert.equal(series.length, 20, day);
              for (const one of series) assert.ok(one.points.length > 0);
            }
          }
          // New samples of today are taken (a new file when today's was moved aside).
          const nowMs = Date.now();
          await withClient(server.grpcPort, (client) =>
            reportMetrics(client, {
              agentId: "history-1",
              dataPoints: [{
                agentId: "history-1",
                metricName: "fresh",
                value: 1,
                timestampMs: nowMs,
              }],
            }));
          const fresh = await (await fetch(`${api}/metrics?agent=history-1&metric=fresh`)).json();
          assert.equal(fresh.series[0].points.length, 1);
        } finally {
          await server.stop();
        }
      } finally {
        await Deno.remove(dataDir, { recursive: true });
      }
    });
  }
});
