/**
 * Test fixtures for the API: the real row store and SQLite agent registry in a temporary
 * directory, the API deps wired to them, and a manual clock.
 */
import { ManualClock } from "../../shared/clock.ts";
import { silentLogger } from "../../shared/log.ts";
import { join } from "node:path";
import type { MetricDataPoint, SystemInfo } from "../../shared/types.ts";
import { openAgentRegistry } from "../../server/agents/sqlite_registry.ts";
import type { AgentRegistry } from "../../server/agents/types.ts";
import { openRowStore } from "../../server/storage/row_engine.ts";
import type { MetricStore } from "../../server/storage/types.ts";
import type { ApiDeps } from "../../server/api/app.ts";

export interface TestEnv {
  store: MetricStore;
  registry: AgentRegistry;
  clock: ManualClock;
  deps: ApiDeps;
  /** Writes points and records their agents as seen at the newest point's time. */
  ingest(points: MetricDataPoint[], systemInfo?: SystemInfo): void;
  close(): Promise<void>;
}

export const START_MS = Date.UTC(2026, 0, 15, 12, 0, 0);

export async function openTestEnv(overrides: Partial<ApiDeps> = {}): Promise<TestEnv> {
  const dir = await Deno.makeTempDir({ prefix: "oxmon-api-test-" });
  const store = openRowStore({ dataDir: join(dir, "data"), cacheSizeKib: 2048 });
  const registry = openAgentRegistry(join(dir, "agents.db"));
  const clock = new ManualClock(START_MS);
  const deps: ApiDeps = {
    store,
    registry,
    clock,
    startedAtMs: START_MS - 90_000,
    version: "0.0.0-test",
    agentIntervalSecs: 10,
    log: silentLogger,
    ...overrides,
  };
  return {
    store,
    registry,
    clock,
    deps,
    ingest(points, systemInfo) {
      store.write(points);
      const newest = new Map<string, number>();
      for (const p of points) {
        newest.set(p.agentId, Math.max(p.timestampMs, newest.get(p.agentId) ?? 0));
      }
      for (const [agentId, seenMs] of newest) registry.recordSeen(agentId, seenMs, systemInfo);
    },
    async close() {
      registry.close();
      store.close();
      await Deno.remove(dir, { recursive: true });
    },
  };
}
