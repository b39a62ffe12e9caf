/**
 * Test helpers for the ingest tests: an in-memory `MetricStore` and `AgentRegistry` standing in
 * for our own storage (not for a protocol peer), so these tests do not depend on the storage
 * engines being built in parallel; and batch builders.
 */
import type { AgentRecord, AgentRegistry } from "../../server/agents/types.ts";
import { blocksByHour } from "../../server/storage/blocks.ts";
import { matchesSeries, sameFloat64Bits } from "../../server/storage/points.ts";
import type {
  BlockSeries,
  BucketedSeries,
  LatestSample,
  MetricStore,
  RawSeries,
  SeriesKey,
  SeriesQuery,
  StorageStats,
  WriteResult,
} from "../../server/storage/types.ts";
import type { IMetricBatchProto } from "../../shared/proto/mod.ts";
import { MetricBatchProto } from "../../shared/proto/mod.ts";
import { seriesIdentityOf } from "../../shared/series.ts";
import type { Labels, MetricDataPoint, SystemInfo } from "../../shared/types.ts";

/** Deduplicating in-memory store; `failWrites` makes `write` throw like a broken disk. */
export class MemoryStore implements MetricStore {
  readonly series = new Map<string, { key: SeriesKey; samples: Map<number, number> }>();
  failWrites = false;
  writes = 0;

  write(points: readonly MetricDataPoint[]): WriteResult {
    if (this.failWrites) throw new Error("SQLITE_FULL: database or disk is full (/data/x.db)");
    this.writes++;
    const result = { written: 0, duplicates: 0, conflicts: 0 };
    for (const point of points) {
      const id = seriesIdentityOf(point.agentId, point.metricName, point.labels);
      let entry = this.series.get(id);
      if (!entry) {
        const key = { agentId: point.agentId, metricName: point.metricName, labels: point.labels };
        entry = { key, samples: new Map() };
        this.series.set(id, entry);
      }
      const stored = entry.samples.get(point.timestampMs);
      if (stored === undefined) {
        entry.samples.set(point.timestampMs, point.value);
        result.written++;
      } else if (sameFloat64Bits(stored, point.value)) result.duplicates++;
      else result.conflicts++;
    }
    return result;
  }

  queryRaw(query: SeriesQuery): RawSeries[] {
    const out: RawSeries[] = [];
    for (const { key, samples } of this.series.values()) {
      if (!matchesSeries(key, query)) continue;
      const inRange = [...samples]
        .filter(([ts]) => ts >= query.fromMs && ts <= query.toMs)
        .sort(([a], [b]) => a - b)
        .map(([timestampMs, value]) => ({ timestampMs, value }));
      if (inRange.length > 0) out.push({ ...key, samples: inRange });
    }
    return out;
  }

  queryBlocks(query: SeriesQuery): BlockSeries[] {
    return blocksByHour(this.queryRaw(query));
  }

  queryBuckets(_query: SeriesQuery, _stepMs: number): BucketedSeries[] {
    throw new Error("not used by the ingest tests");
  }

  latest(agentId: string): LatestSample[] {
    return this.queryRaw({ agentId, fromMs: -Infinity, toMs: Infinity })
      .map(({ samples, ...key }) => ({ ...key, ...samples[samples.length - 1] }));
  }

  listSeries(filter: Omit<SeriesQuery, "fromMs" | "toMs"> = {}): SeriesKey[] {
    return [...this.series.values()].map((s) => s.key).filter((key) => matchesSeries(key, filter));
  }

  deleteBefore(): string[] {
    return [];
  }

  stats(): StorageStats {
    return { engine: "memory", seriesCount: this.series.size, partitions: [], totalBytes: 0 };
  }

  /** Every stored sample, counted. */
  sampleCount(): number {
    let count = 0;
    for (const { samples } of this.series.values()) count += samples.size;
    return count;
  }

  close(): void {}
}

export class MemoryRegistry implements AgentRegistry {
  readonly agents = new Map<string, AgentRecord>();
  failUpdates = false;

  recordSeen(agentId: string, seenMs: number, systemInfo?: SystemInfo): void {
    if (this.failUpdates) throw new Error("SQLITE_BUSY: database is locked");
    const known = this.agents.get(agentId);
    this.agents.set(agentId, {
      agentId,
      firstSeenMs: known?.firstSeenMs ?? seenMs,
      lastSeenMs: seenMs,
      systemInfo: systemInfo ?? known?.systemInfo,
    });
  }
  get(agentId: string): AgentRecord | undefined {
    return this.agents.get(agentId);
  }
  list(): AgentRecord[] {
    return [...this.agents.values()];
  }
  close(): void {}
}

/** A well-formed batch of `count` points of one agent, `ts + i` ms apart per point. */
export function makeBatch(
  agentId: string,
  count: number,
  timestampMs: number,
  options: { metric?: string; labels?: Labels; valueBase?: number } = {},
): IMetricBatchProto {
  const dataPoints = [];
  for (let i = 0; i < count; i++) {
    dataPoints.push({
      timestampMs,
      agentId,
      metricName: options.metric ?? "cpu.core_usage",
      value: (options.valueBase ?? 0) + i * 0.5,
      labels: { core: String(i), ...options.labels },
    });
  }
  return { agentId, timestampMs, dataPoints };
}

export function encodeBatch(batch: IMetricBatchProto): Uint8Array {
  return MetricBatchProto.encode(batch).finish();
}
