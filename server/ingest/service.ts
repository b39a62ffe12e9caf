/**
 * The `ReportMetrics` logic, independent of the transport: request bytes and metadata in, a gRPC
 * status out. The order is the contract: authenticate, decode, validate, commit to storage, record
 * the agent, and only then report success and tell `onCommitted` (the alert engine's hook).
 */
import { Buffer } from "node:buffer";
import { createHash, timingSafeEqual } from "node:crypto";
import { status as GrpcStatus } from "@grpc/grpc-js";
import type { Clock } from "../../shared/clock.ts";
import type { Logger } from "../../shared/log.ts";
import { type IMetricBatchProto, MetricBatchProto } from "../../shared/proto/mod.ts";
import type { MetricDataPoint } from "../../shared/types.ts";
import type { AgentRegistry } from "../agents/types.ts";
import type { IngestLimits } from "../config.ts";
import type { MetricStore } from "../storage/types.ts";
import { BatchValidationError, validateBatch } from "./validate.ts";

export interface IngestMetadata {
  /** The `authorization` metadata, e.g. `Bearer s3cret`. */
  authorization?: string;
  /** The `agent-id` metadata the original agent sends; used for logging only. */
  agentId?: string;
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
  /** Of the rejected batches, those without an accepted bearer token. */
  unauthenticated: number;
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
    unauthenticated: 0,
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
    if (this.#tokenDigests.length > 0 && !this.#authenticated(metadata.authorization)) {
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

    let decoded: IMetricBatchProto;
    try {
      decoded = MetricBatchProto.decode(requestBytes);
    } catch (error) {
      return this.#reject(
        metadata,
        0,
        `request: cannot decode MetricBatchProto: ${(error as Error).message}`,
      );
    }

    const nowMs = this.#clock.now();
    let batch;
    try {
      batch = validateBatch(decoded, this.#limits, nowMs, this.#retentionDays);
    } catch (error) {
      if (!(error instanceof BatchValidationError)) throw error;
      return this.#reject(metadata, decoded.dataPoints?.length ?? 0, error.message);
    }

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
    this.#counters.batches_accepted++;
    this.#counters.points_accepted += points.length;
    this.#counters.points_duplicate += written.duplicates;
    this.#counters.points_conflict += written.conflicts;
    if (written.conflicts > 0) {
      this.#log.warn("ingest: samples conflict with stored values", {
        agent_id: batch.agentId,
        conflicts: written.conflicts,
      });
    }

    try {
      // The samples are committed whatever happens here: a registry failure is logged and the
      // next batch records the agent again, so the batch is still acknowledged.
      this.#registry.recordSeen(batch.agentId, nowMs, batch.systemInfo);
    } catch (error) {
      this.#log.error("agent registry update failed", { agent_id: batch.agentId, error });
    }

    if (this.#onCommitted) {
      try {
        this.#onCommitted(points);
      } catch (error) {
        this.#log.error("onCommitted hook failed", { agent_id: batch.agentId, error });
      }
    }

    let message = `stored ${written.written} of ${points.length} points`;
    if (written.duplicates > 0) message += `, ${written.duplicates} already stored`;
    if (written.conflicts > 0) {
      message += `, ${written.conflicts} refused (another value is stored at that timestamp)`;
    }
    return { code: GrpcStatus.OK, message, success: true };
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
