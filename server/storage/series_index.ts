/**
 * The row engine's series catalogue: `index.db` gives every (agent, metric, labels) an integer id.
 * The whole catalogue is also kept in memory, so a write resolves ids without SQL and a query
 * filters series in JS (100k series take a few MB).
 */
import type { DatabaseSync, StatementSync } from "node:sqlite";
import { join } from "node:path";
import type { Labels } from "../../shared/types.ts";
import type { SeriesKey, SeriesQuery } from "./types.ts";
import { openDatabase, prepareReturningArrays } from "../sqlite.ts";
import { compareSeries, matchesSeries, seriesIdentity } from "./points.ts";

/** Bumped when the layout of `index.db` or of the partitions changes incompatibly. */
const SCHEMA_VERSION = 1;

export interface SeriesEntry extends SeriesKey {
  id: number;
  labelsJson: string;
}

export const INDEX_FILE = "index.db";

/** The key of a catalogue entry as a query returns it: a copy the caller may change. */
export function seriesKeyOf(entry: SeriesEntry): SeriesKey {
  return { agentId: entry.agentId, metricName: entry.metricName, labels: { ...entry.labels } };
}

export class SeriesIndex {
  readonly path: string;
  #db: DatabaseSync;
  #insert: StatementSync;
  #byIdentity = new Map<string, SeriesEntry>();
  /** By id: ids are dense (SQLite rowids), so an array, not a map of 100k entries. */
  #byId: (SeriesEntry | undefined)[] = [];
  #sorted: SeriesEntry[] | undefined;
  /** Per agent, so the common "one agent" query does not scan every series. */
  #byAgent = new Map<string, { entries: SeriesEntry[]; sorted: boolean }>();

