/**
 * Dashboard sessions: a random id in an HttpOnly, SameSite=Strict cookie, held in memory as its
 * SHA-256 with the scope of the API token that signed in. A restart signs everyone out.
 */
import { randomBytes } from "node:crypto";
import type { ApiScope } from "./config.ts";
import { sha256Hex } from "./tokens.ts";

export const SESSION_COOKIE = "oxmon_session";

export interface Session {
  scope: ApiScope;
  /** The signing-in token's name, for logs. */
  tokenName: string;
  expiresMs: number;
}

export class SessionStore {
  readonly #ttlMs: number;
  readonly #max: number;
  /** Insertion order is creation order: the first entry is the oldest. */
  readonly #sessions = new Map<string, Session>();

  constructor(options: { ttlMs: number; maxSessions?: number }) {
    this.#ttlMs = options.ttlMs;
    this.#max = options.maxSessions ?? 10_000;
  }

  get ttlMs(): number {
    return this.#ttlMs;
  }

  /** A new session; returns the id to put in the cookie. */
  create(scope: ApiScope, tokenName: string, nowMs: number): string {
    for (const [key, session] of this.#sessions) {
      if (session.expiresMs > nowMs && this.#sessions.size < this.#max) break;
      this.#sessions.delete(key);
    }
    const id = randomBytes(32).toString("base64url");
    this.#sessions.set(sha256Hex(id), { scope, tokenName, expiresMs: nowMs + this.#ttlMs });
    return id;
  }

  get(id: string | undefined, nowMs: number): Session | undefined {
    if (!id || id.length > 100) return undefined;
    const key = sha256Hex(id);
    const session = this.#sessions.get(key);
    if (!session) return undefined;
    if (session.expiresMs <= nowMs) {
      this.#sessions.delete(key);
      return undefined;
    }
    return session;
  }

  delete(id: string | undefined): void {
    if (id) this.#sessions.delete(sha256Hex(id));
  }

  get size(): number {
    return this.#sessions.size;
  }
}
