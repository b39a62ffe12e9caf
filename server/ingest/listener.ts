/**
 * The gRPC listener child process. grpc-js servers under Deno 2.9.6 can abort the whole process
 * inside nghttp2 (denoland/deno#36788), which JavaScript cannot catch, so the socket lives here
 * and the server process (the supervisor) holds storage. Request bytes go to the parent undecoded,
 * over a Unix domain socket the parent listens on (its buffers hold several 1,000-point requests,
 * where a pipe holds one, so the parent can commit them as a group); a caller is answered only
 * when the parent says so, i.e. after the batch is committed.
 *
 * Lifecycle is the parent's: SIGINT/SIGTERM are ignored (Ctrl-C reaches the whole process group
 * and the parent drains us itself), a DRAIN frame finishes calls in flight and exits 0, and the
 * end of the socket (the parent is gone) exits at once.
 *
 * HTTP/2 is spoken by `_http2_server.ts` on node:net / node:tls sockets, not grpc-js: node:http2
 * under Deno cost most of the CPU of a 3,000-agent fleet and can abort in nghttp2 (see above).
 */
import net from "node:net";
import tls from "node:tls";
import { createLogger, isLogLevel, type Logger } from "../../shared/log.ts";
import { encodeReportResponse, GrpcStatus, REPORT_METRICS_PATH } from "../../shared/wire/mod.ts";
import {
  type CallStatus,
  Http2Session,
  type SessionSocket,
  type UnaryHandler,
} from "./_http2_server.ts";
import {
  DEFAULT_LISTENER_BOUNDS,
  encodeAuth,
  encodeReady,
  encodeRequest,
  FrameReader,
  FrameType,
  FrameWriter,
  LISTENER_ENV,
  LISTENER_FLAG,
  type ListenerBounds,
  type ListenerSettings,
} from "./_framing.ts";
import {
  certificateNames,
  ConnectionGuard,
  InflightBudget,
  TlsFiles,
  type TlsMaterial,
} from "./_listener_bounds.ts";

export { LISTENER_ENV, LISTENER_FLAG, type ListenerSettings };

/**
 * Exit code when the settings are bad, the server's socket cannot be reached or the address
 * cannot be bound (e.g. port in use).
 */
export const EXIT_BIND_FAILED = 2;

/** Reads the settings the supervisor passes in `OXMON_GRPC_LISTENER`; throws naming the field. */
export function parseListenerSettings(text: string | undefined): ListenerSettings {
  if (!text) throw new TypeError(`Cannot start the gRPC listener: ${LISTENER_ENV} is not set`);
  let raw: Record<string, unknown>;
  try {
    raw = JSON.parse(text);
  } catch (error) {
    throw new TypeError(`Cannot parse ${LISTENER_ENV}: ${(error as Error).message}`);
  }
  const field = (name: string, problem: string) =>
    new TypeError(`Cannot parse ${LISTENER_ENV}.${name}: ${problem}`);
  if (typeof raw.host !== "string" || raw.host === "") {
    throw field("host", `expected a host name, got ${JSON.stringify(raw.host)}`);
  }
  const port = raw.port;
  if (typeof port !== "number" || !Number.isInteger(port) || port < 0 || port > 65535) {
    throw field("port", `expected an integer from 0 to 65535, got ${JSON.stringify(port)}`);
  }
  if (typeof raw.socketPath !== "string" || raw.socketPath === "") {
    throw field("socketPath", `expected a socket path, got ${JSON.stringify(raw.socketPath)}`);
  }
  const settings: ListenerSettings = { host: raw.host, socketPath: raw.socketPath, port };
  if (raw.maxMessageBytes !== undefined) {
    const max = raw.maxMessageBytes;
    if (typeof max !== "number" || !Number.isInteger(max) || max < 1) {
      throw field("maxMessageBytes", `expected a positive integer, got ${JSON.stringify(max)}`);
    }
    settings.maxMessageBytes = max;
  }
  if (raw.logLevel !== undefined) {
    if (!isLogLevel(raw.logLevel)) {
      throw field(
        "logLevel",
        `expected debug, info, warn or error, got ${JSON.stringify(raw.logLevel)}`,
      );
    }
    settings.logLevel = raw.logLevel;
  }
  if (raw.tls !== undefined) {
    const tls = raw.tls as Record<string, unknown> | null;
    const text = (key: string, optional = false) => {
      const value = tls?.[key];
      if (optional && value === undefined) return undefined;
      if (typeof value !== "string" || value === "") {
        throw field(`tls.${key}`, `expected a file path, got ${JSON.stringify(value)}`);
      }
      return value;
    };
    settings.tls = { certFile: text("certFile")!, keyFile: text("keyFile")! };
    const clientCaFile = text("clientCaFile", true);
    if (clientCaFile !== undefined) settings.tls.clientCaFile = clientCaFile;
  }
  if (raw.bounds !== undefined) {
    const bounds = raw.bounds as Record<string, unknown> | null;
    if (typeof bounds !== "object" || bounds === null) {
      throw field("bounds", `expected an object, got ${JSON.stringify(raw.bounds)}`);
    }
    settings.bounds = {};
    for (const [key, value] of Object.entries(bounds)) {
      if (!(key in DEFAULT_LISTENER_BOUNDS)) throw field(`bounds.${key}`, "unknown bound");
      if (typeof value !== "number" || !Number.isInteger(value) || value < 0) {
        throw field(
          `bounds.${key}`,
          `expected a non-negative integer, got ${JSON.stringify(value)}`,
        );
      }
      settings.bounds[key as keyof ListenerBounds] = value;
    }
  }
  return settings;
}

