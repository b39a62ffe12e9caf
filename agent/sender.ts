/**
 * Sends batches as `oxmon.MetricService/ReportMetrics` calls over ONE long-lived HTTP/2
 * connection (see `grpc_client.ts`), with the `authorization` and `agent-id` metadata the
 * original agent sends, and a deadline per call.
 */
import type { ServerEndpoint } from "./config.ts";
// The files, not shared/wire/mod.ts: the batch decoder's string cache would cost 250 kB here.
import { REPORT_METRICS_PATH } from "../shared/wire/method.ts";
import { decodeReportResponse } from "../shared/wire/report_response.ts";
import { GrpcStatus, grpcStatusName } from "../shared/wire/status.ts";
import { GrpcClient } from "./grpc_client.ts";

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
  /** Sends one encoded `MetricBatchProto` (see `encodeMetricBatch`). */
  send(
    request: Uint8Array,
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
  /** PEM client certificate and key, for a server that requires mutual TLS. */
  clientCert?: { cert: string; key: string };
}

export class GrpcBatchSender implements BatchSender {
  readonly #client: GrpcClient;

  constructor(options: GrpcSenderOptions) {
    this.#client = new GrpcClient({
      address: options.server.address,
      tls: options.server.tls,
      caCert: options.caCert ? new TextDecoder().decode(options.caCert) : undefined,
      clientCert: options.clientCert,
      metadata: {
        ...(options.authToken ? { authorization: `Bearer ${options.authToken}` } : {}),
        "agent-id": options.agentId,
      },
    });
  }

  async send(
    request: Uint8Array,
    options: { deadlineMs: number; signal?: AbortSignal },
  ): Promise<SendOutcome> {
    const result = await this.#client.unary(REPORT_METRICS_PATH, request, options);
    if (result.code === GrpcStatus.INVALID_ARGUMENT) {
      return { kind: "rejected", reason: result.details };
    }
    if (result.code !== GrpcStatus.OK) {
      return {
        kind: "failed",
        reason: `${grpcStatusName(result.code)}: ${result.details}`,
        unauthenticated: result.code === GrpcStatus.UNAUTHENTICATED ||
          result.code === GrpcStatus.PERMISSION_DENIED,
      };
    }
    let response;
    try {
      response = decodeReportResponse(result.response!);
    } catch (error) {
      return { kind: "failed", reason: (error as Error).message, unauthenticated: false };
    }
    if (!response.success) {
      return {
        kind: "failed",
        reason: `server replied success=false: ${response.message}`,
        unauthenticated: false,
      };
    }
    return { kind: "sent" };
  }

  close(): void {
    this.#client.close();
  }
}
