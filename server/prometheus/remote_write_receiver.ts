/**
 * `POST /api/v1/write`: Prometheus Remote-Write 1.0 into oxmon, so Prometheus, vmagent, Grafana
 * Alloy or Telegraf can push. Series are named back as `naming.ts` says, grouped into one batch
 * per agent, and handed to `IngestService.handleDecoded`: the same authentication (agent
 * tokens), validation, commit, agent registration and alert feed as gRPC batches.
 *
 * Answers, as the spec asks: 204 stored; 400 for a body or series that can never be stored (the
 * sender must not retry it), naming the series and field; 401 without an accepted token; 403 for
 * a token bound to other agent ids; 413 for a body above the limit; 415 for another encoding or content type; 503 when storage fails (the
 * sender retries). Stale markers (Prometheus' end-of-series NaN) and other NaN/±Inf samples are
 * skipped and counted, not refused: oxmon stores finite values only, and refusing the request
 * would make the sender drop every other sample in it.
 */
import {
  GrpcStatus,
  type MetricBatchMessage,
  type MetricDataPointMessage,
} from "../../shared/wire/mod.ts";
import type { Logger } from "../../shared/log.ts";
import { readBodyLimited } from "../api/body.ts";
import type { IngestMetadata, IngestResult } from "../ingest/service.ts";
import { fromPromLabels, type OxmonSeries } from "./naming.ts";
import {
  type DecodedSeries,
  decodeWriteRequest,
  type PromLabel,
  RemoteWriteDecodeError,
  snappyUncompress,
} from "./remote_write_codec.ts";

export interface DecodedIngest {
  handleDecoded(
    batches: readonly MetricBatchMessage[],
    metadata?: IngestMetadata,
  ): IngestResult & { refusedBatch?: number; field?: string };
}

export interface RemoteWriteReceiverOptions {
  ingest: DecodedIngest;
  /** Largest compressed body accepted. */
  maxBodyBytes: number;
  /** Largest uncompressed WriteRequest accepted. */
  maxUncompressedBytes: number;
  /** Most points one agent batch carries (`[ingest] max_points_per_batch`); larger are split. */
  maxPointsPerBatch: number;
  /** Agent id for series with neither an `agent` nor an `instance` label. */
  defaultAgent?: string;
  log: Logger;
}

/** Counters since start, as `/metrics` and the health endpoint show them. */
export interface RemoteWriteReceiverStats {
  /** Requests by HTTP status answered. */
  requests: Record<string, number>;
  samplesAccepted: number;
  /** Samples skipped, by reason: `stale_marker`, `non_finite`, `histogram`. */
  samplesSkipped: Record<string, number>;
}

interface Grouped {
  batches: MetricBatchMessage[];
  /** Per batch, per point: series index and sample index in the request, interleaved. */
  origins: number[][];
  samples: number;
}

/** A series' labels and the oxmon series they map to (or why they cannot). */
interface ResolvedLabels {
  labels: PromLabel[];
  mapped: OxmonSeries | string;
}

/** Label sets remembered between requests: senders repeat the same series every time. */
const LABEL_CACHE_LIMIT = 200_000;

