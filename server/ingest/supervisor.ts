/**
 * Runs the gRPC listener as a child process and serves its requests with the `IngestService`.
 * The child may die at any moment (denoland/deno#36788 aborts it inside nghttp2): it is restarted
 * at once on the same port, and calls that were in flight in it are lost to their callers, who
 * retry (storage deduplicates) — nothing is ever acknowledged without a commit.
 *
 * Each child talks to the supervisor over its own Unix domain socket, in a directory private to
 * this supervisor: the socket is listened on before the child starts and closed (its file
 * removed) as soon as the child connects or dies. A pipe holds 64 KiB, about one 1,000-point
 * request, so the server used to see one request at a time; a socket's buffers hold several,
 * which are read at once and committed as a group.
 */
import { join } from "node:path";
import { settlesWithin } from "../../shared/deadline.ts";
import type { Logger } from "../../shared/log.ts";
import { GrpcStatus } from "../../shared/wire/mod.ts";
import { makeSocketDir } from "./_socket_dir.ts";
import { SERVER_V8_FLAGS_ARG } from "../v8_flags.ts";
import {
  type AuthFrame,
  encodeAuthResult,
  encodeDrain,
  encodeReload,
  encodeResponses,
  FrameReader,
  FrameType,
  FrameWriter,
  LISTENER_ENV,
  LISTENER_FLAG,
  type ListenerSettings,
  type RequestFrame,
} from "./_framing.ts";
import type { IngestMetadata, IngestRequest, IngestResult } from "./service.ts";

/**
 * What the supervisor needs of the ingest service (`IngestService` is one). The request bytes it
 * is given are a view of the supervisor's read buffer, valid only until the result (or its
 * promise) is returned: a handler that keeps them longer must copy them.
 */
export interface IngestHandler {
  handle(
    requestBytes: Uint8Array,
    metadata: IngestMetadata,
  ): IngestResult | Promise<IngestResult>;
  /** Requests that arrived together, committed at once; results in request order. Optional. */
  handleMany?(requests: readonly IngestRequest[]): IngestResult[];
  /**
   * Judges a call's credentials from its headers alone, before the listener reads its body:
   * undefined lets the body be read, a result refuses the call with it. Optional (all pass).
   */
  authenticate?(metadata: IngestMetadata): IngestResult | undefined;
}

export interface ListenerCommand {
  cmd: string;
  args: string[];
}

export interface GrpcIngestSupervisorOptions {
  host: string;
  /** 0 picks a free port once; restarted children bind the same one. */
  port: number;
  service: IngestHandler;
  log: Logger;
  /** How to start the child. Default `defaultListenerCommand()`. */
  command?: ListenerCommand;
  /** How long `stop()` lets calls in flight finish before killing the child. Default 5000. */
  graceMs?: number;
  /** How long a child may take to bind before it is killed. Default 20000. */
  startTimeoutMs?: number;
  /** Largest request the child accepts. Default 4 MiB (gRPC's own default). */
  maxMessageBytes?: number;
  /** Log level of the child. Default "warn". */
  childLogLevel?: ListenerSettings["logLevel"];
  /** TLS for the listener (mutual with `clientCaFile`). Default: plain text. */
  tls?: ListenerSettings["tls"];
  /** Connection, stream, byte and time bounds of the listener. */
  bounds?: ListenerSettings["bounds"];
  /**
   * Where the private folder of the children's sockets is made; stale folders of supervisors
   * that were killed are removed from it at start. Default: the system's temporary folder.
   */
  socketParentDir?: string;
}

export interface SupervisorStats {
  /** The bound port, once the first child is ready. */
  port?: number;
  /** Children started after the first. */
  restarts: number;
  /** Process id of the current child, if one runs. */
  pid?: number;
  /** Requests handed to the service, answered or not. */
  requests: number;
  /** Of those, requests that arrived with others and were handled together (group commit). */
  groupedRequests: number;
}

