/**
 * Agent tokens issued at run time, as the original oxmon's agent whitelist: one token per agent
 * id. Only the token's SHA-256 is stored; the token itself is shown once, when issued or rotated.
 * Lookups by digest are served from memory (a map of digests of 256-bit random tokens: its
 * timing says nothing about any token).
 */
import { Buffer } from "node:buffer";
import { randomUUID } from "node:crypto";
import type { DatabaseSync, StatementSync } from "node:sqlite";
import { openDatabase } from "../sqlite.ts";
import { generateToken, sha256Hex } from "./tokens.ts";
import type { IssuedTokenLookup } from "./agent_auth.ts";

export interface WhitelistEntry {
  id: string;
  agentId: string;
  description: string | null;
  collectionIntervalSecs: number | null;
  createdMs: number;
  updatedMs: number;
}

export interface WhitelistQuery {
  limit: number;
  offset: number;
  agentIdContains?: string;
  descriptionContains?: string;
}

interface Row {
  id: string;
  agent_id: string;
  token_sha256: string;
  description: string | null;
  collection_interval_secs: number | null;
  created_ms: number;
  updated_ms: number;
}

/** Thrown by `add` when the agent id already has a token. */
export class WhitelistConflictError extends Error {
  constructor(agentId: string) {
    super(`Agent "${agentId}" already exists in the whitelist`);
    this.name = "WhitelistConflictError";
  }
}

/** Opens (creating if needed) the whitelist file at `path`; the caller closes it. */
export function openWhitelistStore(path: string): WhitelistStore {
  return new WhitelistStore(path);
}

export class WhitelistStore implements IssuedTokenLookup {
  readonly #db: DatabaseSync;
  readonly #byDigest = new Map<string, string>();
  readonly #insert: StatementSync;
  readonly #byId: StatementSync;
  readonly #byAgent: StatementSync;
  readonly #setToken: StatementSync;
  readonly #update: StatementSync;
  readonly #delete: StatementSync;
  readonly #page: StatementSync;
  readonly #count: StatementSync;

  constructor(path: string) {
    this.#db = openDatabase(path);
    try {
      this.#db.exec(`
        CREATE TABLE IF NOT EXISTS agent_whitelist (
          id TEXT PRIMARY KEY,
          agent_id TEXT NOT NULL UNIQUE,
          token_sha256 TEXT NOT NULL UNIQUE,
          description TEXT,
          collection_interval_secs INTEGER,
          created_ms INTEGER NOT NULL,
          updated_ms INTEGER NOT NULL
        );
      `);
      for (
        const row of this.#db.prepare("SELECT * FROM agent_whitelist").all() as unknown as Row[]
      ) {
        this.#byDigest.set(row.token_sha256, row.agent_id);
      }
    } catch (error) {
      this.#db.close();
      throw new Error(`Cannot open the agent whitelist ${path}`, { cause: error });
    }
    this.#insert = this.#db.prepare(
      `INSERT INTO agent_whitelist (id, agent_id, token_sha256, description,
         collection_interval_secs, created_ms, updated_ms) VALUES (?, ?, ?, ?, ?, ?, ?)`,
    );
    this.#byId = this.#db.prepare("SELECT * FROM agent_whitelist WHERE id = ?");
    this.#byAgent = this.#db.prepare("SELECT * FROM agent_whitelist WHERE agent_id = ?");
    this.#setToken = this.#db.prepare(
      "UPDATE agent_whitelist SET token_sha256 = ?, updated_ms = ? WHERE id = ?",
    );
    this.#update = this.#db.prepare(
      `UPDATE agent_whitelist SET description = ?, collection_interval_secs = ?, updated_ms = ?
       WHERE id = ?`,
    );
    this.#delete = this.#db.prepare("DELETE FROM agent_whitelist WHERE id = ?");
    const filter = `WHERE (? IS NULL OR instr(agent_id, ?) > 0)
      AND (? IS NULL OR instr(coalesce(description, ''), ?) > 0)`;
    this.#page = this.#db.prepare(
      `SELECT * FROM agent_whitelist ${filter} ORDER BY created_ms DESC, id LIMIT ? OFFSET ?`,
    );
    this.#count = this.#db.prepare(`SELECT count(*) AS n FROM agent_whitelist ${filter}`);
  }

  agentFor(digest: Uint8Array): string | undefined {
    return this.#byDigest.get(Buffer.from(digest).toString("hex"));
  }

  /** Issues a token for `agentId`; the token is returned once and stored only as a digest. */
  add(
    agentId: string,
    fields: { description?: string | null; collectionIntervalSecs?: number | null },
    nowMs: number,
  ): { entry: WhitelistEntry; token: string } {
    if (this.#byAgent.get(agentId)) throw new WhitelistConflictError(agentId);
    const token = generateToken();
    const digest = sha256Hex(token);
    const id = randomUUID();
    this.#insert.run(
      id,
      agentId,
      digest,
      fields.description ?? null,
      fields.collectionIntervalSecs ?? null,
      nowMs,
      nowMs,
    );
    this.#byDigest.set(digest, agentId);
    return { entry: this.get(id)!, token };
  }

  get(id: string): WhitelistEntry | undefined {
    const row = this.#byId.get(id) as unknown as Row | undefined;
    return row ? toEntry(row) : undefined;
  }

  list(query: WhitelistQuery): { total: number; entries: WhitelistEntry[] } {
    const a = query.agentIdContains ?? null;
    const d = query.descriptionContains ?? null;
    const total = (this.#count.get(a, a, d, d) as { n: number }).n;
    const rows = this.#page.all(a, a, d, d, query.limit, query.offset) as unknown as Row[];
    return { total, entries: rows.map(toEntry) };
  }

  /** Changes the fields given (undefined leaves one as it is); false when `id` is unknown. */
  update(
    id: string,
    fields: { description?: string | null; collectionIntervalSecs?: number | null },
    nowMs: number,
  ): boolean {
    const row = this.#byId.get(id) as unknown as Row | undefined;
    if (!row) return false;
    this.#update.run(
      fields.description === undefined ? row.description : fields.description,
      fields.collectionIntervalSecs === undefined
        ? row.collection_interval_secs
        : fields.collectionIntervalSecs,
      nowMs,
      id,
    );
    return true;
  }

  /** A new token for the entry; the old one stops working at once. */
  rotate(id: string, nowMs: number): { agentId: string; token: string } | undefined {
    const row = this.#byId.get(id) as unknown as Row | undefined;
    if (!row) return undefined;
    const token = generateToken();
    const digest = sha256Hex(token);
    this.#setToken.run(digest, nowMs, id);
    this.#byDigest.delete(row.token_sha256);
    this.#byDigest.set(digest, row.agent_id);
    return { agentId: row.agent_id, token };
  }

  /** Revokes the entry's token; the agent id, if unknown, is undefined. */
  delete(id: string): WhitelistEntry | undefined {
    const row = this.#byId.get(id) as unknown as Row | undefined;
    if (!row) return undefined;
    this.#delete.run(id);
    this.#byDigest.delete(row.token_sha256);
    return toEntry(row);
  }

  get size(): number {
    return this.#byDigest.size;
  }

  close(): void {
    if (this.#db.isOpen) this.#db.close();
  }
}

function toEntry(row: Row): WhitelistEntry {
  return {
    id: row.id,
    agentId: row.agent_id,
    description: row.description,
    collectionIntervalSecs: row.collection_interval_secs,
    createdMs: row.created_ms,
    updatedMs: row.updated_ms,
  };
}
