/**
 * The fleet at a glance: every agent's status, latest core values and sparklines, answered from
 * memory. Ingest hands every committed batch to `observe` (O(1) per point); the first summary
 * after start fills in from storage once: latest values per agent, and a range's sparklines the
 * first time that range is asked for.
 */
import type { Clock } from "../../shared/clock.ts";
import { type Logger, silentLogger } from "../../shared/log.ts";
import { MS_PER_DAY, MS_PER_HOUR, MS_PER_MINUTE } from "../../shared/time.ts";
import type { MetricDataPoint, Severity, SystemInfo } from "../../shared/types.ts";
import { severityRank } from "../../shared/types.ts";
import { agentStatus } from "../agents/status.ts";
import type { MetricStore } from "../storage/types.ts";
import { RangeRings, SPARKS } from "./_rings.ts";

/** Ranges the overview offers; each is drawn as `SPARK_POINTS` buckets. */
export const FLEET_RANGES: Readonly<Record<string, number>> = Object.freeze({
  "15m": 15 * MS_PER_MINUTE,
  "1h": MS_PER_HOUR,
  "6h": 6 * MS_PER_HOUR,
  "24h": MS_PER_DAY,
  "7d": 7 * MS_PER_DAY,
  "30d": 30 * MS_PER_DAY,
});
export const DEFAULT_FLEET_RANGE = "1h";
export const SPARK_POINTS = 30;

/** Which sparkline a metric feeds (an index into `SPARKS`). */
const SPARK_OF: Readonly<Record<string, number>> = {
  "cpu.usage": SPARKS.indexOf("cpu"),
  "memory.used_percent": SPARKS.indexOf("memory"),
  "disk.used_percent": SPARKS.indexOf("disk"),
  "network.bytes_recv": SPARKS.indexOf("network"),
  "network.bytes_sent": SPARKS.indexOf("network"),
  "system.load_1": SPARKS.indexOf("load"),
};
/** The label that tells the series of a labelled metric apart. */
const LABEL_OF: Readonly<Record<string, string>> = {
  "disk.used_percent": "mount",
  "network.bytes_recv": "interface",
  "network.bytes_sent": "interface",
};
const TRACKED = new Set([
  ...Object.keys(SPARK_OF),
  "memory.used",
  "memory.total",
  "memory.swap_percent",
  "system.load_5",
  "system.load_15",
  "system.uptime",
]);

/** Keys remembered per labelled metric (`#labelledKey`). */
const MAX_LABELLED_KEYS = 10_000;

interface Latest {
  timestampMs: number;
  value: number;
}

/** What an alert contributes to the overview. */
export interface FleetAlert {
  agentId: string;
  ruleType: string;
  severity: Severity;
  sinceMs: number;
}

export interface FleetAgentRecord {
  agentId: string;
  firstSeenMs: number;
  lastSeenMs: number;
  systemInfo?: SystemInfo;
}

export interface FleetSummaryOptions {
  store: Pick<MetricStore, "latest" | "queryBuckets">;
  /** Every known agent (the registry). */
  agents: () => readonly FleetAgentRecord[];
  clock: Clock;
  /** An agent not seen for 3 collection intervals is inactive. */
  agentIntervalSecs: number;
  /** What is firing now: counted per agent; a firing `agent_absent` makes an agent absent. */
  activeAlerts?: () => readonly FleetAlert[];
  log?: Logger;
}

export interface FleetAgentSummary {
  agent_id: string;
  status: "active" | "inactive" | "absent";
  absent_since: number | null;
  first_seen: number;
  last_seen: number;
  hostname: string | null;
  os: string | null;
  cpu_cores: number | null;
  cpu: number | null;
  memory: { percent: number | null; used: number | null; total: number | null } | null;
  swap_percent: number | null;
  disk: { percent: number; mount: string } | null;
  network: { recv: number; sent: number } | null;
  load: { load_1: number | null; load_5: number | null; load_15: number | null } | null;
  uptime_secs: number | null;
  alerts: { firing: number; severity: Severity | null };
  spark: Record<string, (number | null)[]>;
}

