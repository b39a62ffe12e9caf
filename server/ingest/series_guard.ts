/**
 * Cardinality limits, applied before a batch is committed: most series per agent, most series
 * in total, and most new series per agent per minute. One agent inventing a label value per
 * sample (100k new series in a second) would otherwise grow memory and `index.db` without bound.
 *
 * Points of series already known always pass. Points of a new series beyond a limit are not
 * stored: they are counted (per agent) and said in the reply; when nothing of a batch could be
 * stored the reply is RESOURCE_EXHAUSTED, so an agent retries later (a per-minute limit frees up;
 * the batch's known series were never the problem).
 *
 * Series are remembered as 53-bit hashes of their identity (a few tens of bytes each), seeded
 * from storage at start and re-synced after retention; a hash collision can only let a new
 * series pass as known, never refuse a known one.
 */
import type { MetricBatch, MetricDataPoint } from "../../shared/types.ts";
import type { SeriesKey } from "../storage/types.ts";

export interface SeriesLimits {
  maxSeriesPerAgent: number;
  maxSeriesTotal: number;
  maxNewSeriesPerAgentPerMinute: number;
}

export const DEFAULT_SERIES_LIMITS: Readonly<SeriesLimits> = Object.freeze({
  maxSeriesPerAgent: 10_000,
  maxSeriesTotal: 1_000_000,
  maxNewSeriesPerAgentPerMinute: 1_000,
});

/**
 * The hash's two 32-bit halves while a point is hashed: in a typed array, as a module-level
 * number outside the small-integer range would be boxed on every write.
 */
const state = new Int32Array(2);

function mix(code: number): void {
  state[0] = Math.imul(state[0] ^ code, 2654435761);
  state[1] = Math.imul(state[1] ^ code, 1597334677);
}

function mixText(text: string): void {
  mix(text.length);
  for (let i = 0; i < text.length; i++) mix(text.charCodeAt(i));
}

/**
 * Label names of the point being hashed, sorted; reused (hashing is synchronous) and never
 * truncated, since setting an array's length to 0 drops its backing store.
 */
const labelNames: string[] = [];

/**
 * cyrb53 (a fast, well-spread 53-bit hash; not for security, for set membership) of a series'
 * identity, fed the identity's parts as they are instead of one string built per point: that
 * string (canonical labels JSON, then the identity) was most of what ingest allocated per point.
 * Each part is preceded by its length, so no two different series feed the same sequence (as
 * the JSON identity is unambiguous); labels go in sorted key order, so their insertion order
 * does not matter (as in `canonicalLabelsJson`).
 */
function identityHash(point: { agentId: string; metricName: string; labels?: object }): number {
  state[0] = 0xdeadbeef;
  state[1] = 0x41c6ce57;
  mixText(point.agentId);
  mixText(point.metricName);
  const labels = (point.labels ?? {}) as Record<string, string>;
  let count = 0;
  for (const name in labels) {
    if (!Object.hasOwn(labels, name)) continue;
    // Insertion sort: a handful of names, and no array or comparator allocated per point.
    let at = count++;
    while (at > 0 && labelNames[at - 1] > name) {
      labelNames[at] = labelNames[at - 1];
      at--;
    }
    labelNames[at] = name;
  }
  mix(count);
  for (let i = 0; i < count; i++) {
    mixText(labelNames[i]);
    mixText(labels[labelNames[i]]);
  }
  let h1 = state[0];
  let h2 = state[1];
  h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507) ^ Math.imul(h2 ^ (h2 >>> 13), 3266489909);
  h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507) ^ Math.imul(h1 ^ (h1 >>> 13), 3266489909);
  return 4294967296 * (2097151 & h2) + (h1 >>> 0);
}

export type SeriesLimitName =
  | "max_series_per_agent"
  | "max_series_total"
  | "max_new_series_per_agent_per_minute";

export interface Admission {
  /** The batch with only the points that may be stored. */
  batch: MetricBatch;
  /** Points left out, and of how many new series, and the first limit that left them out. */
  refusedPoints: number;
  refusedSeries: number;
  limit?: SeriesLimitName;
  /** Series admitted by this batch, to forget again if its commit fails. */
  added: readonly { agentId: string; hash: number }[];
}

interface AgentSeries {
  hashes: Set<number>;
  windowStartMs: number;
  newInWindow: number;
  refusedPoints: number;
}

export class SeriesGuard {
  readonly #limits: SeriesLimits;
  #agents = new Map<string, AgentSeries>();
  #total = 0;