/** Backoff between restarts of a child that dies before it is ready (e.g. port in use). */
const MIN_BACKOFF_MS = 100;
const MAX_BACKOFF_MS = 5_000;
const STDERR_TAIL_LINES = 10;
const STDERR_WAIT_MS = 250;
/**
 * Bytes asked for per read of the child's socket: more than its buffers hold (208 KiB by
 * default on Linux), so one read takes every request that queued during the last commit.
 */
const READ_BUFFER_BYTES = 1024 * 1024;
/** For a service that throws. */
const INTERNAL_ERROR: IngestResult = {
  code: GrpcStatus.INTERNAL,
  message: "internal error",
  success: false,
};

/**
 * The argv that runs "this same program" as the listener, for the given runtime facts: under
 * `deno run` with the server's V8 flags (`SERVER_V8_FLAGS`; a compiled binary has them embedded).
 */
export function listenerCommandFor(execPath: string, mainModule: string): ListenerCommand {
  const base = execPath.split(/[\\/]/).pop()!.toLowerCase();
  if (base === "deno" || base === "deno.exe") {
    return { cmd: execPath, args: ["run", "-A", SERVER_V8_FLAGS_ARG, mainModule, LISTENER_FLAG] };
  }
  // A `deno compile`d binary: it is the program.
  return { cmd: execPath, args: [LISTENER_FLAG] };
}

/**
 * The running program in listener mode: `deno run -A <main module> --grpc-listener` under
 * `deno run` (also for a bundle, whose main module is the bundle file), the binary itself with
 * `--grpc-listener` when compiled.
 */
export function defaultListenerCommand(): ListenerCommand {
  return listenerCommandFor(Deno.execPath(), Deno.mainModule);
}

/** One child process and the pumps that serve it. */
interface Child {
  process: Deno.ChildProcess;
  /** Where the child connects; closed once it has (or once it has exited). */
  socket: Deno.Listener<Deno.UnixConn, Deno.UnixAddr>;
  /** Frames to the child, once it has connected. */
  writer?: FrameWriter;
  startedAt: number;
  /** Set once bound; cleared as soon as the process is seen to exit. */
  readyPort?: number;
  exited: boolean;
  ready: PromiseWithResolvers<number>;
  /** Both output pumps have finished and the process has exited. */
  done: Promise<void>;
  /** The stderr relay has read to the end. */
  stderrDone: Promise<void>;
  stderrTail: string[];
  readyTimer?: ReturnType<typeof setTimeout>;
}

export class GrpcIngestSupervisor {
  readonly #host: string;
  readonly #service: IngestHandler;
  readonly #log: Logger;
  readonly #command: ListenerCommand;
  readonly #graceMs: number;
  readonly #startTimeoutMs: number;
  readonly #maxMessageBytes?: number;
  readonly #childLogLevel: ListenerSettings["logLevel"];
  readonly #tls: ListenerSettings["tls"];
  readonly #bounds: ListenerSettings["bounds"];
  readonly #socketParentDir?: string;
  #port: number;
  #boundPort?: number;
  /** Private directory of the children's sockets, made by `start()`, removed by `stop()`. */
  #socketDir?: string;
  #spawned = 0;
  #child?: Child;
  #restarts = 0;
  #requests = 0;
  #groupedRequests = 0;
  #backoffMs = 0;
  #restartTimer?: ReturnType<typeof setTimeout>;
  #started = false;
  #stopping = false;
  #readyWaiters: (() => void)[] = [];

  constructor(options: GrpcIngestSupervisorOptions) {
    if (!Number.isInteger(options.port) || options.port < 0 || options.port > 65535) {
      throw new RangeError(
        `Cannot supervise the gRPC listener: port must be an integer from 0 to 65535, got ${options.port}`,
      );
    }
    this.#host = options.host;
    this.#port = options.port;
    this.#service = options.service;
    this.#log = options.log.with({ component: "grpc-supervisor" });
    this.#command = options.command ?? defaultListenerCommand();
    this.#graceMs = options.graceMs ?? 5_000;
    this.#startTimeoutMs = options.startTimeoutMs ?? 20_000;
    this.#maxMessageBytes = options.maxMessageBytes;
    this.#childLogLevel = options.childLogLevel;
    this.#tls = options.tls;
    this.#bounds = options.bounds;
    this.#socketParentDir = options.socketParentDir;
  }

