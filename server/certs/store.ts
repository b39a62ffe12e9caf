/**
 * `certs.db`: the domains whose certificates are checked (added through the API or listed in
 * `[[cert_check.domains]]`) and every check result, so each domain has a history.
 */
import type { DatabaseSync, StatementSync } from "node:sqlite";
import { openDatabase } from "../sqlite.ts";
import type { CertificateInspection } from "./inspect.ts";

export interface CertDomain {
  id: string;
  domain: string;
  port: number;
  enabled: boolean;
  /** Seconds between checks; null: `default_interval_secs`. */
  checkIntervalSecs: number | null;
  note: string | null;
  /** `config` when it comes from `[[cert_check.domains]]` (the file owns it), else `api`. */
  source: "api" | "config";
  lastCheckedMs: number | null;
  createdMs: number;
  updatedMs: number;
}

export interface CertResult {
  id: number;
  domainId: string;
  domain: string;
  port: number;
  checkedMs: number;
  durationMs: number;
  isValid: boolean;
  chainValid: boolean;
  daysUntilExpiry: number | null;
  /** Why it is not valid, or why no handshake happened. */
  error: string | null;
  /** The certificate; absent when no handshake happened. */
  certificate:
    | Omit<CertificateInspection, "isValid" | "chainValid" | "error" | "daysUntilExpiry">
    | null;
}

export interface DomainQuery {
  enabled?: boolean;
  /** Part of the domain name, without case. */
  search?: string;
  limit: number;
  offset: number;
}

export type NewDomain = Pick<CertDomain, "domain" | "port" | "checkIntervalSecs" | "note">;

export type DomainChanges = Partial<
  Pick<CertDomain, "port" | "enabled" | "checkIntervalSecs" | "note">
>;

/** Another domain already has this name and port. */
export class DuplicateDomainError extends Error {
  constructor(domain: string, port: number) {
    super(`Domain ${domain}:${port} is already monitored`);
    this.name = "DuplicateDomainError";
  }
}

interface DomainRow {
  id: string;
  domain: string;
  port: number;
  enabled: number;
  check_interval_secs: number | null;
  note: string | null;
  source: string;
  last_checked_ms: number | null;
  created_ms: number;
  updated_ms: number;
}

interface ResultRow {
  id: number;
  domain_id: string;
  domain: string;
  port: number;
  checked_ms: number;
  duration_ms: number;
  is_valid: number;
  chain_valid: number;
  days_until_expiry: number | null;
  error: string | null;
  certificate: string | null;
}

const DOMAIN_COLUMNS = "id, domain, port, enabled, check_interval_secs, note, source, " +
  "last_checked_ms, created_ms, updated_ms";

/** Opens (creating if needed) `certs.db` at `path`; the caller closes it. */
export function openCertStore(path: string): CertStore {
  return new CertStore(path);
}

export class CertStore {
  readonly #db: DatabaseSync;
  readonly #insertDomain: StatementSync;
  readonly #domainById: StatementSync;
  readonly #domainByName: StatementSync;
  readonly #deleteDomain: StatementSync;
  readonly #setChecked: StatementSync;
  readonly #due: StatementSync;
  readonly #insertResult: StatementSync;
  readonly #latest: StatementSync;
  readonly #latestOfDomain: StatementSync;
  readonly #history: StatementSync;
  readonly #historyCount: StatementSync;
  #closed = false;