  constructor(dataDir: string, cacheSizeKib: number) {
    this.path = join(dataDir, INDEX_FILE);
    this.#db = openDatabase(this.path, { cacheSizeKib });
    try {
      this.#db.exec(`
        CREATE TABLE IF NOT EXISTS series (
          id INTEGER PRIMARY KEY,
          agent_id TEXT NOT NULL,
          metric_name TEXT NOT NULL,
          labels TEXT NOT NULL,
          UNIQUE (agent_id, metric_name, labels)
        );
      `);
      const { user_version: version } = this.#db.prepare("PRAGMA user_version").get() as {
        user_version: number;
      };
      if (version > SCHEMA_VERSION) {
        throw new Error(
          `Cannot open ${this.path}: written by a newer oxmon (schema ${version}, this one reads ${SCHEMA_VERSION})`,
        );
      }
      if (version < SCHEMA_VERSION) this.#db.exec(`PRAGMA user_version = ${SCHEMA_VERSION}`);
      this.#load();
      this.#insert = this.#db.prepare(
        "INSERT INTO series (agent_id, metric_name, labels) VALUES (?, ?, ?)",
      );
    } catch (error) {
      this.#db.close();
      throw error;
    }
  }

  #load(): void {
    const all = prepareReturningArrays(
      this.#db,
      "SELECT id, agent_id, metric_name, labels FROM series",
    );
    for (const row of all.all() as unknown as [number, string, string, string][]) {
      const [id, agentId, metricName, labelsJson] = row;
      const labels = JSON.parse(labelsJson) as Labels;
      this.#remember(seriesIdentity(agentId, metricName, labelsJson), {
        id,
        agentId,
        metricName,
        labels,
        labelsJson,
      });
    }
  }

  get size(): number {
    return this.#byIdentity.size;
  }

  /** The entry with this id, if any. */
  byId(id: number): SeriesEntry | undefined {
    return this.#byId[id];
  }

  /**
   * Replaces the whole catalogue with `records` (id, agent, metric, canonical labels JSON) in
   * one transaction. An identity given twice keeps its highest id.
   */
  replaceAll(records: Iterable<readonly [number, string, string, string]>): void {
    const sorted = [...records].sort((a, b) => b[0] - a[0]);
    this.#db.exec("BEGIN");
    try {
      this.#db.exec("DELETE FROM series");
      const insert = this.#db.prepare(
        "INSERT OR IGNORE INTO series (id, agent_id, metric_name, labels) VALUES (?, ?, ?, ?)",
      );
      for (const [id, agentId, metricName, labelsJson] of sorted) {
        insert.run(id, agentId, metricName, labelsJson);
      }
      this.#db.exec("COMMIT");
    } catch (error) {
      if (this.#db.isTransaction) this.#db.exec("ROLLBACK");
      throw error;
    }
    this.#byIdentity.clear();
    this.#byId = [];
    this.#byAgent.clear();
    this.#sorted = undefined;
    this.#load();
  }

  get(identity: string): SeriesEntry | undefined {
    return this.#byIdentity.get(identity);
  }

  begin(): void {
    this.#db.exec("BEGIN");
  }

  commit(): void {
    this.#db.exec("COMMIT");
  }

  /** Rolls back and forgets the series added since `begin`. */
  rollback(added: readonly SeriesEntry[]): void {
    if (this.#db.isTransaction) this.#db.exec("ROLLBACK");
    for (const entry of added) {
      this.#byIdentity.delete(seriesIdentity(entry.agentId, entry.metricName, entry.labelsJson));
      this.#byId[entry.id] = undefined;
      const agent = this.#byAgent.get(entry.agentId)!;
      agent.entries = agent.entries.filter((other) => other !== entry);
      if (agent.entries.length === 0) this.#byAgent.delete(entry.agentId);
    }
    if (added.length > 0) this.#sorted = undefined;
  }

  #remember(identity: string, entry: SeriesEntry): void {
    this.#byIdentity.set(identity, entry);
    this.#byId[entry.id] = entry;
    this.#sorted = undefined;
    const agent = this.#byAgent.get(entry.agentId);
    if (agent) {
      agent.entries.push(entry);
      agent.sorted = false;
    } else {
      this.#byAgent.set(entry.agentId, { entries: [entry], sorted: true });
    }
  }

  /** Inserts a series inside the open transaction; visible in memory at once. */
  add(identity: string, agentId: string, metricName: string, labelsJson: string): SeriesEntry {
    const { lastInsertRowid } = this.#insert.run(agentId, metricName, labelsJson);
    const entry: SeriesEntry = {
      id: Number(lastInsertRowid),
      agentId,
      metricName,
      // A private copy: the caller's object may be reused for the next batch.
      labels: JSON.parse(labelsJson) as Labels,
      labelsJson,
    };
    this.#remember(identity, entry);
    return entry;
  }

  /**
   * Forgets every series whose id is not in `live` (in memory and in `index.db`): series not
   * written for longer than the retention period. Returns the forgotten entries.
   */
  retainOnly(live: ReadonlySet<number>): SeriesEntry[] {
    const gone = [...this.#byIdentity.values()].filter((entry) => !live.has(entry.id));
    if (gone.length === 0) return gone;
    const remove = this.#db.prepare("DELETE FROM series WHERE id = ?");
    this.#db.exec("BEGIN");
    try {
      for (const entry of gone) remove.run(entry.id);
      this.#db.exec("COMMIT");
    } catch (error) {
      this.#db.exec("ROLLBACK");
      throw error;
    }
    for (const entry of gone) {
      this.#byIdentity.delete(seriesIdentity(entry.agentId, entry.metricName, entry.labelsJson));
    }
    this.#sorted = undefined;
    const goneIds = new Set(gone.map((entry) => entry.id));
    for (const [agentId, agent] of this.#byAgent) {
      agent.entries = agent.entries.filter((entry) => !goneIds.has(entry.id));
      if (agent.entries.length === 0) this.#byAgent.delete(agentId);
    }
    return gone;
  }

  /** Matching series in query order (agent, metric, labels). */
  match(filter?: Omit<SeriesQuery, "fromMs" | "toMs">): SeriesEntry[] {
    let candidates: SeriesEntry[];
    if (filter?.agentId !== undefined) {
      const agent = this.#byAgent.get(filter.agentId);
      if (!agent) return [];
      if (!agent.sorted) {
        agent.entries.sort(compareSeries);
        agent.sorted = true;
      }
      candidates = agent.entries;
    } else {
      candidates = this.#sorted ??= [...this.#byIdentity.values()].sort(compareSeries);
    }
    return candidates.filter((entry) => matchesSeries(entry, filter));
  }

  close(): void {
    this.#db.close();
  }
}
