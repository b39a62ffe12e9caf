import assert from "node:assert/strict";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import type { SystemInfo } from "../../shared/types.ts";
import { openAgentRegistry } from "./sqlite_registry.ts";

const T0 = Date.UTC(2026, 10, 27, 12);
const info: SystemInfo = {
  hostname: "web-1",
  os: "Linux",
  osVersion: "Debian 13",
  arch: "x86_64",
  kernelVersion: "6.12.0",
  cpuCores: 8,
  memoryGb: 15.6,
  diskGb: 468.3,
};

async function withDir(fn: (path: string) => void): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "oxmon-agents-" });
  try {
    fn(join(dir, "agents.db"));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/** Last seen as the file has it, read through a connection of its own. */
function lastSeenOnDisk(path: string, agentId: string): number | undefined {
  const db = new DatabaseSync(path);
  try {
    const row = db.prepare("SELECT last_seen_ms FROM agents WHERE agent_id = ?").get(agentId) as
      | { last_seen_ms: number }
      | undefined;
    return row?.last_seen_ms;
  } finally {
    db.close();
  }
}

Deno.test("agent registry registers an agent on first sight and then moves last seen", async () => {
  await withDir((path) => {
    const registry = openAgentRegistry(path);
    try {
      assert.equal(registry.get("web-1"), undefined);
      registry.recordSeen("web-1", T0, info);
      registry.recordSeen("web-1", T0 + 10_000);
      registry.recordSeen("db-1", T0 + 5_000);
      assert.deepEqual(registry.get("web-1"), {
        agentId: "web-1",
        firstSeenMs: T0,
        lastSeenMs: T0 + 10_000,
        systemInfo: info,
      });
      assert.deepEqual(registry.list().map((agent) => agent.agentId), ["db-1", "web-1"]);
      assert.equal(registry.get("db-1")?.systemInfo, undefined);
    } finally {
      registry.close();
    }
  });
});

Deno.test("agent registry never moves last seen backwards for a late batch", async () => {
  await withDir((path) => {
    const registry = openAgentRegistry(path);
    try {
      registry.recordSeen("web-1", T0);
      registry.recordSeen("web-1", T0 + 20_000);
      registry.recordSeen("web-1", T0 + 10_000);
      assert.equal(registry.get("web-1")?.lastSeenMs, T0 + 20_000);
      registry.recordSeen("web-1", T0 - 5_000);
      assert.equal(registry.get("web-1")?.firstSeenMs, T0 - 5_000);
    } finally {
      registry.close();
    }
  });
});

Deno.test("agent registry keeps agents, times and system info across a reopen", async () => {
  await withDir((path) => {
    const first = openAgentRegistry(path);
    first.recordSeen("web-1", T0, info);
    first.recordSeen("web-1", T0 + 1_000);
    first.recordSeen("db-1", T0 + 2_000);
    const before = first.list();
    first.close();
    const second = openAgentRegistry(path);
    try {
      assert.deepEqual(second.list(), before);
      assert.equal(second.get("web-1")?.lastSeenMs, T0 + 1_000);
      const newer = { ...info, kernelVersion: "6.13.1" };
      second.recordSeen("web-1", T0 + 3_000, newer);
      assert.deepEqual(second.get("web-1")?.systemInfo, newer);
    } finally {
      second.close();
    }
  });
});

Deno.test("agent registry writes last seen at most once per interval, and on close", async (t) => {
  await t.step("throttled", async () => {
    await withDir((path) => {
      const registry = openAgentRegistry(path, { lastSeenWriteIntervalMs: 60_000 });
      registry.recordSeen("web-1", T0);
      registry.recordSeen("web-1", T0 + 10_000);
      registry.recordSeen("web-1", T0 + 59_999);
      assert.equal(lastSeenOnDisk(path, "web-1"), T0);
      assert.equal(registry.get("web-1")?.lastSeenMs, T0 + 59_999);
      registry.recordSeen("web-1", T0 + 60_000);
      assert.equal(lastSeenOnDisk(path, "web-1"), T0 + 60_000);
      registry.recordSeen("web-1", T0 + 70_000);
      registry.flush();
      assert.equal(lastSeenOnDisk(path, "web-1"), T0 + 70_000);
      registry.recordSeen("web-1", T0 + 80_000);
      registry.close();
      assert.equal(lastSeenOnDisk(path, "web-1"), T0 + 80_000);
    });
  });
  await t.step("interval 0 writes every time", async () => {
    await withDir((path) => {
      const registry = openAgentRegistry(path, { lastSeenWriteIntervalMs: 0 });
      try {
        registry.recordSeen("web-1", T0);
        registry.recordSeen("web-1", T0 + 1);
        assert.equal(lastSeenOnDisk(path, "web-1"), T0 + 1);
      } finally {
        registry.close();
      }
    });
  });
});

Deno.test("agent registry refuses bad input naming the field", async () => {
  await withDir((path) => {
    assert.throws(
      () => openAgentRegistry(path, { lastSeenWriteIntervalMs: -1 }),
      /lastSeenWriteIntervalMs/,
    );
    const registry = openAgentRegistry(path);
    try {
      assert.throws(() => registry.recordSeen("", T0), /agentId/);
      assert.throws(() => registry.recordSeen("web-1", NaN), /seenMs/);
      assert.throws(() => registry.recordSeen("web-1", 1.5), /seenMs/);
      assert.deepEqual(registry.list(), []);
    } finally {
      registry.close();
    }
    assert.throws(() => registry.list(), /closed/);
  });
});