export interface FleetSnapshot {
  range: string;
  /** Start of the first bucket, epoch ms. */
  from: number;
  to: number;
  step_secs: number;
  /** Agents in the fleet; `agents` holds the requested page of them, by agent id. */
  total: number;
  agents: FleetAgentSummary[];
}

/** Which agents of the fleet, sorted by id, a summary covers. */
export interface FleetPage {
  limit: number;
  offset: number;
}

/** Three significant figures or so: a sparkline is 20 pixels tall. */
function trim(value: number): number {
  const magnitude = Math.abs(value);
  if (magnitude >= 100) return Math.round(value);
  if (magnitude >= 1) return Math.round(value * 100) / 100;
  return Math.round(value * 10_000) / 10_000;
}

export class FleetSummary {
  readonly #options: FleetSummaryOptions;
  readonly #log: Logger;
  /** agent → `metric` or `metric \0 label value` → newest sample. */
  readonly #latest = new Map<string, Map<string, Latest>>();
  readonly #rings = new Map<string, RangeRings>();
  readonly #primed = new Set<string>();
  readonly #labelledKeys = new Map<string, Map<string, string>>();

  constructor(options: FleetSummaryOptions) {
    this.#options = options;
    this.#log = options.log ?? silentLogger;
  }

  /** Takes committed points (ingest's `onCommitted`). Points not newer than the last are skipped. */
  observe(points: readonly MetricDataPoint[]): void {
    let agentId: string | undefined;
    let latest: Map<string, Latest> | undefined;
    for (const point of points) {
      if (!TRACKED.has(point.metricName)) continue;
      if (point.agentId !== agentId) {
        agentId = point.agentId;
        latest = this.#latestOf(agentId);
      }
      const label = LABEL_OF[point.metricName];
      const key = label === undefined
        ? point.metricName
        : this.#labelledKey(point.metricName, point.labels[label] ?? "");
      const previous = latest!.get(key);
      if (previous === undefined) {
        latest!.set(key, { timestampMs: point.timestampMs, value: point.value });
      } else if (point.timestampMs > previous.timestampMs) {
        // Updated in place: a new object per point would live about a second, long enough to
        // be promoted, and then fill the old generation with garbage at 3,000 agents.
        previous.timestampMs = point.timestampMs;
        previous.value = point.value;
      } else continue; // a retry, or late
      const spark = SPARK_OF[point.metricName];
      if (spark === undefined) continue;
      for (const rings of this.#rings.values()) {
        rings.add(agentId, spark, point.timestampMs, point.value);
      }
    }
  }