  constructor(limits: SeriesLimits, known: Iterable<SeriesKey> = []) {
    this.#limits = limits;
    this.resync(known);
  }

  /** Replaces what is known by `known` (e.g. after retention removed series). Keeps counters. */
  resync(known: Iterable<SeriesKey>): void {
    const previous = this.#agents;
    this.#agents = new Map();
    this.#total = 0;
    for (const key of known) {
      const agent = this.#agent(key.agentId);
      const hash = identityHash(key);
      if (!agent.hashes.has(hash)) {
        agent.hashes.add(hash);
        this.#total++;
      }
    }
    for (const [agentId, old] of previous) {
      const agent = this.#agent(agentId);
      agent.refusedPoints = old.refusedPoints;
      agent.windowStartMs = old.windowStartMs;
      agent.newInWindow = old.newInWindow;
    }
  }

  #agent(agentId: string): AgentSeries {
    let agent = this.#agents.get(agentId);
    if (!agent) {
      agent = { hashes: new Set(), windowStartMs: -Infinity, newInWindow: 0, refusedPoints: 0 };
      this.#agents.set(agentId, agent);
    }
    return agent;
  }

  get total(): number {
    return this.#total;
  }

  /** Decides which points of `batch` may be stored; new series admitted are remembered. */
  admit(batch: MetricBatch, nowMs: number): Admission {
    const agent = this.#agent(batch.agentId);
    if (nowMs - agent.windowStartMs >= 60_000) {
      agent.windowStartMs = nowMs;
      agent.newInWindow = 0;
    }
    const limits = this.#limits;
    const added: { agentId: string; hash: number }[] = [];
    const refusedHashes = new Set<number>();
    let limit: SeriesLimitName | undefined;
    let kept: MetricDataPoint[] | undefined;
    let refusedPoints = 0;
    const points = batch.dataPoints;
    for (let i = 0; i < points.length; i++) {
      const hash = identityHash(points[i]);
      let refused = refusedHashes.has(hash);
      if (!refused && !agent.hashes.has(hash)) {
        const over: SeriesLimitName | undefined = agent.hashes.size >= limits.maxSeriesPerAgent
          ? "max_series_per_agent"
          : this.#total >= limits.maxSeriesTotal
          ? "max_series_total"
          : agent.newInWindow >= limits.maxNewSeriesPerAgentPerMinute
          ? "max_new_series_per_agent_per_minute"
          : undefined;
        if (over) {
          refused = true;
          refusedHashes.add(hash);
          limit ??= over;
        } else {
          agent.hashes.add(hash);
          agent.newInWindow++;
          this.#total++;
          added.push({ agentId: batch.agentId, hash });
        }
      }
      if (refused) {
        refusedPoints++;
        kept ??= points.slice(0, i);
      } else kept?.push(points[i]);
    }
    agent.refusedPoints += refusedPoints;
    return {
      batch: kept ? { ...batch, dataPoints: kept } : batch,
      refusedPoints,
      refusedSeries: refusedHashes.size,
      limit,
      added,
    };
  }

  /** Forgets series admitted by a batch whose commit failed. */
  forget(added: readonly { agentId: string; hash: number }[]): void {
    for (const { agentId, hash } of added) {
      const agent = this.#agents.get(agentId);
      if (agent?.hashes.delete(hash)) {
        this.#total--;
        agent.newInWindow = Math.max(0, agent.newInWindow - 1);
      }
    }
  }

  /** Points refused per agent since start, most first (at most `max` agents). */
  refusedByAgent(max = 100): Record<string, number> {
    const entries = [...this.#agents].filter(([, agent]) => agent.refusedPoints > 0)
      .sort((a, b) => b[1].refusedPoints - a[1].refusedPoints)
      .slice(0, max);
    return Object.fromEntries(entries.map(([id, agent]) => [id, agent.refusedPoints]));
  }
}

/** What a reply says of points a limit left out. */
export function limitMessage(admission: Admission, limits: SeriesLimits): string {
  const value = admission.limit === "max_series_per_agent"
    ? limits.maxSeriesPerAgent
    : admission.limit === "max_series_total"
    ? limits.maxSeriesTotal
    : limits.maxNewSeriesPerAgentPerMinute;
  return `${admission.refusedPoints} points of ${admission.refusedSeries} new series refused: ` +
    `ingest.${admission.limit} (${value}) reached`;
}
