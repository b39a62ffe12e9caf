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
 * grpc-js is loaded here only, when the child starts (a dynamic import): the server process,
 * which imports this module for `runListener`, never loads it (`module_graph_test.ts`).
 */
import type {
  sendUnaryData,
  ServerInterceptingCallInterface,
  ServerMethodDefinition,
  ServerUnaryCall,
  ServiceDefinition,
} from "@grpc/grpc-js";
import { Buffer } from "node:buffer";
import { createLogger, isLogLevel, type Logger } from "../../shared/log.ts";
import {
  decodeReportResponse,
  encodeReportResponse,
  GrpcStatus,
  REPORT_METRICS_PATH,
  type ReportResponse,
} from "../../shared/wire/mod.ts";
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
  type GuardedServer,
  InflightBudget,
  TlsFiles,
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

function bindAddress(host: string, port: number): string {
  return host.includes(":") && !host.startsWith("[") ? `[${host}]:${port}` : `${host}:${port}`;
}

/**
 * `MetricService` for grpc-js with raw request bytes: the parent decodes and validates them
 * once. Replies are encoded by hand (`shared/wire/`).
 */
const rawMetricServiceDefinition = {
  ReportMetrics: {
    path: REPORT_METRICS_PATH,
    requestStream: false,
    responseStream: false,
    requestSerialize: (bytes: Uint8Array) => Buffer.from(bytes),
    requestDeserialize: (bytes: Buffer) => bytes as Uint8Array,
    responseSerialize: (response: ReportResponse) => {
      const bytes = encodeReportResponse(response);
      return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    },
    responseDeserialize: (bytes: Buffer) => decodeReportResponse(bytes),
  },
} satisfies ServiceDefinition;

function firstText(values: (string | Uint8Array)[]): string {
  const value = values[0];
  if (value === undefined) return "";
  return typeof value === "string" ? value : new TextDecoder().decode(value);
}