/** The parent's answer to a request, with the reply message when it is OK. */
function withReply(answer: CallStatus): CallStatus & { reply?: Uint8Array } {
  if (answer.code !== GrpcStatus.OK) return answer;
  return { ...answer, reply: encodeReportResponse({ success: true, message: answer.message }) };
}

type StartSession = (
  socket: SessionSocket,
  onFirstCall: () => void,
  certificateNames: readonly string[],
) => void;

/**
 * The TLS server of the listener (mutual TLS when a client CA is set). The guard sees each TCP
 * socket as it is accepted, the session its TLS socket once the handshake is done: they meet by
 * peer address.
 */
function createTlsServer(
  material: TlsMaterial,
  options: { mutualTls: boolean; guard: ConnectionGuard; startSession: StartSession; log: Logger },
): tls.Server {
  const { mutualTls, guard, startSession, log } = options;
  const server = tls.createServer({
    ...material,
    requestCert: mutualTls,
    rejectUnauthorized: mutualTls,
    ALPNProtocols: ["h2"],
  });
  const firstCallHooks = new Map<string, () => void>();
  const peerKey = (socket: net.Socket) => `${socket.remoteAddress}|${socket.remotePort}`;
  server.on("connection", (socket: net.Socket) => {
    const started = guard.accept(socket);
    if (!started) return;
    socket.on("error", () => {});
    const key = peerKey(socket);
    firstCallHooks.set(key, started);
    socket.once("close", () => firstCallHooks.delete(key));
  });
  server.on("secureConnection", (socket: tls.TLSSocket) => {
    const key = peerKey(socket);
    const started = firstCallHooks.get(key) ?? (() => {});
    firstCallHooks.delete(key);
    if (socket.alpnProtocol !== "h2" && socket.alpnProtocol !== false) {
      socket.destroy();
      return;
    }
    const names = mutualTls ? certificateNames(socket.getPeerCertificate()) : [];
    startSession(socket, started, names);
  });
  server.on("tlsClientError", (error: Error) => {
    log.debug("grpc listener: TLS handshake failed", { error: error.message });
  });
  return server;
}

/** The plain-text server of the listener. */
function createPlainServer(guard: ConnectionGuard, startSession: StartSession): net.Server {
  return net.createServer({ noDelay: true }, (socket) => {
    socket.on("error", () => {});
    const started = guard.accept(socket);
    if (started) startSession(socket, started, []);
  });
}