export class RemoteWriteReceiver {
  readonly #options: RemoteWriteReceiverOptions;
  readonly #labelCache = new Map<string, ResolvedLabels>();
  readonly #stats: RemoteWriteReceiverStats = {
    requests: {},
    samplesAccepted: 0,
    samplesSkipped: { stale_marker: 0, non_finite: 0, histogram: 0 },
  };

  constructor(options: RemoteWriteReceiverOptions) {
    for (const key of ["maxBodyBytes", "maxUncompressedBytes", "maxPointsPerBatch"] as const) {
      if (!Number.isInteger(options[key]) || options[key] < 1) {
        throw new RangeError(
          `Cannot create the remote-write receiver: ${key} must be a positive integer, got ${
            options[key]
          }`,
        );
      }
    }
    this.#options = options;
  }

  stats(): RemoteWriteReceiverStats {
    return {
      requests: { ...this.#stats.requests },
      samplesAccepted: this.#stats.samplesAccepted,
      samplesSkipped: { ...this.#stats.samplesSkipped },
    };
  }

  /** Handles one request; never throws. */
  async handle(request: Request): Promise<Response> {
    const response = await this.#handle(request);
    const key = String(response.status);
    this.#stats.requests[key] = (this.#stats.requests[key] ?? 0) + 1;
    return response;
  }

  async #handle(request: Request): Promise<Response> {
    const encoding = request.headers.get("content-encoding");
    if (encoding !== null && encoding.trim().toLowerCase() !== "snappy") {
      return refuse(
        415,
        "unsupported_media_type",
        `Content-Encoding must be snappy, got ${JSON.stringify(encoding)}`,
      );
    }
    const type = request.headers.get("content-type");
    if (type !== null && !/^application\/x-protobuf\s*(;|$)/i.test(type.trim())) {
      return refuse(
        415,
        "unsupported_media_type",
        `Content-Type must be application/x-protobuf, got ${JSON.stringify(type)}`,
      );
    }
    const body = await readBodyLimited(request, this.#options.maxBodyBytes);
    if (body === undefined) {
      return refuse(
        413,
        "payload_too_large",
        `the body is larger than ${this.#options.maxBodyBytes} bytes`,
      );
    }
    let series: DecodedSeries<ResolvedLabels>[];
    try {
      series = decodeWriteRequest(
        snappyUncompress(body, this.#options.maxUncompressedBytes),
        (key, decode) => this.#resolve(key, decode),
      );
    } catch (error) {
      if (!(error instanceof RemoteWriteDecodeError)) throw error;
      return refuse(400, "bad_request", `Cannot decode the WriteRequest: ${error.message}`);
    }
    const grouped = this.#group(series);
    if (typeof grouped === "string") return refuse(400, "bad_request", grouped);
    const result = this.#options.ingest.handleDecoded(grouped.batches, {
      authorization: request.headers.get("authorization") ?? undefined,
    });
    switch (result.code) {
      case GrpcStatus.OK:
        this.#stats.samplesAccepted += grouped.samples;
        return new Response(null, { status: 204 });
      case GrpcStatus.UNAUTHENTICATED:
        return refuse(401, "unauthorized", result.message);
      // A token bound to other agent ids: retrying cannot help, so not a 5xx.
      case GrpcStatus.PERMISSION_DENIED:
        return refuse(403, "forbidden", result.message);
      case GrpcStatus.INVALID_ARGUMENT: {
        return refuse(400, "bad_request", this.#describe(result, grouped, series));
      }
      default:
        return refuse(503, "unavailable", result.message);
    }
  }

  #resolve(key: string | undefined, decode: () => PromLabel[]): ResolvedLabels {
    const cached = key === undefined ? undefined : this.#labelCache.get(key);
    if (cached) return cached;
    const labels = decode();
    const resolved = { labels, mapped: fromPromLabels(labels, this.#options.defaultAgent) };
    if (key !== undefined) {
      if (this.#labelCache.size >= LABEL_CACHE_LIMIT) this.#labelCache.clear();
      this.#labelCache.set(key, resolved);
    }
    return resolved;
  }

  /** One batch per agent (split at the point limit), or what makes a series unusable. */
  #group(series: DecodedSeries<ResolvedLabels>[]): Grouped | string {
    const { maxPointsPerBatch } = this.#options;
    const skipped = this.#stats.samplesSkipped;
    const open = new Map<string, number>();
    const grouped: Grouped = { batches: [], origins: [], samples: 0 };
    for (let s = 0; s < series.length; s++) {
      const { labels: { labels, mapped }, timestamps, values, histograms, staleMarkers } =
        series[s];
      skipped.histogram += histograms;
      skipped.stale_marker += staleMarkers;
      if (timestamps.length === 0) continue;
      if (typeof mapped === "string") {
        return `timeseries[${s}] (${describeLabels(labels)}): ${mapped}`;
      }
      for (let i = 0; i < timestamps.length; i++) {
        const value = values[i];
        if (!Number.isFinite(value)) {
          skipped.non_finite++;
          continue;
        }
        let index = open.get(mapped.agentId);
        if (index === undefined || grouped.batches[index].dataPoints!.length >= maxPointsPerBatch) {
          index = grouped.batches.length;
          open.set(mapped.agentId, index);
          grouped.batches.push({ agentId: mapped.agentId, dataPoints: [] });
          grouped.origins.push([]);
        }
        const point: MetricDataPointMessage = {
          agentId: mapped.agentId,
          metricName: mapped.metricName,
          value,
          timestampMs: timestamps[i],
          labels: mapped.labels,
        };
        grouped.batches[index].dataPoints!.push(point);
        grouped.origins[index].push(s, i);
        grouped.samples++;
      }
    }
    return grouped;
  }

  /** A validation message in the request's terms: `timeseries[4] (…).samples[2].value: …`. */
  #describe(
    result: IngestResult & { refusedBatch?: number; field?: string },
    grouped: Grouped,
    series: DecodedSeries<ResolvedLabels>[],
  ): string {
    if (result.refusedBatch === undefined || result.field === undefined) return result.message;
    const problem = result.message.slice(result.field.length + 2);
    const match = /^data_points\[(\d+)\]\.?(.*)$/.exec(result.field);
    const origins = grouped.origins[result.refusedBatch];
    if (!match || origins === undefined) {
      return `agent ${
        JSON.stringify(grouped.batches[result.refusedBatch]?.agentId)
      }: ${result.message}`;
    }
    const s = origins[2 * Number(match[1])];
    const i = origins[2 * Number(match[1]) + 1];
    const part = match[2];
    const where = part === "value" || part === "timestamp_ms"
      ? `.samples[${i}].${part === "value" ? "value" : "timestamp"}`
      : part.startsWith("labels")
      ? `.labels${part.slice("labels".length)}`
      : part
      ? `.${part}`
      : "";
    return `timeseries[${s}] (${describeLabels(series[s].labels.labels)})${where}: ${problem}`;
  }
}

function describeLabels(labels: readonly { name: string; value: string }[]): string {
  const text = "{" +
    labels.map(({ name, value }) => `${name}=${JSON.stringify(value)}`).join(", ") +
    "}";
  return text.length > 200 ? text.slice(0, 200) + "…}" : text;
}

function refuse(
  status: number,
  code: typeof REFUSAL_CODES[number],
  message: string,
): Response {
  return Response.json({ error: message, code }, { status });
}

/** Every `code` a refusal of `POST /api/v1/write` carries. */
export const REFUSAL_CODES = [
  "bad_request",
  "unauthorized",
  "forbidden",
  "payload_too_large",
  "unsupported_media_type",
  "unavailable",
] as const;
