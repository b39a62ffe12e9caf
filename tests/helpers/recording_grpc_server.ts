/**
 * Test helper: a real grpc-js `oxmon.MetricService` server on 127.0.0.1 that records what it
 * receives. `respond` decides each reply, so tests can play a server that is down, refuses a
 * token, rejects a batch or answers late; `tls` makes it speak TLS.
 *
 * The grpc-js server runs in a child process (`recording_grpc_server_child.ts`), never in the test
 * process: under Deno 2.9.6 it can abort its process inside nghttp2 (TOOLCHAIN.md), and in
 * `deno test --parallel` that killed the whole run. Each call travels to this process, which
 * decodes it, asks `respond` and sends the answer back; a dead child fails `close()` with its
 * exit status.
 */
import { fileURLToPath } from "node:url";
import { type IReportResponse, MetricBatchProto } from "../../shared/proto/mod.ts";
import { type ChildEvent, type ChildReply, encodeLine } from "./recording_grpc_server_protocol.ts";
import { readLines } from "./lines.ts";
import type { TestCertificates } from "./pki.ts";

export type DecodedBatch = ReturnType<typeof MetricBatchProto.decode>;

export interface Received {
  batch: DecodedBatch;
  metadata: Record<string, string>;
  peer: string;
}

type Reply = undefined | { code: number; details: string } | IReportResponse;

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

const CHILD = fileURLToPath(new URL("./recording_grpc_server_child.ts", import.meta.url));
const CONFIG = fileURLToPath(new URL("../../deno.json", import.meta.url));
/** A child that has not exited this long after its stdin closed is killed. */
const EXIT_TIMEOUT_MS = 5_000;
/** gRPC's UNKNOWN, for a `respond` that throws. */
const UNKNOWN = 2;

export async function startRecordingServer(
  options: { port?: number; respond?: Respond; tls?: TestCertificates } = {},
): Promise<RecordingServer> {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "--config", CONFIG, CHILD],
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const stderr = new Response(child.stderr).text();
  const stdin = child.stdin.getWriter();
  // The child may be gone (crashed, or closed): nothing is waiting for the line then.
  const write = (line: Uint8Array) => stdin.write(line).catch(() => {});

  const listening = Promise.withResolvers<number>();
  const state: RecordingServer = {
    port: 0,
    received: [],
    respond: options.respond ?? (() => undefined),
    close: () => (closing ??= stop()),
    [Symbol.asyncDispose]: () => state.close(),
  };
  let closing: Promise<void> | undefined;

  const answerCall = (event: Extract<ChildEvent, { event: "call" }>) => {
    const received: Received = {
      batch: MetricBatchProto.decode(Uint8Array.fromBase64(event.request)),
      metadata: event.metadata,
      peer: event.peer,
    };
    const answer = (reply: Reply) => {
      if (!reply) state.received.push(received);
      write(encodeLine({ id: event.id, reply: (reply ?? null) as ChildReply }));
    };
    const fail = (error: unknown) => answer({ code: UNKNOWN, details: String(error) });
    try {
      const reply = state.respond(received);
      if (reply instanceof Promise) reply.then(answer, fail);
      else answer(reply);
    } catch (error) {
      fail(error);
    }
  };
  let started = false;
  const reading = (async () => {
    for await (const line of readLines(child.stdout)) {
      const event: ChildEvent = JSON.parse(line);
      started = true;
      if (event.event === "listening") listening.resolve(event.port);
      else if (event.event === "error") listening.reject(new Error(event.message));
      else answerCall(event);
    }
    if (!started) {
      const output = (await stderr).trim() || "(no stderr)";
      listening.reject(new Error(`The test gRPC server exited before it listened: ${output}`));
    }
  })();

  async function stop(): Promise<void> {
    await stdin.close().catch(() => {});
    const timer = setTimeout(() => child.kill("SIGKILL"), EXIT_TIMEOUT_MS);
    const [status] = await Promise.all([child.status, reading]).finally(() => clearTimeout(timer));
    if (!status.success) {
      throw new Error(
        `The test gRPC server (child ${child.pid}) ended with ${
          status.signal ?? `exit code ${status.code}`
        } instead of exiting 0 when closed: ${(await stderr).trim() || "(no stderr)"}`,
      );
    }
    await stderr;
  }

  write(encodeLine({ port: options.port ?? 0, tls: options.tls }));
  try {
    state.port = await listening.promise;
  } catch (error) {
    await stop().catch(() => {});
    throw error;
  }
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