  /**
   * Agents with status, latest values and sparklines over `range` (a `FLEET_RANGES` key): all of
   * them, or the `page` of them in agent id order.
   */
  summary(range: string = DEFAULT_FLEET_RANGE, page?: FleetPage): FleetSnapshot {
    const spanMs = FLEET_RANGES[range];
    if (spanMs === undefined) {
      throw new RangeError(
        `Cannot summarise the fleet over "${range}": expected one of ${
          Object.keys(FLEET_RANGES).join(", ")
        }`,
      );
    }
    const nowMs = this.#options.clock.now();
    const all = [...this.#options.agents()].sort((a, b) =>
      a.agentId < b.agentId ? -1 : a.agentId > b.agentId ? 1 : 0
    );
    const agents = page ? all.slice(page.offset, page.offset + page.limit) : all;
    this.#prime(agents);
    const stepMs = spanMs / SPARK_POINTS;
    const lastIndex = Math.floor(nowMs / stepMs);
    const firstIndex = lastIndex - SPARK_POINTS + 1;
    const rings = this.#ringsFor(range, stepMs, firstIndex, nowMs);

    const alertsByAgent = new Map<string, FleetAlert[]>();
    for (const alert of this.#options.activeAlerts?.() ?? []) {
      const list = alertsByAgent.get(alert.agentId);
      if (list) list.push(alert);
      else alertsByAgent.set(alert.agentId, [alert]);
    }
    const inactiveAfterMs = 3 * this.#options.agentIntervalSecs * 1000;
    return {
      range,
      from: firstIndex * stepMs,
      to: nowMs,
      step_secs: stepMs / 1000,
      total: all.length,
      agents: agents.map((agent) => {
        const alerts = alertsByAgent.get(agent.agentId) ?? [];
        const absent = alerts.find((alert) => alert.ruleType === "agent_absent");
        const spark: Record<string, (number | null)[]> = {};
        for (let index = 0; index < SPARKS.length; index++) {
          spark[SPARKS[index]] = rings.read(agent.agentId, index, firstIndex, lastIndex)
            .map((value) => value === null ? null : trim(value));
        }
        let severity: Severity | null = null;
        for (const alert of alerts) {
          if (severity === null || severityRank(alert.severity) > severityRank(severity)) {
            severity = alert.severity;
          }
        }
        return {
          agent_id: agent.agentId,
          status: absent
            ? "absent"
            : agentStatus(agent.lastSeenMs, nowMs, this.#options.agentIntervalSecs),
          absent_since: absent ? absent.sinceMs : null,
          first_seen: agent.firstSeenMs,
          last_seen: agent.lastSeenMs,
          hostname: agent.systemInfo?.hostname ?? null,
          os: agent.systemInfo
            ? [agent.systemInfo.os, agent.systemInfo.osVersion].filter(Boolean).join(" ")
            : null,
          cpu_cores: agent.systemInfo?.cpuCores ?? null,
          ...this.#now(agent.agentId, inactiveAfterMs),
          alerts: { firing: alerts.length, severity },
          spark,
        };
      }),
    };
  }

  /** Latest core values; labelled series count only when reported with the newest round. */
  #now(agentId: string, staleMs: number) {
    const latest = this.#latest.get(agentId) ?? new Map<string, Latest>();
    const value = (key: string) => latest.get(key)?.value ?? null;
    let newest = -Infinity;
    for (const sample of latest.values()) newest = Math.max(newest, sample.timestampMs);
    let disk: { percent: number; mount: string } | null = null;
    let recv: number | null = null;
    let sent: number | null = null;
    for (const [key, sample] of latest) {
      const split = key.indexOf("\0");
      if (split < 0 || sample.timestampMs < newest - staleMs) continue;
      const metric = key.slice(0, split);
      if (metric === "disk.used_percent") {
        if (!disk || sample.value > disk.percent) {
          disk = { percent: sample.value, mount: key.slice(split + 1) };
        }
      } else if (metric === "network.bytes_recv") recv = (recv ?? 0) + sample.value;
      else if (metric === "network.bytes_sent") sent = (sent ?? 0) + sample.value;
    }
    const percent = value("memory.used_percent");
    const used = value("memory.used");
    const total = value("memory.total");
    const load1 = value("system.load_1");
    const load5 = value("system.load_5");
    const load15 = value("system.load_15");
    return {
      cpu: value("cpu.usage"),
      memory: percent === null && used === null && total === null ? null : { percent, used, total },
      swap_percent: value("memory.swap_percent"),
      disk,
      network: recv === null && sent === null ? null : { recv: recv ?? 0, sent: sent ?? 0 },
      load: load1 === null && load5 === null && load15 === null
        ? null
        : { load_1: load1, load_5: load5, load_15: load15 },
      uptime_secs: value("system.uptime"),
    };
  }