/** Runs the child: never returns; exits when drained or when the parent goes away. */
export async function runListener(): Promise<never> {
  // Loading grpc-js takes a while: it overlaps with reaching the parent.
  const grpcJs = import("@grpc/grpc-js");
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

  const grpc = await grpcJs;
  const bounds: ListenerBounds = { ...DEFAULT_LISTENER_BOUNDS, ...settings.bounds };
  const maxMessageBytes = settings.maxMessageBytes ?? 4 * 1024 * 1024;
  const mutualTls = settings.tls?.clientCaFile !== undefined;
  const budget = new InflightBudget(bounds.maxInflightBytes);
  const guard = new ConnectionGuard({
    maxConnections: bounds.maxConnections,
    firstCallTimeoutMs: bounds.handshakeTimeoutMs,
  });
  const pending = new Map<number, sendUnaryData<ReportResponse>>();
  const pendingAuth = new Map<number, (code: number, message: string) => void>();
  let nextId = 1;
  const takeId = () => {
    const id = nextId;
    nextId = nextId >= 0xffffffff ? 1 : nextId + 1;
    return id;
  };
  const namesOf = (call: { getAuthContext(): { sslPeerCertificate?: unknown } }) =>
    mutualTls
      ? certificateNames(
        call.getAuthContext().sslPeerCertificate as Parameters<typeof certificateNames>[0],
      )
      : [];

  // Headers before body: grpc-js reads a call's body only once the handler asks for it, which
  // it does when the metadata reaches it. This interceptor holds the metadata back until the
  // server has accepted the credentials and the call has room in the in-flight budget, so a
  // stranger's request body is never read (flow control holds it at the client).
  const guardCall = (
    _method: ServerMethodDefinition<unknown, unknown>,
    call: ServerInterceptingCallInterface,
  ) => {
    let release: (() => void) | undefined;
    let ended = false;
    const end = () => {
      ended = true;
      release?.();
      release = undefined;
    };
    return new grpc.ServerInterceptingCall(call, {
      start(next) {
        next({
          onReceiveMetadata(metadata, proceed) {
            const id = takeId();
            pendingAuth.set(id, async (code, message) => {
              if (ended) return;
              if (code !== GrpcStatus.OK) {
                call.sendStatus({ code, details: message });
                return;
              }
              const granted = await budget.reserve(maxMessageBytes, bounds.inflightWaitMs);
              if (ended) {
                granted?.();
                return;
              }
              if (!granted) {
                call.sendStatus({
                  code: GrpcStatus.RESOURCE_EXHAUSTED,
                  details: "the server is busy (too many request bytes in flight); retry later",
                });
                return;
              }
              release = granted;
              proceed(metadata);
            });
            send(encodeAuth(
              id,
              firstText(metadata.get("authorization")),
              firstText(metadata.get("agent-id")),
              namesOf(call),
            ));
          },
          onCancel: end,
        });
      },
      sendStatus(status, next) {
        end();
        next(status);
      },
    });
  };

  const server = new grpc.Server({
    "grpc.max_receive_message_length": maxMessageBytes,
    "grpc.max_concurrent_streams": bounds.maxConcurrentStreams,
    "grpc.max_connection_idle_ms": bounds.idleTimeoutMs,
    "grpc.keepalive_time_ms": bounds.keepaliveTimeMs,
    "grpc.keepalive_timeout_ms": bounds.keepaliveTimeoutMs,
    interceptors: [guardCall],
  });
  server.addService(rawMetricServiceDefinition, {
    ReportMetrics(
      call: ServerUnaryCall<Uint8Array, ReportResponse>,
      callback: sendUnaryData<ReportResponse>,
    ) {
      const id = takeId();
      pending.set(id, callback);
      send(encodeRequest(
        id,
        firstText(call.metadata.get("authorization")),
        firstText(call.metadata.get("agent-id")),
        call.request,
        namesOf(call),
      ));
    },
  });

  let tlsFiles: TlsFiles | undefined;
  let credentials;
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
    // Certificates through a provider, so they can be replaced without a restart. Never grpc-js'
    // default root bundle: a grpc-js TLS server under Deno fails every handshake with it.
    credentials = grpc.experimental.createCertificateProviderServerCredentials(
      tlsFiles.identityProvider() as never,
      mutualTls ? tlsFiles.caProvider() as never : null,
      mutualTls,
    );
  } else credentials = grpc.ServerCredentials.createInsecure();

  let port: number;
  try {
    port = await new Promise<number>((resolve, reject) => {
      server.bindAsync(
        bindAddress(settings.host, settings.port),
        credentials,
        (error, bound) => error ? reject(error) : resolve(bound),
      );
    });
  } catch (error) {
    log.error("grpc listener cannot bind", { host: settings.host, port: settings.port, error });
    return await exit(EXIT_BIND_FAILED);
  }
  // grpc-js keeps its node:http2 servers in a field its types call private; the guard needs
  // their connection events (max connections, first-call deadline).
  const http2Servers = (server as unknown as { http2Servers?: Map<GuardedServer, unknown> })
    .http2Servers;
  if (!http2Servers || http2Servers.size === 0) {
    log.error("grpc listener: cannot reach grpc-js' HTTP/2 servers to bound connections");
    return await exit(EXIT_BIND_FAILED);
  }
  for (const http2Server of http2Servers.keys()) guard.watch(http2Server);
  let certWatch: ReturnType<typeof setInterval> | undefined;
  if (tlsFiles) {
    certWatch = setInterval(() => void tlsFiles.reloadIfChanged(), bounds.certCheckMs);
    // The provider hands the certificate to grpc-js on a later tick: let it arrive first.
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  send(encodeReady(port));

  const reader = new FrameReader();
  let draining = false;
  try {
    for await (const chunk of connection.readable) {
      for (const frame of reader.push(chunk)) {
        if (frame.type === FrameType.AUTH_RESULT) {
          const resume = pendingAuth.get(frame.id);
          pendingAuth.delete(frame.id);
          resume?.(frame.code, frame.message);
        } else if (frame.type === FrameType.RELOAD) {
          if (tlsFiles && await tlsFiles.reload()) log.info("grpc listener: TLS files reloaded");
        } else if (frame.type === FrameType.RESPONSE) {
          const callback = pending.get(frame.id);
          if (!callback) continue;
          pending.delete(frame.id);
          if (frame.code === GrpcStatus.OK) {
            callback(null, { success: true, message: frame.message });
          } else {
            callback({ code: frame.code, details: frame.message });
          }
        } else if (frame.type === FrameType.DRAIN && !draining) {
          draining = true;
          clearInterval(certWatch);
          guard.close();
          server.tryShutdown(() => exit(0));
        }
      }
    }
  } catch (error) {
    log.error("grpc listener: broken connection to the server", { error });
  }
  // The parent is gone: nobody can commit what is in flight, so nothing may be acknowledged.
  server.forceShutdown();
  return await exit(0);
}

// `deno bundle` compiles `import.meta.main` of a non-entry module to `false`; the file-name check
// also covers bundlers that leave it as the bundle's own, so the server never turns into a listener.
if (import.meta.main && import.meta.url.endsWith("/server/ingest/listener.ts")) {
  await runListener();
}
