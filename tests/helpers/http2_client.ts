/**
 * Raw `node:http2` client sessions for tests that play hostile or idle gRPC clients (bodies held
 * back, streams cancelled, connections left idle), run under Node.js in a child process
 * (`http2_client_child.mjs`). Not in the test process: a `node:http2` session under Deno 2.9.6
 * can abort its whole process inside nghttp2 when the server sends GOAWAY (TOOLCHAIN.md,
 * denoland/deno#36788), and `deno test --parallel` runs every test file in that one process.
 */
import { fileURLToPath } from "node:url";
import { readLines, spawnJsonLinesChild } from "./lines.ts";

const CHILD = fileURLToPath(new URL("./http2_client_child.mjs", import.meta.url));
/** A child that has not exited this long after its stdin closed is killed. */
const EXIT_TIMEOUT_MS = 5_000;

/** One gRPC call on a session. */
export interface RawCall {
  /** The call's grpc-status once its stream closed; -1 when it carried none. */
  status: Promise<number>;
  /** Resets the stream with CANCEL. */
  cancel(): void;
}

export interface RawSession {
  /** The server's SETTINGS_MAX_CONCURRENT_STREAMS. */
  maxConcurrentStreams: number | undefined;
  /** Settles when the session closed, by either side. */
  closed: Promise<void>;
  /**
   * POSTs to `path` with gRPC headers and `headers`. `body` is one gRPC message of `length` bytes
   * of `fill`, after which the stream ends; without it the call sends its headers only.
   */
  call(
    path: string,
    body?: { length: number; fill: number },
    headers?: Record<string, string>,
  ): RawCall;
  /** GOAWAY, then destroyed if it has not closed within a second; settles once closed. */
  close(): Promise<void>;
}

/** The child holding the sessions. */
export interface Http2Clients extends AsyncDisposable {
  /** A cleartext (prior knowledge) session to 127.0.0.1:port, once the server's SETTINGS came. */
  connect(port: number): Promise<RawSession>;
  /** Destroys every session still open and waits for the child. */
  close(): Promise<void>;
}

type ChildEvent =
  | { event: "connected"; session: number; maxConcurrentStreams?: number }
  | { event: "connectError"; session: number; message: string }
  | { event: "streamClosed"; stream: number; code: number }
  | { event: "sessionClosed"; session: number };

export function startHttp2Clients(): Http2Clients {
  const { child, stderr, stdin, send } = spawnJsonLinesChild([CHILD]);

  const connecting = new Map<number, PromiseWithResolvers<number | undefined>>();
  const sessionsClosed = new Map<number, PromiseWithResolvers<void>>();
  const streams = new Map<number, PromiseWithResolvers<number>>();
  let nextId = 0;
  const reading = (async () => {
    for await (const line of readLines(child.stdout)) {
      const event: ChildEvent = JSON.parse(line);
      if (event.event === "connected") {
        connecting.get(event.session)?.resolve(event.maxConcurrentStreams);
      } else if (event.event === "connectError") {
        connecting.get(event.session)?.reject(new Error(event.message));
      } else if (event.event === "streamClosed") {
        streams.get(event.stream)?.resolve(event.code);
        streams.delete(event.stream);
      } else {
        sessionsClosed.get(event.session)?.resolve();
        sessionsClosed.delete(event.session);
      }
    }
    // The child is gone: nothing still open will ever report.
    const gone = new Error(`the node:http2 client child ended: ${(await stderr).trim()}`);
    for (const connected of connecting.values()) connected.reject(gone);
    for (const stream of streams.values()) stream.resolve(-1);
    for (const closed of sessionsClosed.values()) closed.resolve();
  })();

  const connect = async (port: number): Promise<RawSession> => {
    const session = nextId++;
    const connected = Promise.withResolvers<number | undefined>();
    const closed = Promise.withResolvers<void>();
    connecting.set(session, connected);
    sessionsClosed.set(session, closed);
    send({ op: "connect", session, url: `http://127.0.0.1:${port}` });
    let maxConcurrentStreams: number | undefined;
    try {
      maxConcurrentStreams = await connected.promise;
    } finally {
      connecting.delete(session);
    }
    return {
      maxConcurrentStreams,
      closed: closed.promise,
      call(path, body, headers = {}) {
        const stream = nextId++;
        const done = Promise.withResolvers<number>();
        streams.set(stream, done);
        send({
          op: "request",
          session,
          stream,
          headers: {
            ":method": "POST",
            ":path": path,
            "content-type": "application/grpc",
            te: "trailers",
            ...headers,
          },
          body,
        });
        return { status: done.promise, cancel: () => void send({ op: "cancel", stream }) };
      },
      close() {
        send({ op: "close", session });
        return closed.promise;
      },
    };
  };

  let closing: Promise<void> | undefined;
  const stop = async () => {
    await stdin.close().catch(() => {});
    const timer = setTimeout(() => child.kill("SIGKILL"), EXIT_TIMEOUT_MS);
    try {
      const [status] = await Promise.all([child.status, reading]);
      if (!status.success) {
        throw new Error(
          `the node:http2 client child exited with ${
            status.signal ?? `code ${status.code}`
          } instead of 0 when closed: ${(await stderr).trim() || "(no stderr)"}`,
        );
      }
    } finally {
      clearTimeout(timer);
    }
  };
  const clients: Http2Clients = {
    connect,
    close: () => (closing ??= stop()),
    [Symbol.asyncDispose]: () => clients.close(),
  };
  return clients;
}