  /**
   * `metric \0 label value`, made once per pair: concatenated per point (and flattened again by
   * the map lookup), it was most of what `observe` allocated. Bounded: mounts and interfaces
   * repeat across agents, but nothing stops an agent from sending a new one every time.
   */
  #labelledKey(metricName: string, labelValue: string): string {
    let keys = this.#labelledKeys.get(metricName);
    if (keys === undefined) this.#labelledKeys.set(metricName, keys = new Map());
    let key = keys.get(labelValue);
    if (key === undefined) {
      if (keys.size >= MAX_LABELLED_KEYS) keys.clear();
      keys.set(labelValue, key = metricName + "\0" + labelValue);
    }
    return key;
  }

  #latestOf(agentId: string): Map<string, Latest> {
    let latest = this.#latest.get(agentId);
    if (!latest) {
      latest = new Map();
      this.#latest.set(agentId, latest);
    }
    return latest;
  }

  /** Latest values of agents not read from storage yet (once per agent after start). */
  #prime(agents: readonly FleetAgentRecord[]): void {
    const started = performance.now();
    let primed = 0;
    for (const agent of agents) {
      if (this.#primed.has(agent.agentId)) continue;
      this.#primed.add(agent.agentId);
      primed++;
      const latest = this.#latestOf(agent.agentId);
      for (const sample of this.#options.store.latest(agent.agentId)) {
        if (!TRACKED.has(sample.metricName)) continue;
        const label = LABEL_OF[sample.metricName];
        const key = label === undefined
          ? sample.metricName
          : sample.metricName + "\0" + (sample.labels[label] ?? "");
        const known = latest.get(key);
        if (!known || known.timestampMs < sample.timestampMs) {
          latest.set(key, { timestampMs: sample.timestampMs, value: sample.value });
        }
      }
    }
    if (primed > 0) {
      this.#log.debug("fleet summary read latest values from storage", {
        agents: primed,
        ms: Math.round(performance.now() - started),
      });
    }
  }

  /** The range's rings, filled from storage the first time the range is asked for. */
  #ringsFor(range: string, stepMs: number, firstIndex: number, nowMs: number): RangeRings {
    let rings = this.#rings.get(range);
    if (rings) return rings;
    const started = performance.now();
    rings = new RangeRings(stepMs, SPARK_POINTS + 1);
    const query = { fromMs: firstIndex * stepMs, toMs: nowMs };
    const store = this.#options.store;
    for (const [metricName, spark] of Object.entries(SPARK_OF)) {
      if (metricName.startsWith("network.")) continue;
      for (const series of store.queryBuckets({ ...query, metricName }, stepMs)) {
        for (const bucket of series.buckets) {
          const sum = SPARKS[spark] === "disk" ? bucket.max : bucket.avg * bucket.count;
          rings.addBucket(series.agentId, spark, bucket.timestampMs, sum, bucket.count);
        }
      }
    }
    // Network: per agent and bucket, the sum over interfaces (and directions) of their means.
    const network = new Map<string, Map<number, { sum: number; rounds: number }>>();
    for (const metricName of ["network.bytes_recv", "network.bytes_sent"]) {
      for (const series of store.queryBuckets({ ...query, metricName }, stepMs)) {
        let byBucket = network.get(series.agentId);
        if (!byBucket) network.set(series.agentId, byBucket = new Map());
        for (const bucket of series.buckets) {
          const total = byBucket.get(bucket.timestampMs);
          if (total) {
            total.sum += bucket.avg;
            total.rounds = Math.max(total.rounds, bucket.count);
          } else byBucket.set(bucket.timestampMs, { sum: bucket.avg, rounds: bucket.count });
        }
      }
    }
    const networkSpark = SPARKS.indexOf("network");
    for (const [agentId, byBucket] of network) {
      for (const [timestampMs, { sum, rounds }] of byBucket) {
        rings.addBucket(agentId, networkSpark, timestampMs, sum * rounds, rounds);
      }
    }
    this.#rings.set(range, rings);
    this.#log.debug("fleet sparklines read from storage", {
      range,
      ms: Math.round(performance.now() - started),
    });
    return rings;
  }
}
