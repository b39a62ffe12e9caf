/**
 * A real grpc-js `MetricService` client for tests, and the command that runs the listener child
 * straight from its source file.
 *
 * The grpc-js client runs under Node.js in a child process (`grpc_client_child.mjs`), never in
 * the test process: an HTTP/2 session under Deno 2.9.6 — client as well as server — can abort its
 * whole process inside nghttp2 when the peer sends GOAWAY (TOOLCHAIN.md, denoland/deno#36788),
 * and in `deno test --parallel` that ended the whole run. Each call travels to the child and its
 * status and response come back; the batch is encoded and the response decoded here, with the
 * protobufjs code, as before.
 */
import { fileURLToPath } from "node:url";
import {
  type IMetricBatchProto,
  type IReportResponse,
  MetricBatchProto,
  ReportResponse,
} from "../../shared/proto/mod.ts";
import { grpcStatusName } from "../../shared/wire/status.ts";
import type { ListenerCommand } from "../../server/ingest/supervisor.ts";
import { readLines, spawnJsonLinesChild } from "./lines.ts";

const CHILD = fileURLToPath(new URL("./grpc_client_child.mjs", import.meta.url));
/**
 * The child's V8 heap limit: a test client holds one channel and a few calls (about 10 MB), so
 * one that leaks ends its own process with an out-of-memory error, which `close()` reports,
 * instead of growing until the machine swaps.
 */
const CHILD_HEAP_MB = 256;
/** A child that has not exited this long after its stdin closed is killed. */
const EXIT_TIMEOUT_MS = 5_000;

/** `deno run -A server/ingest/listener.ts`: the listener child without the server's main. */
export function listenerCommand(): ListenerCommand {
  return {
    cmd: Deno.execPath(),
    args: ["run", "-A", new URL("../../server/ingest/listener.ts", import.meta.url).href],
  };
}

/** A call that ended with a status other than OK, as grpc-js reports it (`code`, `details`). */
export class GrpcCallError extends Error {
  readonly code: number;
  readonly details: string;

  constructor(code: number, details: string) {
    super(`${code} ${grpcStatusName(code)}: ${details}`);
    this.name = "GrpcCallError";
    this.code = code;
    this.details = details;
  }
}

/** What one call ended with: `response` (serialized) exactly when `code` is OK. */
export interface CallResult {
  code: number;
  details: string;
  response?: Uint8Array;
}

/** One grpc-js client (one channel) in its child process. */
export interface TestGrpcClient extends AsyncDisposable {
  /** One `ReportMetrics` call with a serialized request. Never rejects for a gRPC status. */
  call(
    request: Uint8Array,
    timeoutMs: number,
    headers?: Record<string, string>,
  ): Promise<CallResult>;
  /** Closes the channel and waits for the child; rejects if the child died on its own. */
  close(): Promise<void>;
}

export interface TestGrpcClientOptions {
  /** `host:port`; the host is also the name TLS checks the certificate against. */
  address: string;
  /** grpc-js channel options (e.g. `grpc.max_reconnect_backoff_ms` for a server that restarts). */
  channelOptions?: Record<string, number | string>;
  /** PEM text: the CA to trust, and a client certificate and key for mutual TLS. Default: none. */
  tls?: { caCert: string; clientCert?: string; clientKey?: string };
}

type Reply = { id: number } & CallResult & { response?: string };

/** Starts a grpc-js client in a Node.js child; it is ready when this resolves. */
export async function openClient(options: TestGrpcClientOptions): Promise<TestGrpcClient> {
  const { child, stderr, stdin, send: write } = spawnJsonLinesChild([
    `--max-old-space-size=${CHILD_HEAP_MB}`,
    CHILD,
  ]);

  const ready = Promise.withResolvers<void>();
  const pending = new Map<number, PromiseWithResolvers<CallResult>>();
  let nextId = 0;
  let gone: string | undefined;
  const reading = (async () => {
    for await (const line of readLines(child.stdout)) {
      const message: { event: "ready" } | Reply = JSON.parse(line);
      if ("event" in message) {
        ready.resolve();
        continue;
      }
      const call = pending.get(message.id);
      pending.delete(message.id);
      call?.resolve({
        code: message.code,
        details: message.details,
        ...(message.response === undefined
          ? {}
          : { response: Uint8Array.fromBase64(message.response) }),
      });
    }
    // The child is gone: whatever it did not answer never will be.
    const status = await child.status;
    gone = `the grpc-js client child exited with ${status.signal ?? `code ${status.code}`}: ${
      (await stderr).trim() || "(no stderr)"
    }`;
    ready.reject(new Error(gone));
    for (const call of pending.values()) call.reject(new Error(gone));
    pending.clear();
  })();

  let closing: Promise<void> | undefined;
  const stop = async () => {
    await stdin.close().catch(() => {});
    const timer = setTimeout(() => child.kill("SIGKILL"), EXIT_TIMEOUT_MS);
    try {
      const [status] = await Promise.all([child.status, reading]);
      if (!status.success) throw new Error(gone);
    } finally {
      clearTimeout(timer);
    }
  };
  const client: TestGrpcClient = {
    call(request, timeoutMs, headers = {}) {
      if (gone) return Promise.reject(new Error(gone));
      const id = nextId++;
      const call = Promise.withResolvers<CallResult>();
      pending.set(id, call);
      write({ id, request: request.toBase64(), timeoutMs, headers });
      return call.promise;
    },
    close: () => (closing ??= stop()),
    [Symbol.asyncDispose]: () => client.close(),
  };

  write({ address: options.address, channelOptions: options.channelOptions, tls: options.tls });
  try {
    await ready.promise;
  } catch (error) {
    await stop().catch(() => {});
    throw error;
  }
  return client;
}

/**
 * Opens a client to 127.0.0.1:port, runs `use`, and always closes it. `channelOptions` are
 * grpc-js channel options (e.g. `grpc.max_reconnect_backoff_ms` for a server that restarts).
 */
export async function withClient<T>(
  port: number,
  use: (client: TestGrpcClient) => Promise<T>,
  channelOptions: Record<string, number | string> = {},
): Promise<T> {
  const client = await openClient({ address: `127.0.0.1:${port}`, channelOptions });
  try {
    return await use(client);
  } finally {
    await client.close();
  }
}

/** One `ReportMetrics` call; rejects with a `GrpcCallError` (`code`, `details`) on a non-OK status. */
export async function reportMetrics(
  client: TestGrpcClient,
  batch: IMetricBatchProto | Uint8Array,
  timeoutMs = 5_000,
  headers: Record<string, string> = {},
): Promise<IReportResponse> {
  const request = batch instanceof Uint8Array ? batch : MetricBatchProto.encode(batch).finish();
  const { code, details, response } = await client.call(request, timeoutMs, headers);
  if (code !== 0) throw new GrpcCallError(code, details);
  return ReportResponse.decode(response!);
}
