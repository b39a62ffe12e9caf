/**
 * Test helper: a real grpc-js `oxmon.MetricService` server on 127.0.0.1 that records what it
 * receives. `respond` decides each reply, so tests can play a server that is down, refuses a
 * token, rejects a batch or answers late; `tls` makes it speak TLS.
 */
import {
  Metadata,
  type sendUnaryData,
  Server,
  ServerCredentials,
  type ServerUnaryCall,
  status,
} from "@grpc/grpc-js";
import { Buffer } from "node:buffer";
import {
  type IReportResponse,
  type MetricBatchProto,
  metricServiceDefinition,
} from "../../shared/proto/mod.ts";
import type { TestCertificates } from "./pki.ts";

export type DecodedBatch = ReturnType<typeof MetricBatchProto.decode>;

export interface Received {
  batch: DecodedBatch;
  metadata: Record<string, string>;
  peer: string;
}

type Reply = undefined | { code: status; details: string } | IReportResponse;

/**
 * `undefined` accepts; an error code fails the call; `{ success: false }` replies so. A promise
 * replies when it settles (a slow server).
 */
export type Respond = (received: Received) => Reply | Promise<Reply>;

export interface RecordingServer extends AsyncDisposable {
  port: number;
  received: Received[];
  respond: Respond;
  close(): Promise<void>;
}

/** A port that was free a moment ago, for a server that must come up after its client. */
export function reservePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  return port;
}

export async function startRecordingServer(
  options: { port?: number; respond?: Respond; tls?: TestCertificates } = {},
): Promise<RecordingServer> {
  const server = new Server();
  const state: RecordingServer = {
    port: 0,
    received: [],
    respond: options.respond ?? (() => undefined),
    close: () =>
      new Promise<void>((resolve) => {
        server.forceShutdown();
        resolve();
      }),
    [Symbol.asyncDispose]: () => state.close(),
  };
  server.addService(metricServiceDefinition, {
    ReportMetrics(
      call: ServerUnaryCall<DecodedBatch, IReportResponse>,
      callback: sendUnaryData<IReportResponse>,
    ) {
      const metadata: Record<string, string> = {};
      for (const [key, value] of Object.entries((call.metadata as Metadata).getMap())) {
        metadata[key] = String(value);
      }
      const received = { batch: call.request, metadata, peer: call.getPeer() };
      const answer = (reply: Reply) => {
        if (reply && "code" in reply) {
          return callback({ code: reply.code, details: reply.details, metadata: new Metadata() });
        }
        if (reply) return callback(null, reply);
        state.received.push(received);
        callback(null, { success: true, message: "ok" });
      };
      const reply = state.respond(received);
      if (reply instanceof Promise) reply.then(answer);
      else answer(reply);
    },
  });
  const credentials = options.tls
    ? ServerCredentials.createSsl(Buffer.from(options.tls.caCert), [{
      private_key: Buffer.from(options.tls.serverKey),
      cert_chain: Buffer.from(options.tls.serverCert),
    }])
    : ServerCredentials.createInsecure();
  state.port = await new Promise<number>((resolve, reject) => {
    server.bindAsync(
      `127.0.0.1:${options.port ?? 0}`,
      credentials,
      (error, port) => (error ? reject(error) : resolve(port)),
    );
  });
  return state;
}

/** Polls `condition` every few ms until it holds; fails after `timeoutMs`. */
export async function waitFor(
  condition: () => boolean,
  what: string,
  timeoutMs = 10_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) {
      throw new Error(`Timed out after ${timeoutMs} ms waiting for ${what}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