  /** Starts the first child and resolves with its port once it is bound. */
  async start(): Promise<{ port: number }> {
    if (this.#started) throw new Error("Cannot start the gRPC listener twice");
    this.#started = true;
    this.#socketDir = await makeSocketDir({ parent: this.#socketParentDir, log: this.#log });
    let child: Child;
    try {
      child = this.#spawn();
    } catch (error) {
      await this.stop();
      throw error;
    }
    let port: number;
    try {
      port = await child.ready.promise;
    } catch (error) {
      await this.stop();
      throw error;
    }
    this.#boundPort = port;
    this.#port = port;
    this.#log.info("grpc listener ready", { host: this.#host, port, pid: child.process.pid });
    return { port };
  }

  stats(): SupervisorStats {
    const child = this.#child;
    return {
      port: this.#boundPort,
      restarts: this.#restarts,
      pid: child && !child.exited ? child.process.pid : undefined,
      requests: this.#requests,
      groupedRequests: this.#groupedRequests,
    };
  }

  /** Resolves when a child is bound and serving (at once if one is). */
  whenReady(): Promise<void> {
    const child = this.#child;
    if (child && !child.exited && child.readyPort !== undefined) return Promise.resolve();
    return new Promise((resolve) => this.#readyWaiters.push(resolve));
  }

  /** Tells the listener to read its TLS files again (SIGHUP); false without TLS or a child. */
  reloadTls(): boolean {
    const writer = this.#child?.writer;
    if (!this.#tls || !writer || this.#child?.exited) return false;
    writer.write(encodeReload());
    return true;
  }

  /** Lets calls in flight finish (up to the grace period), then ends the child. */
  async stop(): Promise<void> {
    this.#stopping = true;
    clearTimeout(this.#restartTimer);
    this.#restartTimer = undefined;
    for (const wake of this.#readyWaiters.splice(0)) wake();
    const child = this.#child;
    if (child) await this.#drain(child);
    if (this.#socketDir !== undefined) {
      await Deno.remove(this.#socketDir, { recursive: true }).catch(() => {});
      this.#socketDir = undefined;
    }
  }

  async #drain(child: Child): Promise<void> {
    // A child that has not connected yet gets DRAIN as soon as it does (see #serve).
    child.writer?.write(encodeDrain());
    const drained = await settlesWithin(child.process.status, this.#graceMs);
    if (!drained) {
      this.#log.warn("grpc listener did not drain in time; killing it", {
        grace_ms: this.#graceMs,
      });
      try {
        child.process.kill("SIGKILL");
      } catch {
        // Already gone.
      }
    }
    await child.done;
  }

  #spawn(): Child {
    const socketPath = join(this.#socketDir!, `listener-${++this.#spawned}.sock`);
    let socket: Deno.Listener<Deno.UnixConn, Deno.UnixAddr>;
    try {
      socket = Deno.listen({ transport: "unix", path: socketPath });
    } catch (error) {
      throw new Error(
        `Cannot start the gRPC listener: cannot listen on the Unix socket ${socketPath}`,
        { cause: error },
      );
    }
    const settings: ListenerSettings = { host: this.#host, port: this.#port, socketPath };
    if (this.#maxMessageBytes !== undefined) settings.maxMessageBytes = this.#maxMessageBytes;
    if (this.#childLogLevel !== undefined) settings.logLevel = this.#childLogLevel;
    if (this.#tls !== undefined) settings.tls = this.#tls;
    if (this.#bounds !== undefined) settings.bounds = this.#bounds;
    let process: Deno.ChildProcess;
    try {
      process = new Deno.Command(this.#command.cmd, {
        args: this.#command.args,
        env: { [LISTENER_ENV]: JSON.stringify(settings) },
        stdin: "null",
        stdout: "null",
        stderr: "piped",
      }).spawn();
    } catch (error) {
      socket.close();
      throw error;
    }
    const ready = Promise.withResolvers<number>();
    // start() may never await a restarted child's promise; keep its rejection quiet.
    ready.promise.catch(() => {});
    const child: Child = {
      process,
      socket,
      startedAt: performance.now(),
      exited: false,
      ready,
      done: Promise.resolve(),
      stderrDone: Promise.resolve(),
      stderrTail: [],
    };
    child.readyTimer = setTimeout(() => {
      this.#log.error("grpc listener did not bind in time; killing it", {
        timeout_ms: this.#startTimeoutMs,
      });
      try {
        process.kill("SIGKILL");
      } catch {
        // Already gone.
      }
    }, this.#startTimeoutMs);
    child.stderrDone = this.#relayStderr(child);
    child.done = Promise.all([
      this.#serve(child),
      child.stderrDone,
      process.status.then((status) => this.#onExit(child, status)),
    ]).then(() => {});
    this.#child = child;
    return child;
  }

  async #serve(child: Child): Promise<void> {
    let connection: Deno.UnixConn;
    try {
      connection = await child.socket.accept();
    } catch {
      return; // The child exited before connecting; #onExit closed the socket.
    } finally {
      closeQuietly(child.socket);
    }
    const writer = child.writer = new FrameWriter(connection);
    if (this.#stopping) writer.write(encodeDrain());
    const reader = new FrameReader();
    const buffer = new Uint8Array(READ_BUFFER_BYTES);
    try {
      while (true) {
        let read: number | null;
        try {
          read = await connection.read(buffer);
        } catch {
          break; // The child died with the connection open (e.g. reset): as the end of it.
        }
        if (read === null) break;
        const requests: RequestFrame[] = [];
        // The requests are handled before the next read: their payloads may be views.
        for (const frame of reader.pushBorrowed(buffer.subarray(0, read))) {
          if (frame.type === FrameType.REQUEST) requests.push(frame);
          else if (frame.type === FrameType.AUTH) this.#authenticate(writer, frame);
          else if (frame.type === FrameType.READY) this.#onReady(child, frame.port);
        }
        if (requests.length === 0) continue;
        this.#requests += requests.length;
        if (requests.length > 1) this.#groupedRequests += requests.length;
        const results = await this.#handle(requests);
        // One write for every reply of the read. A failed write means the child died: its
        // callers get no acknowledgement.
        writer.write(encodeResponses(requests.map((request, i) => ({
          id: request.id,
          code: results[i].code,
          message: results[i].message,
        }))));
      }
    } catch (error) {
      // A corrupt stream: this child cannot be trusted any more; the restart replaces it.
      this.#log.error("grpc listener protocol error; killing it", { error });
      try {
        child.process.kill("SIGKILL");
      } catch {
        // Already gone.
      }
    }
    await writer.flushed();
    closeQuietly(connection);
  }

  /** Answers a child's question whether a call's headers let its body be read. */
  #authenticate(writer: FrameWriter, frame: AuthFrame): void {
    let result: IngestResult | undefined;
    try {
      result = this.#service.authenticate?.({
        authorization: frame.authorization || undefined,
        agentId: frame.agentId || undefined,
        certificateNames: frame.certificateNames.length ? frame.certificateNames : undefined,
      });
    } catch (error) {
      this.#log.error("ingest authentication failed unexpectedly", { error });
      result = INTERNAL_ERROR;
    }
    writer.write(encodeAuthResult(frame.id, result?.code ?? 0, result?.message ?? ""));
  }

  /**
   * Serves requests that arrived together: in one group commit when the service can, otherwise
   * one at a time, in order. A service that throws fails its requests with INTERNAL.
   */
  async #handle(requests: RequestFrame[]): Promise<IngestResult[]> {
    const metadata = (request: RequestFrame): IngestMetadata => ({
      certificateNames: request.certificateNames.length ? request.certificateNames : undefined,
      authorization: request.authorization || undefined,
      agentId: request.agentId || undefined,
    });
    if (requests.length > 1 && this.#service.handleMany) {
      try {
        return this.#service.handleMany(
          requests.map((request) => ({ bytes: request.payload, metadata: metadata(request) })),
        );
      } catch (error) {
        this.#log.error("ingest failed unexpectedly", { error });
        return requests.map(() => INTERNAL_ERROR);
      }
    }
    const results: IngestResult[] = [];
    for (const request of requests) {
      try {
        let result = this.#service.handle(request.payload, metadata(request));
        // A synchronous service skips the await.
        if (result instanceof Promise) result = await result;
        results.push(result);
      } catch (error) {
        this.#log.error("ingest failed unexpectedly", { error });
        results.push(INTERNAL_ERROR);
      }
    }
    return results;
  }

  async #relayStderr(child: Child): Promise<void> {
    const decoder = new TextDecoderStream();
    let partial = "";
    const relay = (line: string) => {
      if (line === "") return;
      child.stderrTail.push(line);
      if (child.stderrTail.length > STDERR_TAIL_LINES) child.stderrTail.shift();
      this.#log.warn("grpc listener output", { line });
    };
    try {
      for await (const text of child.process.stderr.pipeThrough(decoder)) {
        const lines = (partial + text).split("\n");
        partial = lines.pop()!;
        for (const line of lines) relay(line);
      }
    } catch {
      // Only diagnostics are lost; the exit status still tells what happened.
    }
    relay(partial);
  }

  #onReady(child: Child, port: number): void {
    clearTimeout(child.readyTimer);
    child.readyPort = port;
    child.ready.resolve(port);
    if (this.#restarts > 0) {
      this.#log.info("grpc listener ready again", {
        port,
        pid: child.process.pid,
        restarts: this.#restarts,
        startup_ms: Math.round(performance.now() - child.startedAt),
      });
    }
    this.#backoffMs = 0;
    for (const wake of this.#readyWaiters.splice(0)) wake();
  }