  constructor(path: string) {
    this.#db = openDatabase(path);
    try {
      this.#db.exec(`
        PRAGMA foreign_keys = ON;
        CREATE TABLE IF NOT EXISTS cert_domains (
          id TEXT PRIMARY KEY,
          domain TEXT NOT NULL,
          port INTEGER NOT NULL,
          enabled INTEGER NOT NULL,
          check_interval_secs INTEGER,
          note TEXT,
          source TEXT NOT NULL,
          last_checked_ms INTEGER,
          created_ms INTEGER NOT NULL,
          updated_ms INTEGER NOT NULL,
          UNIQUE (domain, port)
        );
        CREATE TABLE IF NOT EXISTS cert_results (
          id INTEGER PRIMARY KEY AUTOINCREMENT,
          domain_id TEXT NOT NULL REFERENCES cert_domains (id) ON DELETE CASCADE,
          domain TEXT NOT NULL,
          port INTEGER NOT NULL,
          checked_ms INTEGER NOT NULL,
          duration_ms REAL NOT NULL,
          is_valid INTEGER NOT NULL,
          chain_valid INTEGER NOT NULL,
          days_until_expiry INTEGER,
          error TEXT,
          certificate TEXT
        );
        CREATE INDEX IF NOT EXISTS cert_results_by_domain ON cert_results (domain_id, id);
      `);
      this.#insertDomain = this.#db.prepare(
        `INSERT INTO cert_domains (${DOMAIN_COLUMNS}) VALUES (?, ?, ?, 1, ?, ?, ?, NULL, ?, ?)`,
      );
      this.#domainById = this.#db.prepare(
        `SELECT ${DOMAIN_COLUMNS} FROM cert_domains WHERE id = ?`,
      );
      this.#domainByName = this.#db.prepare(
        `SELECT ${DOMAIN_COLUMNS} FROM cert_domains WHERE domain = ? ORDER BY port = 443 DESC, port`,
      );
      this.#deleteDomain = this.#db.prepare("DELETE FROM cert_domains WHERE id = ?");
      this.#setChecked = this.#db.prepare(
        "UPDATE cert_domains SET last_checked_ms = ? WHERE id = ?",
      );
      this.#due = this.#db.prepare(
        `SELECT ${DOMAIN_COLUMNS} FROM cert_domains WHERE enabled = 1 AND (last_checked_ms IS NULL
         OR last_checked_ms + 1000 * COALESCE(check_interval_secs, ?) <= ?)
         ORDER BY last_checked_ms IS NOT NULL, last_checked_ms, domain LIMIT ?`,
      );
      this.#insertResult = this.#db.prepare(
        `INSERT INTO cert_results (domain_id, domain, port, checked_ms, duration_ms, is_valid,
           chain_valid, days_until_expiry, error, certificate)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      );
      // The newest result of every enabled domain.
      this.#latest = this.#db.prepare(
        `SELECT r.* FROM cert_results r JOIN cert_domains d ON d.id = r.domain_id
         WHERE d.enabled = 1 AND r.id = (SELECT MAX(id) FROM cert_results WHERE domain_id = d.id)
         ORDER BY r.days_until_expiry IS NULL DESC, r.days_until_expiry, r.domain, r.port`,
      );
      this.#latestOfDomain = this.#db.prepare(
        "SELECT * FROM cert_results WHERE domain_id = ? ORDER BY id DESC LIMIT 1",
      );
      this.#history = this.#db.prepare(
        "SELECT * FROM cert_results WHERE domain_id = ? ORDER BY id DESC LIMIT ? OFFSET ?",
      );
      this.#historyCount = this.#db.prepare(
        "SELECT COUNT(*) AS n FROM cert_results WHERE domain_id = ?",
      );
    } catch (error) {
      this.#db.close();
      throw error;
    }
  }

  /** Adds domains in one transaction; a duplicate (name and port) adds none of them. */
  addDomains(
    domains: readonly NewDomain[],
    nowMs: number,
    source: "api" | "config" = "api",
  ): CertDomain[] {
    return this.#transaction(() => this.#insertDomains(domains, nowMs, source));
  }

  #insertDomains(
    domains: readonly NewDomain[],
    nowMs: number,
    source: "api" | "config",
  ): CertDomain[] {
    return domains.map((domain) => {
      const id = crypto.randomUUID();
      try {
        this.#insertDomain.run(
          id,
          domain.domain,
          domain.port,
          domain.checkIntervalSecs,
          domain.note,
          source,
          nowMs,
          nowMs,
        );
      } catch (error) {
        if (String((error as Error).message).includes("UNIQUE")) {
          throw new DuplicateDomainError(domain.domain, domain.port);
        }
        throw error;
      }
      return this.domain(id)!;
    });
  }

  domain(id: string): CertDomain | undefined {
    const row = this.#domainById.get(id) as DomainRow | undefined;
    return row ? domainOf(row) : undefined;
  }

  /** Every domain with this name (443 first, then by port). */
  domainsNamed(domain: string): CertDomain[] {
    return (this.#domainByName.all(domain) as unknown as DomainRow[]).map(domainOf);
  }

  listDomains(query: DomainQuery): { total: number; domains: CertDomain[] } {
    const where: string[] = [];
    const params: (string | number)[] = [];
    if (query.enabled !== undefined) {
      where.push("enabled = ?");
      params.push(query.enabled ? 1 : 0);
    }
    if (query.search !== undefined) {
      where.push("instr(lower(domain), lower(?)) > 0");
      params.push(query.search);
    }
    const clause = where.length ? ` WHERE ${where.join(" AND ")}` : "";
    const total = (this.#db.prepare(`SELECT COUNT(*) AS n FROM cert_domains${clause}`)
      .get(...params) as { n: number }).n;
    const rows = this.#db.prepare(
      `SELECT ${DOMAIN_COLUMNS} FROM cert_domains${clause} ORDER BY domain, port LIMIT ? OFFSET ?`,
    ).all(...params, query.limit, query.offset) as unknown as DomainRow[];
    return { total, domains: rows.map(domainOf) };
  }

  /** Applies `changes`; undefined for an unknown id. */
  updateDomain(id: string, changes: DomainChanges, nowMs: number): CertDomain | undefined {
    const current = this.domain(id);
    if (!current) return undefined;
    const sets: string[] = [];
    const params: (string | number | null)[] = [];
    const columns: [keyof DomainChanges, string][] = [
      ["port", "port"],
      ["enabled", "enabled"],
      ["checkIntervalSecs", "check_interval_secs"],
      ["note", "note"],
    ];
    for (const [key, column] of columns) {
      if (!(key in changes)) continue;
      const value = changes[key];
      sets.push(`${column} = ?`);
      params.push(typeof value === "boolean" ? (value ? 1 : 0) : value ?? null);
    }
    if (sets.length === 0) return current;
    try {
      this.#db.prepare(`UPDATE cert_domains SET ${sets.join(", ")}, updated_ms = ? WHERE id = ?`)
        .run(...params, nowMs, id);
    } catch (error) {
      if (String((error as Error).message).includes("UNIQUE")) {
        throw new DuplicateDomainError(current.domain, changes.port ?? current.port);
      }
      throw error;
    }
    return this.domain(id);
  }

  /** Deletes a domain and its history; false for an unknown id. */
  deleteDomain(id: string): boolean {
    return Number(this.#deleteDomain.run(id).changes) > 0;
  }

  /**
   * Makes the `config` domains exactly `wanted`: adds the new ones, updates their interval and
   * removes those no longer listed. A domain added through the API with the same name and port
   * is taken over by the file.
   */
  syncConfigDomains(
    wanted: readonly { domain: string; port: number; checkIntervalSecs: number | null }[],
    nowMs: number,
  ): void {
    this.#transaction(() => {
      const keep = new Set<string>();
      for (const item of wanted) {
        const existing = this.domainsNamed(item.domain).find((d) => d.port === item.port);
        if (existing) {
          keep.add(existing.id);
          if (
            existing.source !== "config" || existing.checkIntervalSecs !== item.checkIntervalSecs
          ) {
            this.#db.prepare(
              "UPDATE cert_domains SET source = 'config', check_interval_secs = ?, enabled = 1, " +
                "updated_ms = ? WHERE id = ?",
            ).run(item.checkIntervalSecs, nowMs, existing.id);
          }
        } else {
          const [added] = this.#insertDomains([{ ...item, note: null }], nowMs, "config");
          keep.add(added.id);
        }
      }
      const configured = this.#db.prepare("SELECT id FROM cert_domains WHERE source = 'config'")
        .all() as { id: string }[];
      for (const { id } of configured) if (!keep.has(id)) this.#deleteDomain.run(id);
    });
  }

  /** Enabled domains whose interval has passed since their last check, oldest first. */
  dueDomains(nowMs: number, defaultIntervalSecs: number, limit: number): CertDomain[] {
    return (this.#due.all(defaultIntervalSecs, nowMs, limit) as unknown as DomainRow[]).map(
      domainOf,
    );
  }

  /** Records a result and the domain's last check time. */
  recordResult(result: Omit<CertResult, "id">): CertResult {
    return this.#transaction(() => {
      const info = this.#insertResult.run(
        result.domainId,
        result.domain,
        result.port,
        result.checkedMs,
        result.durationMs,
        result.isValid ? 1 : 0,
        result.chainValid ? 1 : 0,
        result.daysUntilExpiry,
        result.error,
        result.certificate ? JSON.stringify(result.certificate) : null,
      );
      this.#setChecked.run(result.checkedMs, result.domainId);
      return { ...result, id: Number(info.lastInsertRowid) };
    });
  }

  /** The newest result of every enabled domain, soonest expiry first (no result yet first). */
  latestResults(): CertResult[] {
    return (this.#latest.all() as unknown as ResultRow[]).map(resultOf);
  }

  latestResult(domainId: string): CertResult | undefined {
    const row = this.#latestOfDomain.get(domainId) as ResultRow | undefined;
    return row ? resultOf(row) : undefined;
  }

  history(
    domainId: string,
    limit: number,
    offset: number,
  ): { total: number; results: CertResult[] } {
    const total = (this.#historyCount.get(domainId) as { n: number }).n;
    const rows = this.#history.all(domainId, limit, offset) as unknown as ResultRow[];
    return { total, results: rows.map(resultOf) };
  }

  /** Deletes results older than `cutoffMs`, keeping each domain's newest; returns how many. */
  deleteResultsBefore(cutoffMs: number): number {
    return Number(
      this.#db.prepare(
        `DELETE FROM cert_results WHERE checked_ms < ? AND id NOT IN
         (SELECT MAX(id) FROM cert_results GROUP BY domain_id)`,
      ).run(cutoffMs).changes,
    );
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#db.close();
  }

  #transaction<T>(work: () => T): T {
    this.#db.exec("BEGIN IMMEDIATE");
    try {
      const result = work();
      this.#db.exec("COMMIT");
      return result;
    } catch (error) {
      this.#db.exec("ROLLBACK");
      throw error;
    }
  }
}

function domainOf(row: DomainRow): CertDomain {
  return {
    id: row.id,
    domain: row.domain,
    port: row.port,
    enabled: row.enabled === 1,
    checkIntervalSecs: row.check_interval_secs,
    note: row.note,
    source: row.source === "config" ? "config" : "api",
    lastCheckedMs: row.last_checked_ms,
    createdMs: row.created_ms,
    updatedMs: row.updated_ms,
  };
}

function resultOf(row: ResultRow): CertResult {
  return {
    id: row.id,
    domainId: row.domain_id,
    domain: row.domain,
    port: row.port,
    checkedMs: row.checked_ms,
    durationMs: row.duration_ms,
    isValid: row.is_valid === 1,
    chainValid: row.chain_valid === 1,
    daysUntilExpiry: row.days_until_expiry,
    error: row.error,
    certificate: row.certificate === null ? null : JSON.parse(row.certificate),
  };
}
