/**
 * The child process behind `recording_grpc_server.ts`: a grpc-js `oxmon.MetricService` server on
 * 127.0.0.1 that hands every call to its parent and answers as the parent says
 * (`recording_grpc_server_protocol.ts`). End of stdin shuts it down and it exits 0.
 *
 * Why a child: a grpc-js server under Deno 2.9.6 can abort its whole process inside nghttp2
 * (exit 134, or SIGSEGV; TOOLCHAIN.md, denoland/deno#36788), which JavaScript cannot catch. Run
 * inside `deno test --parallel` it takes the whole test run down; here it takes down only this
 * process, and the parent reports it.
 */
import {
  Metadata,
  type sendUnaryData,
  Server,
  ServerCredentials,
  type ServerUnaryCall,
  type ServiceDefinition,
} from "@grpc/grpc-js";
import { Buffer } from "node:buffer";
import type { Http2Server } from "node:http2";
import { type IReportResponse, ReportResponse } from "../../shared/proto/mod.ts";
import { REPORT_METRICS_PATH } from "../../shared/wire/method.ts";
import {
  type ChildAnswer,
  type ChildEvent,
  type ChildSettings,
  encodeLine,
} from "./recording_grpc_server_protocol.ts";
import { readLines } from "./lines.ts";

/** The request stays serialized: the parent decodes it, so it sees what the old helper saw. */
const rawMetricService = {
  ReportMetrics: {
    path: REPORT_METRICS_PATH,
    requestStream: false,
    responseStream: false,
    requestSerialize: (bytes: Buffer) => bytes,
    requestDeserialize: (bytes: Buffer) => bytes,
    responseSerialize: (response: IReportResponse) =>
      Buffer.from(ReportResponse.encode(response).finish()),
    responseDeserialize: (bytes: Buffer) => ReportResponse.decode(bytes),
  },
} satisfies ServiceDefinition;

/** Synchronous, so lines never interleave and an `error` line is out before `Deno.exit`. */
function send(event: ChildEvent): void {
  const bytes = encodeLine(event);
  for (let written = 0; written < bytes.length;) {
    written += Deno.stdout.writeSync(bytes.subarray(written));
  }
}

/** `grpc-timeout` for 2,147,483 s: the longest deadline grpc-js keeps in its int32 (24.8 days). */
const LONGEST_TIMEOUT = "2147483S";
const UNIT_MS: Record<string, number> = {
  H: 3_600_000,
  M: 60_000,
  S: 1_000,
  m: 1,
  u: 1e-3,
  n: 1e-6,
};

/**
 * Caps each call's `grpc-timeout` at 24.8 days before grpc-js reads it. grpc-js 1.14.7 parses it
 * with `| 0`, so a longer deadline turns negative and ends the call at once as DEADLINE_EXCEEDED
 * (the real listener does the same). A server answering synchronously, as the in-process helper
 * did, replied before that timer ran; this one answers after a round trip to its parent.
 */
function capDeadlines(server: Server): void {
  // grpc-js keeps its node:http2 servers in a field its types call private.
  const http2Servers = (server as unknown as { http2Servers: Map<Http2Server, unknown> })
    .http2Servers;
  for (const http2Server of http2Servers.keys()) {
    http2Server.prependListener("stream", (_stream, headers) => {
      const match = /^(\d{1,8})([HMSmun])$/.exec(String(headers["grpc-timeout"]));
      if (match && Number(match[1]) * UNIT_MS[match[2]] > 2 ** 31 - 1) {
        headers["grpc-timeout"] = LONGEST_TIMEOUT;
      }
    });
  }
}

async function serve(): Promise<void> {
  const input = readLines(Deno.stdin.readable);
  const first = await input.next();
  if (first.done) return;
  const settings: ChildSettings = JSON.parse(first.value);

  const server = new Server();
  const waiting = new Map<number, sendUnaryData<IReportResponse>>();
  let nextId = 0;
  server.addService(rawMetricService, {
    ReportMetrics(
      call: ServerUnaryCall<Buffer, IReportResponse>,
      callback: sendUnaryData<IReportResponse>,
    ) {
      const id = nextId++;
      const metadata: Record<string, string> = {};
      for (const [key, value] of Object.entries((call.metadata as Metadata).getMap())) {
        metadata[key] = String(value);
      }
      waiting.set(id, callback);
      send({
        event: "call",
        id,
        request: call.request.toString("base64"),
        metadata,
        peer: call.getPeer(),
      });
    },
  });
  const credentials = settings.tls
    ? ServerCredentials.createSsl(Buffer.from(settings.tls.caCert), [{
      private_key: Buffer.from(settings.tls.serverKey),
      cert_chain: Buffer.from(settings.tls.serverCert),
    }])
    : ServerCredentials.createInsecure();
  try {
    const port = await new Promise<number>((resolve, reject) => {
      server.bindAsync(
        `127.0.0.1:${settings.port}`,
        credentials,
        (error, port) => (error ? reject(error) : resolve(port)),
      );
    });
    capDeadlines(server);
    send({ event: "listening", port });
  } catch (error) {
    send({ event: "error", message: `Cannot listen on 127.0.0.1:${settings.port}: ${error}` });
    Deno.exit(1);
  }

  for await (const line of input) {
    const { id, reply }: ChildAnswer = JSON.parse(line);
    const callback = waiting.get(id);
    waiting.delete(id);
    if (!callback) continue;
    if (reply && "code" in reply) {
      callback({ code: reply.code, details: reply.details, metadata: new Metadata() });
    } else callback(null, reply ?? { success: true, message: "ok" });
  }
  server.forceShutdown();
}

if (import.meta.main) {
  await serve();
  // grpc-js keeps timers for the connections it just dropped; the parent waits for this exit.
  Deno.exit(0);
}