/** Binds `server`; resolves with its port. */
function listen(server: net.Server, host: string, port: number): Promise<number> {
  return new Promise<number>((resolve, reject) => {
    server.once("error", reject);
    server.listen({ host, port }, () => {
      server.off("error", reject);
      server.on("error", () => {});
      resolve((server.address() as net.AddressInfo).port);
    });
  });
}

/** Runs the child: never returns; exits when drained or when the parent goes away. */
export async function runListener(): Promise<never> {
  let settings: ListenerSettings;
  let log: Logger = createLogger({ level: "warn" }, { component: "grpc-listener" });
  try {
    settings = parseListenerSettings(Deno.env.get(LISTENER_ENV));
  } catch (error) {
    log.error("grpc listener cannot start", { error });
    Deno.exit(EXIT_BIND_FAILED);
  }
  log = createLogger({ level: settings.logLevel ?? "warn" }, { component: "grpc-listener" });
  for (const signal of ["SIGINT", "SIGTERM"] as const) {
    try {
      Deno.addSignalListener(signal, () => {});
    } catch {
      // Windows has no SIGTERM listener; the parent still ends us through the socket.
    }
  }

  let connection: Deno.UnixConn;
  try {
    connection = await Deno.connect({ transport: "unix", path: settings.socketPath });
  } catch (error) {
    log.error("grpc listener cannot reach the server", { socket: settings.socketPath, error });
    Deno.exit(EXIT_BIND_FAILED);
  }
  // A failed write means the parent is gone.
  const writer = new FrameWriter(connection, () => Deno.exit(0));
  const send = (frame: Uint8Array) => writer.write(frame);
  const exit = async (code: number): Promise<never> => {
    await writer.flushed();
    Deno.exit(code);
  };

  const bounds: ListenerBounds = { ...DEFAULT_LISTENER_BOUNDS, ...settings.bounds };
  const maxMessageBytes = settings.maxMessageBytes ?? 4 * 1024 * 1024;
  const mutualTls = settings.tls?.clientCaFile !== undefined;
  const budget = new InflightBudget(bounds.maxInflightBytes);
  const guard = new ConnectionGuard({
    maxConnections: bounds.maxConnections,
    firstCallTimeoutMs: bounds.handshakeTimeoutMs,
  });
  const parentAnswers = new Map<number, (answer: CallStatus) => void>();
  let nextId = 1;
  const nextQuestionId = (): number => {
    const id = nextId;
    nextId = nextId >= 0xffffffff ? 1 : nextId + 1;
    return id;
  };
  /** Sends `frame`, the question numbered `id`, and resolves with the parent's answer. */
  const ask = (id: number, frame: Uint8Array): Promise<CallStatus> =>
    new Promise((resolve) => {
      parentAnswers.set(id, resolve);
      send(frame);
    });
  const busy: CallStatus = {
    code: GrpcStatus.RESOURCE_EXHAUSTED,
    message: "the server is busy (too many request bytes in flight); retry later",
  };

  const handler: UnaryHandler = {
    // A request that came whole with its headers reserves its own size and goes straight to the
    // parent, which authenticates it before decoding. Otherwise the parent first judges the
    // headers, and the call reserves the largest request it may send before its body is read.
    async admit(call, wholeBodyBytes) {
      if (wholeBodyBytes === undefined) {
        const id = nextQuestionId();
        const verdict = await ask(
          id,
          encodeAuth(id, call.authorization, call.agentId, call.certificateNames),
        );
        if (verdict.code !== GrpcStatus.OK) return verdict;
      }
      const release = await budget.reserve(
        wholeBodyBytes ?? maxMessageBytes,
        bounds.inflightWaitMs,
      );
      return release ? { release } : busy;
    },
    // Not async, and nothing here holds `message` while the parent commits it: the frame is
    // copied into the writer's buffer at once, so the request's bytes die young.
    handle(call, message) {
      const id = nextQuestionId();
      return ask(
        id,
        encodeRequest(id, call.authorization, call.agentId, message, call.certificateNames),
      ).then(withReply);
    },
  };

  let tlsFiles: TlsFiles | undefined;
  if (settings.tls) {
    tlsFiles = new TlsFiles(settings.tls, (error) => {
      log.error("grpc listener: cannot read the TLS files; keeping the ones in use", { error });
    });
    try {
      await tlsFiles.load();
    } catch (error) {
      log.error("grpc listener cannot read its TLS files", { error });
      return await exit(EXIT_BIND_FAILED);
    }
  }

  const sessions = new Set<Http2Session>();
  const startSession: StartSession = (socket, onFirstCall, certificateNames) => {
    const session = new Http2Session(socket, {
      handler,
      path: REPORT_METRICS_PATH,
      maxConcurrentStreams: bounds.maxConcurrentStreams,
      maxMessageBytes,
      certificateNames,
      onFirstCall,
      onClose: () => sessions.delete(session),
      onProtocolError: (message) => log.debug("grpc listener: HTTP/2 protocol error", { message }),
    });
    sessions.add(session);
  };
  // node:net and node:tls sockets: node:tls verifies client certificates (mutual TLS) and tells
  // their names. Deno.listen was tried for plain text: 320 MB against node:net's 265 MB of
  // listener RSS at 3,000 agents (notes/i10-load.md).
  const server = tlsFiles
    ? createTlsServer(tlsFiles.material, { mutualTls, guard, startSession, log })
    : createPlainServer(guard, startSession);
  let port: number;
  try {
    port = await listen(server, settings.host, settings.port);
  } catch (error) {
    log.error("grpc listener cannot bind", { host: settings.host, port: settings.port, error });
    return await exit(EXIT_BIND_FAILED);
  }

  // One timer for every connection: call deadlines, keepalive PINGs, idle timeouts.
  const sweepMs = Math.max(100, Math.min(1_000, bounds.idleTimeoutMs / 4));
  const sweep = setInterval(() => {
    const now = performance.now();
    for (const session of sessions) session.tick(now, bounds);
  }, sweepMs);
  const reloadTls = async () => {
    if (!tlsFiles || !await tlsFiles.reload()) return false;
    (server as tls.Server).setSecureContext(tlsFiles.material);
    return true;
  };
  let certWatch: ReturnType<typeof setInterval> | undefined;
  if (tlsFiles) {
    certWatch = setInterval(async () => {
      if (await tlsFiles.reloadIfChanged()) {
        (server as tls.Server).setSecureContext(tlsFiles.material);
      }
    }, bounds.certCheckMs);
  }
  send(encodeReady(port));

  const reader = new FrameReader();
  let draining = false;
  const drained = async () => {
    while (sessions.size > 0) await new Promise((resolve) => setTimeout(resolve, 50));
    clearInterval(sweep);
    await exit(0);
  };
  try {
    for await (const chunk of connection.readable) {
      for (const frame of reader.push(chunk)) {
        if (frame.type === FrameType.AUTH_RESULT || frame.type === FrameType.RESPONSE) {
          const resolve = parentAnswers.get(frame.id);
          parentAnswers.delete(frame.id);
          resolve?.({ code: frame.code, message: frame.message });
        } else if (frame.type === FrameType.RELOAD) {
          if (await reloadTls()) log.info("grpc listener: TLS files reloaded");
        } else if (frame.type === FrameType.DRAIN && !draining) {
          draining = true;
          clearInterval(certWatch);
          guard.close();
          server.close();
          for (const session of sessions) session.goAway();
          drained();
        }
      }
    }
  } catch (error) {
    log.error("grpc listener: broken connection to the server", { error });
  }
  // The parent is gone: nobody can commit what is in flight, so nothing may be acknowledged.
  for (const session of sessions) session.destroy();
  return await exit(0);
}

// `deno bundle` compiles `import.meta.main` of a non-entry module to `false`; the file-name check
// also covers bundlers that leave it as the bundle's own, so the server never turns into a listener.
if (import.meta.main && import.meta.url.endsWith("/server/ingest/listener.ts")) {
  await runListener();
}
