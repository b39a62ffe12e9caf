/**
 * The `ReportMetrics` logic, independent of the transport: request bytes and metadata in, a gRPC
 * status out. The order is the contract: authenticate, decode, validate, commit to storage, record
 * the agent, and only then report success and tell `onCommitted` (the alert engine's hook).
 */
import type { Clock } from "../../shared/clock.ts";
import { clip, type Logger } from "../../shared/log.ts";
import type { MetricBatch, MetricDataPoint } from "../../shared/types.ts";
import {
  type DecodedMetricBatch,
  decodeMetricBatch,
  GrpcStatus,
  type MetricBatchMessage,
  TooManyPointsError,
} from "../../shared/wire/mod.ts";
import type { AgentRegistry } from "../agents/types.ts";
import type { IngestLimits } from "../config.ts";
import { AgentAuthenticator, type AgentIdentity } from "../auth/agent_auth.ts";
import { sha256Hex } from "../auth/tokens.ts";
import {
  type Admission,
  limitMessage,
  type SeriesGuard,
  type SeriesLimits,
} from "./series_guard.ts";
import type { MetricStore, WriteResult } from "../storage/types.ts";
import { BatchValidationError, tooManyPoints, validateBatch } from "./validate.ts";

export interface IngestMetadata {
  /** The `authorization` metadata, e.g. `Bearer s3cret`. */
  authorization?: string;
  /** The `agent-id` metadata the original agent sends; used for logging only. */
  agentId?: string;
  /** Names of a verified client certificate (mutual TLS), set by the gRPC listener. */
  certificateNames?: readonly string[];
}

/** One request of a group handled together (`IngestService.handleMany`). */
export interface IngestRequest {
  /** Valid only while the request is handled (a view of a read buffer): copy to keep. */
  bytes: Uint8Array;
  metadata?: IngestMetadata;
}

export interface IngestResult {
  /** gRPC status code: `OK` (0) when the batch is committed. */
  code: number;
  message: string;
  success: boolean;
}

/**
 * Counters since start, named as the health endpoint shows them (a type, not an interface, so it
 * is a `Record<string, number>`).
 */
export type IngestStats = {
  batches_accepted: number;
  /** Refused: unauthenticated, undecodable or invalid. */
  batches_rejected: number;
  /** Storage failed: nothing acknowledged, the agent retries. */
  batches_failed: number;
  points_accepted: number;
  points_rejected: number;
  /** Of the accepted points, already stored (retried batches). */
  points_duplicate: number;
  /** Of the accepted points, refused by storage: a different value at a stored timestamp. */
  points_conflict: number;
  /** Samples storage refused as older than its age limit (the retention period). */
  points_too_old: number;
  /** Of the rejected batches, those without an accepted bearer token. */
  unauthenticated: number;
  /** Of the rejected batches, those for an agent id their credential does not cover. */
  permission_denied: number;
  /** Points of new series left out by a cardinality limit (`ingest.max_series_*`). */
  points_series_limited: number;
  /** Samples the server made itself (certificate and check results), committed by `commitLocal`. */
  local_points: number;
};

export interface IngestServiceOptions {
  store: MetricStore;
  registry: AgentRegistry;
  limits: IngestLimits;
  /**
   * Who may write as which agent. Default: built from `agentTokens` (each token any agent id;
   * empty: no authentication).
   */
  authenticator?: AgentAuthenticator;
  /** Accepted bearer tokens for any agent id (the original flat list); ignored with `authenticator`. */
  agentTokens?: readonly string[];
  retentionDays: number;
  clock: Clock;
  log: Logger;
  /** Cardinality limits; without it, none. */
  series?: { guard: SeriesGuard; limits: SeriesLimits };
  /** Called after each commit; an exception in it is logged and never fails the batch. */
  onCommitted?: (points: readonly MetricDataPoint[]) => void;
}