  async #onExit(child: Child, status: Deno.CommandStatus): Promise<void> {
    child.exited = true;
    clearTimeout(child.readyTimer);
    const wasReady = child.readyPort !== undefined;
    // Ends a pending accept when the child died before connecting.
    closeQuietly(child.socket);
    if (!wasReady) {
      // The reason (e.g. "address in use") is the child's last words; wait briefly for them, but
      // not for a grandchild that might hold stderr open.
      await settlesWithin(child.stderrDone, STDERR_WAIT_MS);
      const tail = child.stderrTail.at(-1) ?? "";
      child.ready.reject(
        new Error(
          `Cannot start the gRPC listener on ${this.#host}:${this.#port}: the child exited with ` +
            `code ${status.code}${status.signal ? ` (${status.signal})` : ""}${
              tail ? `: ${tail}` : ""
            }`,
        ),
      );
    }
    if (this.#stopping || this.#boundPort === undefined) {
      if (this.#child === child) this.#child = undefined;
      return;
    }
    this.#restarts++;
    // Restart at once after a crash in service; back off only when children die before binding.
    this.#backoffMs = wasReady ? 0 : Math.min(
      MAX_BACKOFF_MS,
      Math.max(MIN_BACKOFF_MS, this.#backoffMs * 2),
    );
    this.#log.warn("grpc listener exited; restarting", {
      code: status.code,
      signal: status.signal,
      restarts: this.#restarts,
      ran_ms: Math.round(performance.now() - child.startedAt),
      backoff_ms: this.#backoffMs,
    });
    const restart = () => {
      this.#restartTimer = undefined;
      if (this.#stopping) return;
      try {
        this.#spawn();
      } catch (error) {
        // The executable itself cannot be started (removed, permissions): keep trying, slowly.
        this.#backoffMs = MAX_BACKOFF_MS;
        this.#log.error("grpc listener cannot be started; retrying", {
          error,
          backoff_ms: this.#backoffMs,
        });
        this.#restartTimer = setTimeout(restart, this.#backoffMs);
      }
    };
    if (this.#backoffMs === 0) restart();
    else this.#restartTimer = setTimeout(restart, this.#backoffMs);
  }
}

function closeQuietly(resource: { close(): void }): void {
  try {
    resource.close();
  } catch {
    // Already closed.
  }
}
