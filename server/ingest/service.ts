/**
 * The `ReportMetrics` logic, independent of the transport: request bytes and metadata in, a gRPC
 * status out. The order is the contract: authenticate, decode, validate, commit to storage, record
 * the agent, and only then report success and tell `onCommitted` (the alert engine's hook).
 */
import { Buffer } from "node:buffer";
import { createHash, timingSafeEqual } from "node:crypto";
import type { Clock } from "../../shared/clock.ts";
import type { Logger } from "../../shared/log.ts";
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
import type { MetricStore, WriteResult } from "../storage/types.ts";
import { BatchValidationError, tooManyPoints, validateBatch } from "./validate.ts";

export interface IngestMetadata {
  /** The `authorization` metadata, e.g. `Bearer s3cret`. */
  authorization?: string;
  /** The `agent-id` metadata the original agent sends; used for logging only. */
  agentId?: string;
}

/** One request of a group handled together (`IngestService.handleMany`). */
export interface IngestRequest {
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
  /** Samples the server made itself (certificate and check results), committed by `commitLocal`. */
  local_points: number;
};

export interface IngestServiceOptions {
  store: MetricStore;
  registry: AgentRegistry;
  limits: IngestLimits;
  /** Accepted bearer tokens; empty means no authentication. */
  agentTokens: readonly string[];
  retentionDays: number;
  clock: Clock;
  log: Logger;
  /** Called after each commit; an exception in it is logged and never fails the batch. */
  onCommitted?: (points: readonly MetricDataPoint[]) => void;
}

function sha256(text: string): Buffer {
  return createHash("sha256").update(text).digest();
}

const BEARER = /^Bearer\s+(\S+)\s*$/i;

export class IngestService {
  readonly #store: MetricStore;
  readonly #registry: AgentRegistry;
  readonly #limits: IngestLimits;
  readonly #retentionDays: number;
  readonly #clock: Clock;
  readonly #log: Logger;
  readonly #onCommitted?: (points: readonly MetricDataPoint[]) => void;
  /** Digests, so every comparison has the same length and takes the same time. */
  readonly #tokenDigests: Buffer[];
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
    this.#tokenDigests = options.agentTokens.map(sha256);
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
    const refusal = this.#authenticate(metadata);
    if (refusal) return refusal;
    const accepted: { index: number; batch: MetricBatch }[] = [];
    for (let index = 0; index < batches.length; index++) {
      try {
        accepted.push({
          index,
          batch: validateBatch(batches[index], this.#limits, nowMs, this.#retentionDays),
        });
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

  /** The refusal to send when tokens are configured and none of them is presented. */
  #authenticate(metadata: IngestMetadata): IngestResult | undefined {
    if (this.#tokenDigests.length === 0 || this.#authenticated(metadata.authorization)) return;
    this.#counters.unauthenticated++;
    this.#counters.batches_rejected++;
    this.#log.warn("ingest refused: unauthenticated", {
      agent_id: metadata.agentId ?? "",
      reason: metadata.authorization ? "wrong token" : "no bearer token",
    });
    return {
      code: GrpcStatus.UNAUTHENTICATED,
      message: metadata.authorization
        ? "authorization: the bearer token is not accepted"
        : 'authorization: missing metadata "authorization: Bearer <token>"',
      success: false,
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
    const refusal = this.#authenticate(metadata);
    if (refusal) return refusal;

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

    try {
      return validateBatch(decoded, this.#limits, nowMs, this.#retentionDays);
    } catch (error) {
      if (!(error instanceof BatchValidationError)) throw error;
      return this.#reject(metadata, decoded.dataPoints.length, error.message);
    }
  }

  /** Writes one batch; then records the agent and tells `onCommitted`. */
  #commit(batch: MetricBatch, nowMs: number): IngestResult {
    const points = batch.dataPoints;
    let written;
    try {
      written = this.#store.write(points);
    } catch (error) {
      this.#counters.batches_failed++;
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
    return { code: GrpcStatus.OK, message, success: true };
  }

  /** One `write` for several accepted batches; one by one if it fails. */
  #commitGroup(
    accepted: readonly { index: number; batch: MetricBatch }[],
    results: IngestResult[],
    nowMs: number,
  ): void {
    const points: MetricDataPoint[] = [];
    for (const { batch } of accepted) {
      for (const point of batch.dataPoints) points.push(point);
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
    const agentIds = accepted.map(({ batch }) => batch.agentId).join(",");
    this.#counted(written, accepted.length, points.length, agentIds);
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
      results[index] = { code: GrpcStatus.OK, message, success: true };
    }
  }

  #counted(written: WriteResult, batches: number, points: number, agentIds: string): void {
    this.#counters.batches_accepted += batches;
    this.#counters.points_accepted += points;
    this.#counters.points_duplicate += written.duplicates;
    this.#counters.points_conflict += written.conflicts;
    this.#counters.points_too_old += written.tooOld ?? 0;
    if (written.conflicts > 0) {
      this.#log.warn("ingest: samples conflict with stored values", {
        agent_id: agentIds,
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

  #authenticated(authorization: string | undefined): boolean {
    const token = authorization ? BEARER.exec(authorization)?.[1] : undefined;
    if (token === undefined) return false;
    const digest = sha256(token);
    let matched = false;
    // No early exit: the time taken does not reveal which token (if any) matched.
    for (const accepted of this.#tokenDigests) {
      if (timingSafeEqual(digest, accepted)) matched = true;
    }
    return matched;
  }

  #reject(metadata: IngestMetadata, points: number, message: string): IngestResult {
    this.#counters.batches_rejected++;
    this.#counters.points_rejected += points;
    this.#log.warn("ingest refused: invalid batch", { agent_id: metadata.agentId ?? "", message });
    return { code: GrpcStatus.INVALID_ARGUMENT, message, success: false };
  }
}
