/**
 * The agent registry in one SQLite file. Every accepted batch calls `recordSeen`, so the hot path
 * is a map lookup: last seen is persisted at most once per `lastSeenWriteIntervalMs` per agent
 * (and on `flush`/`close`), while a new agent or new system info is written at once.
 */
import { DatabaseSync, type StatementSync } from "node:sqlite";
import type { SystemInfo } from "../../shared/types.ts";
import { openDatabase } from "../sqlite.ts";
import type { AgentRecord, AgentRegistry } from "./types.ts";

export interface AgentRegistryOptions {
  /**
   * How far last seen may run ahead of the file before it is written: a crash forgets at most
   * this much. Default 10,000 ms (one default collection interval); 0 writes on every call.
   */
  lastSeenWriteIntervalMs?: number;
}

export interface SqliteAgentRegistry extends AgentRegistry {
  /** Writes every last seen held only in memory. */
  flush(): void;
}

interface Entry {
  record: AgentRecord;
  /** Last seen as the file has it. */
  persistedLastSeenMs: number;
}

export function openAgentRegistry(
  path: string,
  options: AgentRegistryOptions = {},
): SqliteAgentRegistry {
  const interval = options.lastSeenWriteIntervalMs ?? 10_000;
  if (typeof interval !== "number" || !Number.isFinite(interval) || interval < 0) {
    throw new RangeError(
      `Cannot open agent registry: lastSeenWriteIntervalMs must be a non-negative number, got ${interval}`,
    );
  }
  return new Registry(path, interval);
}

class Registry implements SqliteAgentRegistry {
  readonly #db: DatabaseSync;
  readonly #interval: number;
  readonly #agents = new Map<string, Entry>();
  readonly #insert: StatementSync;
  readonly #updateSeen: StatementSync;
  readonly #updateAll: StatementSync;
  #closed = false;

  constructor(path: string, interval: number) {
    this.#interval = interval;
    this.#db = openDatabase(path);
    try {
      this.#db.exec(`
        CREATE TABLE IF NOT EXISTS agents (
          agent_id TEXT PRIMARY KEY,
          first_seen_ms INTEGER NOT NULL,
          last_seen_ms INTEGER NOT NULL,
          system_info TEXT
        );
      `);
      const rows = this.#db.prepare(
        "SELECT agent_id, first_seen_ms, last_seen_ms, system_info FROM agents",
      ).all() as {
        agent_id: string;
        first_seen_ms: number;
        last_seen_ms: number;
        system_info: string | null;
      }[];
      for (const row of rows) {
        const record: AgentRecord = {
          agentId: row.agent_id,
          firstSeenMs: row.first_seen_ms,
          lastSeenMs: row.last_seen_ms,
        };
        const systemInfo = parseSystemInfo(row.system_info);
        if (systemInfo) record.systemInfo = systemInfo;
        this.#agents.set(row.agent_id, { record, persistedLastSeenMs: row.last_seen_ms });
      }
      this.#insert = this.#db.prepare(
        "INSERT INTO agents (agent_id, first_seen_ms, last_seen_ms, system_info) VALUES (?, ?, ?, ?)",
      );
      this.#updateSeen = this.#db.prepare(
        "UPDATE agents SET first_seen_ms = ?, last_seen_ms = ? WHERE agent_id = ?",
      );
      this.#updateAll = this.#db.prepare(
        "UPDATE agents SET first_seen_ms = ?, last_seen_ms = ?, system_info = ? WHERE agent_id = ?",
      );
    } catch (error) {
      this.#db.close();
      throw error;
    }
  }

  recordSeen(agentId: string, seenMs: number, systemInfo?: SystemInfo): void {
    this.#assertOpen();
    if (typeof agentId !== "string" || agentId === "") {
      throw new TypeError(
        `Cannot record agent: agentId must be a non-empty string, got ${JSON.stringify(agentId)}`,
      );
    }
    if (typeof seenMs !== "number" || !Number.isSafeInteger(seenMs) || seenMs < 0) {
      throw new TypeError(
        `Cannot record agent ${agentId}: seenMs must be a non-negative integer, got ${seenMs}`,
      );
    }
    if (systemInfo !== undefined && (systemInfo === null || typeof systemInfo !== "object")) {
      throw new TypeError(`Cannot record agent ${agentId}: systemInfo must be an object`);
    }
    const entry = this.#agents.get(agentId);
    if (!entry) {
      const record: AgentRecord = { agentId, firstSeenMs: seenMs, lastSeenMs: seenMs };
      if (systemInfo) record.systemInfo = { ...systemInfo };
      this.#insert.run(agentId, seenMs, seenMs, systemInfo ? JSON.stringify(systemInfo) : null);
      this.#agents.set(agentId, { record, persistedLastSeenMs: seenMs });
      return;
    }
    const { record } = entry;
    // Batches can arrive out of order (a buffered agent drains its backlog): never go back.
    const movedFirst = seenMs < record.firstSeenMs;
    if (movedFirst) record.firstSeenMs = seenMs;
    if (seenMs > record.lastSeenMs) record.lastSeenMs = seenMs;
    if (systemInfo) {
      record.systemInfo = { ...systemInfo };
      this.#updateAll.run(
        record.firstSeenMs,
        record.lastSeenMs,
        JSON.stringify(systemInfo),
        agentId,
      );
      entry.persistedLastSeenMs = record.lastSeenMs;
    } else if (movedFirst || record.lastSeenMs - entry.persistedLastSeenMs >= this.#interval) {
      this.#persistSeen(entry);
    }
  }

  get(agentId: string): AgentRecord | undefined {
    this.#assertOpen();
    const entry = this.#agents.get(agentId);
    return entry ? copy(entry.record) : undefined;
  }

  list(): AgentRecord[] {
    this.#assertOpen();
    return [...this.#agents.values()]
      .map((entry) => copy(entry.record))
      .sort((a, b) => (a.agentId < b.agentId ? -1 : a.agentId > b.agentId ? 1 : 0));
  }

  flush(): void {
    this.#assertOpen();
    const stale = [...this.#agents.values()].filter((entry) =>
      entry.record.lastSeenMs !== entry.persistedLastSeenMs
    );
    if (stale.length === 0) return;
    this.#db.exec("BEGIN");
    try {
      for (const entry of stale) this.#persistSeen(entry);
      this.#db.exec("COMMIT");
    } catch (error) {
      this.#db.exec("ROLLBACK");
      throw error;
    }
  }

  close(): void {
    if (this.#closed) return;
    try {
      this.flush();
    } finally {
      this.#closed = true;
      this.#db.close();
    }
  }

  #persistSeen(entry: Entry): void {
    const { record } = entry;
    this.#updateSeen.run(record.firstSeenMs, record.lastSeenMs, record.agentId);
    entry.persistedLastSeenMs = record.lastSeenMs;
  }

  #assertOpen(): void {
    if (this.#closed) throw new Error("Cannot use the agent registry: it is closed");
  }
}

function copy(record: AgentRecord): AgentRecord {
  const result: AgentRecord = { ...record };
  if (record.systemInfo) result.systemInfo = { ...record.systemInfo };
  return result;
}

/** System info as stored; a damaged value is dropped rather than failing the whole registry. */
function parseSystemInfo(json: string | null): SystemInfo | undefined {
  if (json === null) return undefined;
  try {
    const value = JSON.parse(json);
    return value !== null && typeof value === "object" ? value as SystemInfo : undefined;
  } catch {
    return undefined;
  }
}
