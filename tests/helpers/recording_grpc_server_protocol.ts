/**
 * The JSON-lines protocol between `recording_grpc_server.ts` (in the test process) and
 * `recording_grpc_server_child.ts` (the grpc-js server in its own process), in one place for both ends.
 */
import type { IReportResponse } from "../../shared/proto/mod.ts";

/** PEM key and certificate the server presents, and the CA it trusts for client certificates. */
export interface ServerTls {
  caCert: string;
  serverKey: string;
  serverCert: string;
}

/** Parent → child, the first line. */
export interface ChildSettings {
  port: number;
  tls?: ServerTls;
}

/**
 * How a call is answered. `null` accepts with `{ success: true, message: "ok" }`; a gRPC status
 * `code` fails the call; a `ReportResponse` is sent as it is.
 */
export type ChildReply = null | { code: number; details: string } | IReportResponse;

/** Parent → child, one per call, in any order. */
export interface ChildAnswer {
  id: number;
  reply: ChildReply;
}

/** Child → parent. `request` is the serialized `MetricBatchProto`, in base64. */
export type ChildEvent =
  | { event: "listening"; port: number }
  | { event: "error"; message: string }
  | {
    event: "call";
    id: number;
    request: string;
    metadata: Record<string, string>;
    peer: string;
  };

const encoder = new TextEncoder();

/** One message as a line of JSON, encoded. */
export function encodeLine(message: ChildSettings | ChildAnswer | ChildEvent): Uint8Array {
  return encoder.encode(`${JSON.stringify(message)}\n`);
}
