/**
 * Sends batches over ONE long-lived grpc-js channel (short-lived connections crash grpc-js
 * servers under Deno, see TOOLCHAIN.md) as `oxmon.MetricService/ReportMetrics`, with the
 * `authorization` and `agent-id` metadata the original agent sends, and a deadline per call.
 */
import { Client, credentials, Metadata, status } from "@grpc/grpc-js";
import type { ChannelOptions, ServiceError } from "@grpc/grpc-js";
import { Buffer } from "node:buffer";
import { metricServiceDefinition } from "../shared/proto/service.ts";
import type { IMetricBatchProto } from "../shared/proto/mod.ts";
import type { MetricBatch } from "../shared/types.ts";
import type { ServerEndpoint } from "./config.ts";

/**
 * What became of one send: `sent`; `rejected` (INVALID_ARGUMENT: the server will never accept
 * this batch, so retrying it is pointless); `failed` (anything else: keep it and retry).
 */
export type SendOutcome =
  | { kind: "sent" }
  | { kind: "rejected"; reason: string }
  | { kind: "failed"; reason: string; unauthenticated: boolean };

/** The sending side as the agent loop sees it; tests may substitute their own. */
export interface BatchSender {
  send(
    batch: MetricBatch,
    options: { deadlineMs: number; signal?: AbortSignal },
  ): Promise<SendOutcome>;
  close(): void;
}

export interface GrpcSenderOptions {
  server: ServerEndpoint;
  agentId: string;
  authToken?: string;
  /** PEM of the CA to trust for TLS instead of the system roots. */
  caCert?: Uint8Array;
  /** Extra grpc-js channel options, e.g. reconnect backoff in tests. */
  channelOptions?: ChannelOptions;
}

/** protobufjs takes the shared types as they are; only optional fields need care. */
export function toProto(batch: MetricBatch): IMetricBatchProto {
  return {
    agentId: batch.agentId,
    timestampMs: batch.timestampMs,
    dataPoints: batch.dataPoints,
    ...(batch.systemInfo ? { systemInfo: batch.systemInfo } : {}),
  };
}

const method = metricServiceDefinition.ReportMetrics;

export class GrpcBatchSender implements BatchSender {
  readonly #client: Client;
  readonly #metadata: Metadata;

  constructor(options: GrpcSenderOptions) {
    const channelCredentials = options.server.tls
      ? credentials.createSsl(options.caCert ? Buffer.from(options.caCert) : null)
      : credentials.createInsecure();
    this.#client = new Client(options.server.address, channelCredentials, {
      // grpc-js's own reconnect backoff tops out at 120 s; the agent's retries should not wait
      // on a channel that is still sleeping long after the server came back.
      "grpc.initial_reconnect_backoff_ms": 500,
      "grpc.max_reconnect_backoff_ms": 10_000,
      "grpc.keepalive_time_ms": 60_000,
      ...options.channelOptions,
    });
    this.#metadata = new Metadata();
    if (options.authToken) this.#metadata.set("authorization", `Bearer ${options.authToken}`);
    this.#metadata.set("agent-id", options.agentId);
  }

  send(
    batch: MetricBatch,
    options: { deadlineMs: number; signal?: AbortSignal },
  ): Promise<SendOutcome> {
    return new Promise((resolve) => {
      if (options.signal?.aborted) {
        return resolve({ kind: "failed", reason: "cancelled", unauthenticated: false });
      }
      const onAbort = () => call.cancel();
      const call = this.#client.makeUnaryRequest(
        method.path,
        method.requestSerialize,
        method.responseDeserialize,
        toProto(batch),
        this.#metadata,
        { deadline: options.deadlineMs },
        (error: ServiceError | null, response) => {
          options.signal?.removeEventListener("abort", onAbort);
          if (error) {
            if (error.code === status.INVALID_ARGUMENT) {
              return resolve({ kind: "rejected", reason: error.details || error.message });
            }
            return resolve({
              kind: "failed",
              reason: `${status[error.code] ?? error.code}: ${error.details || error.message}`,
              unauthenticated: error.code === status.UNAUTHENTICATED ||
                error.code === status.PERMISSION_DENIED,
            });
          }
          if (!response?.success) {
            return resolve({
              kind: "failed",
              reason: `server replied success=false: ${response?.message ?? ""}`,
              unauthenticated: false,
            });
          }
          resolve({ kind: "sent" });
        },
      );
      options.signal?.addEventListener("abort", onAbort, { once: true });
    });
  }

  close(): void {
    this.#client.close();
  }
}