export class IngestService {
  readonly #store: MetricStore;
  readonly #registry: AgentRegistry;
  readonly #limits: IngestLimits;
  readonly #retentionDays: number;
  readonly #clock: Clock;
  readonly #log: Logger;
  readonly #onCommitted?: (points: readonly MetricDataPoint[]) => void;
  readonly #auth: AgentAuthenticator;
  readonly #series?: { guard: SeriesGuard; limits: SeriesLimits };
  /** What the series guard left out of a batch on its way to the commit. */
  readonly #admissions = new WeakMap<MetricBatch, Admission>();
  #lastRefusalLogMs = -Infinity;
  #suppressedRefusals = 0;
  readonly #counters: IngestStats = {
    batches_accepted: 0,
    batches_rejected: 0,
    batches_failed: 0,
    points_accepted: 0,
    points_rejected: 0,
    points_duplicate: 0,
    points_conflict: 0,
    points_too_old: 0,
    unauthenticated: 0,
    permission_denied: 0,
    points_series_limited: 0,
    local_points: 0,
  };

  constructor(options: IngestServiceOptions) {
    if (!Number.isInteger(options.retentionDays) || options.retentionDays < 1) {
      throw new RangeError(
        `Cannot create the ingest service: retentionDays must be a positive integer, got ${options.retentionDays}`,
      );
    }
    this.#store = options.store;
    this.#registry = options.registry;
    this.#limits = options.limits;
    this.#retentionDays = options.retentionDays;
    this.#clock = options.clock;
    this.#log = options.log;
    this.#onCommitted = options.onCommitted;
    this.#series = options.series;
    this.#auth = options.authenticator ?? new AgentAuthenticator({
      tokens: (options.agentTokens ?? []).map((token, index) => ({
        name: `agent_tokens[${index}]`,
        sha256: sha256Hex(token),
        agents: null,
      })),
    });
  }

  /**
   * Judges credentials from a call's headers alone (before its body is read): undefined when
   * they are accepted, the UNAUTHENTICATED refusal otherwise (counted as `#check` counts it).
   */
  authenticate(metadata: IngestMetadata): IngestResult | undefined {
    const auth = this.#auth.authenticate(metadata);
    if (auth.ok) return undefined;
    return this.#unauthenticated(metadata, auth);
  }

  #unauthenticated(metadata: IngestMetadata, auth: { reason: string; message: string }) {
    this.#counters.unauthenticated++;
    this.#counters.batches_rejected++;
    this.#logRefusal("ingest refused: unauthenticated", {
      agent_id: clip(metadata.agentId ?? ""),
      reason: auth.reason,
    });
    return { code: GrpcStatus.UNAUTHENTICATED, message: auth.message, success: false };
  }

  /**
   * Refusals are logged at most once a second, with how many were not: a stranger hammering the
   * port must not fill the disk with log lines (the counters in health count every one).
   */
  #logRefusal(message: string, fields: Record<string, unknown>): void {
    const nowMs = this.#clock.now();
    if (nowMs - this.#lastRefusalLogMs < 1_000) {
      this.#suppressedRefusals++;
      return;
    }
    this.#lastRefusalLogMs = nowMs;
    const suppressed = this.#suppressedRefusals;
    this.#suppressedRefusals = 0;
    this.#log.warn(message, suppressed ? { ...fields, suppressed_since_last: suppressed } : fields);
  }

  /** A snapshot of the counters. */
  stats(): IngestStats {
    return { ...this.#counters };
  }

  /**
   * Handles one `ReportMetrics` request. Synchronous because storage is: when this returns OK,
   * the batch is committed.
   */
  handle(requestBytes: Uint8Array, metadata: IngestMetadata = {}): IngestResult {
    return this.handleMany([{ bytes: requestBytes, metadata }])[0];
  }

  /**
   * Handles requests that arrived together, with one commit (group commit): each is
   * authenticated, decoded and validated on its own — a refused one never reaches storage —
   * and the points of all accepted ones go to storage in one `write`, in arrival order (so a
   * sample sent twice keeps its first value, as with separate writes). Results are in request
   * order; when this returns, every OK one is committed. If the group write fails, the batches
   * are written one by one, so storage refusing one batch does not fail the others.
   */
  handleMany(requests: readonly IngestRequest[]): IngestResult[] {
    const results: IngestResult[] = new Array(requests.length);
    const accepted: { index: number; batch: MetricBatch }[] = [];
    const nowMs = this.#clock.now();
    for (let i = 0; i < requests.length; i++) {
      const checked = this.#check(requests[i].bytes, requests[i].metadata ?? {}, nowMs);
      if ("code" in checked) results[i] = checked;
      else accepted.push({ index: i, batch: checked });
    }
    if (accepted.length === 1) {
      results[accepted[0].index] = this.#commit(accepted[0].batch, nowMs);
    } else if (accepted.length > 1) {
      this.#commitGroup(accepted, results, nowMs);
    }
    return results;
  }

  /**
   * Batches another protocol has already decoded (Prometheus remote write: one batch per agent
   * of the request), through the same authentication, validation, commit, agent registration
   * and `onCommitted` as gRPC batches, all or nothing: one invalid batch refuses the request and
   * nothing of it is stored. A refusal names the batch (`refusedBatch`) and the field.
   */
  handleDecoded(
    batches: readonly MetricBatchMessage[],
    metadata: IngestMetadata = {},
  ): IngestResult & { refusedBatch?: number; field?: string } {
    const nowMs = this.#clock.now();
    const auth = this.#auth.authenticate(metadata);
    if (!auth.ok) return this.#unauthenticated(metadata, auth);
    const accepted: { index: number; batch: MetricBatch }[] = [];
    for (let index = 0; index < batches.length; index++) {
      try {
        const batch = validateBatch(batches[index], this.#limits, nowMs, this.#retentionDays);
        // Each batch is one agent's: the credential must cover every one, or none is stored.
        const authorized = this.#authorize(batch, auth.identity);
        if ("code" in authorized) return { ...authorized, refusedBatch: index, field: "agent_id" };
        const admitted = this.#admit(authorized, nowMs);
        if ("code" in admitted) continue; // Over a cardinality limit: counted, said in the log.
        accepted.push({ index, batch: admitted });
      } catch (error) {
        if (!(error instanceof BatchValidationError)) throw error;
        const points = batches.reduce((sum, batch) => sum + (batch.dataPoints?.length ?? 0), 0);
        return {
          ...this.#reject(metadata, points, error.message),
          refusedBatch: index,
          field: error.field,
        };
      }
    }
    if (accepted.length === 0) {
      return { code: GrpcStatus.OK, message: "nothing to store", success: true };
    }
    if (accepted.length === 1) return this.#commit(accepted[0].batch, nowMs);
    const results: IngestResult[] = new Array(accepted.length);
    this.#commitGroup(accepted.map(({ batch }, index) => ({ index, batch })), results, nowMs);
    return results.find((result) => !result.success) ?? {
      code: GrpcStatus.OK,
      message: `stored ${accepted.length} batches`,
      success: true,
    };
  }

  /**
   * Commits samples the server made itself (certificate checks, server-side checks, heartbeats):
   * no authentication, decoding, validation or agent registration — the server built them — but
   * the same storage write and the same `onCommitted` feed as an agent's batch, so they are
   * stored, queried and alerted on alike. Throws what storage throws.
   */
  commitLocal(points: readonly MetricDataPoint[]): WriteResult {
    if (points.length === 0) return { written: 0, duplicates: 0, conflicts: 0 };
    const written = this.#store.write(points);
    this.#counters.local_points += points.length;
    this.#counters.points_conflict += written.conflicts;
    if (this.#onCommitted) {
      try {
        this.#onCommitted(points);
      } catch (error) {
        this.#log.error("onCommitted hook failed", { agent_id: points[0].agentId, error });
      }
    }
    return written;
  }

  /** Authenticates, decodes and validates: the batch to store, or the refusal to send. */
  #check(
    requestBytes: Uint8Array,
    metadata: IngestMetadata,
    nowMs: number,
  ): MetricBatch | IngestResult {
    const auth = this.#auth.authenticate(metadata);
    if (!auth.ok) return this.#unauthenticated(metadata, auth);

    let decoded: DecodedMetricBatch;
    try {
      decoded = decodeMetricBatch(requestBytes, { maxPoints: this.#limits.maxPointsPerBatch });
    } catch (error) {
      if (error instanceof TooManyPointsError) {
        // Said as validation says it, as if the points had been decoded.
        const { message } = tooManyPoints(error.points, error.maxPoints);
        return this.#reject(metadata, error.points, message);
      }
      // A malformed request is the client's fault; anything else is ours (INTERNAL).
      if (!(error instanceof RangeError)) throw error;
      return this.#reject(
        metadata,
        0,
        `request: cannot decode MetricBatchProto: ${(error as Error).message}`,
      );
    }

    let batch: MetricBatch;
    try {
      // The decoded points are this request's alone: validated into the batch's points in place.
      batch = validateBatch(decoded, this.#limits, nowMs, this.#retentionDays, { inPlace: true });
    } catch (error) {
      if (!(error instanceof BatchValidationError)) throw error;
      return this.#reject(metadata, decoded.dataPoints.length, error.message);
    }
    const authorized = this.#authorize(batch, auth.identity);
    if ("code" in authorized) return authorized;
    return this.#admit(authorized, nowMs);
  }

  /** The batch with the points cardinality limits let through; RESOURCE_EXHAUSTED for none. */
  #admit(batch: MetricBatch, nowMs: number): MetricBatch | IngestResult {
    if (!this.#series) return batch;
    const admission = this.#series.guard.admit(batch, nowMs);
    if (admission.refusedPoints === 0) return batch;
    this.#counters.points_series_limited += admission.refusedPoints;
    const message = limitMessage(admission, this.#series.limits);
    this.#logRefusal("ingest: new series over a cardinality limit", {
      agent_id: clip(batch.agentId),
      limit: admission.limit,
      points: admission.refusedPoints,
      series: admission.refusedSeries,
    });
    if (admission.batch.dataPoints.length === 0) {
      this.#counters.batches_rejected++;
      this.#counters.points_rejected += admission.refusedPoints;
      return {
        code: GrpcStatus.RESOURCE_EXHAUSTED,
        message: `${message}; nothing of the batch was stored`,
        success: false,
      };
    }
    this.#admissions.set(admission.batch, admission);
    return admission.batch;
  }

  /** The batch, if its credential may write as its agent id; PERMISSION_DENIED otherwise. */
  #authorize(batch: MetricBatch, identity: AgentIdentity): MetricBatch | IngestResult {
    if (identity.covers(batch.agentId)) return batch;
    this.#counters.permission_denied++;
    this.#counters.batches_rejected++;
    this.#counters.points_rejected += batch.dataPoints.length;
    this.#logRefusal("ingest refused: agent id not covered by the credential", {
      agent_id: clip(batch.agentId),
      credential: clip(identity.name),
    });
    return {
      code: GrpcStatus.PERMISSION_DENIED,
      message: `agent_id: this credential may not write as "${clip(batch.agentId)}"`,
      success: false,
    };
  }

  /** Writes one batch; then records the agent and tells `onCommitted`. */
  #commit(batch: MetricBatch, nowMs: number): IngestResult {
    const points = batch.dataPoints;
    let written;
    try {
      written = this.#store.write(points);
    } catch (error) {
      this.#counters.batches_failed++;
      const admission = this.#admissions.get(batch);
      if (admission) this.#series?.guard.forget(admission.added);
      this.#log.error("ingest failed: storage write", {
        agent_id: batch.agentId,
        points: points.length,
        error,
      });
      return {
        code: GrpcStatus.UNAVAILABLE,
        message: "storage is unavailable; the batch was not stored, retry later",
        success: false,
      };
    }
    this.#counted(written, 1, points.length, batch.agentId);
    this.#afterCommit(batch, nowMs);
    let message = `stored ${written.written} of ${points.length} points`;
    if (written.duplicates > 0) message += `, ${written.duplicates} already stored`;
    if (written.conflicts > 0) {
      message += `, ${written.conflicts} refused (another value is stored at that timestamp)`;
    }
    if (written.tooOld) message += `, ${written.tooOld} refused as older than retention`;
    return { code: GrpcStatus.OK, message: this.#withLimitNote(batch, message), success: true };
  }

  #withLimitNote(batch: MetricBatch, message: string): string {
    const admission = this.#admissions.get(batch);
    return admission && this.#series
      ? `${message}; ${limitMessage(admission, this.#series.limits)}`
      : message;
  }

  /** One `write` for several accepted batches; one by one if it fails. */
  #commitGroup(
    accepted: readonly { index: number; batch: MetricBatch }[],
    results: IngestResult[],
    nowMs: number,
  ): void {
    let total = 0;
    for (const { batch } of accepted) total += batch.dataPoints.length;
    // Sized once: grown by push, the array was reallocated several times per group.
    const points: MetricDataPoint[] = new Array(total);
    let at = 0;
    for (const { batch } of accepted) {
      for (const point of batch.dataPoints) points[at++] = point;
    }
    let written;
    try {
      written = this.#store.write(points);
    } catch (error) {
      this.#log.warn("ingest: group write failed; writing its batches one by one", {
        batches: accepted.length,
        points: points.length,
        error,
      });
      for (const { index, batch } of accepted) results[index] = this.#commit(batch, nowMs);
      return;
    }
    this.#counted(
      written,
      accepted.length,
      points.length,
      () => accepted.map(({ batch }) => batch.agentId).join(","),
    );
    // Storage counts duplicates and conflicts for the whole write, not per batch: a batch's
    // reply can say how many of its points were new only when the group has none of either.
    const exact = written.duplicates === 0 && written.conflicts === 0 && !written.tooOld;
    for (const { index, batch } of accepted) {
      this.#afterCommit(batch, nowMs);
      const count = batch.dataPoints.length;
      let message = `stored ${count} of ${count} points`;
      if (!exact) {
        message = `stored ${count} points, committed with ${accepted.length - 1} other batches: ` +
          `${written.written} new, ${written.duplicates} already stored, ${written.conflicts} ` +
          "refused (another value is stored at that timestamp)";
        if (written.tooOld) message += `, ${written.tooOld} refused as older than retention`;
      }
      results[index] = {
        code: GrpcStatus.OK,
        message: this.#withLimitNote(batch, message),
        success: true,
      };
    }
  }

  /** `agentIds` is called only for the log line of a conflict. */
  #counted(
    written: WriteResult,
    batches: number,
    points: number,
    agentIds: string | (() => string),
  ): void {
    this.#counters.batches_accepted += batches;
    this.#counters.points_accepted += points;
    this.#counters.points_duplicate += written.duplicates;
    this.#counters.points_conflict += written.conflicts;
    this.#counters.points_too_old += written.tooOld ?? 0;
    if (written.conflicts > 0) {
      this.#log.warn("ingest: samples conflict with stored values", {
        agent_id: typeof agentIds === "string" ? agentIds : agentIds(),
        conflicts: written.conflicts,
      });
    }
  }

  /** What follows a commit: record the agent, tell `onCommitted`; neither can fail the batch. */
  #afterCommit(batch: MetricBatch, nowMs: number): void {
    try {
      // The samples are committed whatever happens here: a registry failure is logged and the
      // next batch records the agent again, so the batch is still acknowledged.
      this.#registry.recordSeen(batch.agentId, nowMs, batch.systemInfo);
    } catch (error) {
      this.#log.error("agent registry update failed", { agent_id: batch.agentId, error });
    }

    if (this.#onCommitted) {
      try {
        this.#onCommitted(batch.dataPoints);
      } catch (error) {
        this.#log.error("onCommitted hook failed", { agent_id: batch.agentId, error });
      }
    }
  }

  #reject(metadata: IngestMetadata, points: number, message: string): IngestResult {
    this.#counters.batches_rejected++;
    this.#counters.points_rejected += points;
    this.#log.warn("ingest refused: invalid batch", {
      agent_id: clip(metadata.agentId ?? ""),
      message: clip(message, 512),
    });
    return { code: GrpcStatus.INVALID_ARGUMENT, message, success: false };
  }
}
