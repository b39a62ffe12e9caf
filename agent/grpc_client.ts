/**
 * A minimal gRPC unary client on the agent's own HTTP/2 client (`_http2.ts`, on `Deno.connect`),
 * instead of `@grpc/grpc-js` or `fetch`.
 *
 * Why: the agent must stay under 50 MB resident. grpc-js (and `node:http2`, which it builds on)
 * loads Deno's Node compatibility layer (a `node:http2` client process sits at 50 MB with one
 * call per second; idle Deno: 36 MB), and `fetch` with its HTTP/2 stack costs about 3 MB more
 * than a plain TCP connection. Owning the HTTP/2 layer also gives the trailers, so the status
 * is read where gRPC puts it.
 *
 * What it does: one connection at a time, cleartext HTTP/2 with prior knowledge for `http://`,
 * TLS with ALPN `h2` for `https://`; calls share it until it fails or the server sends GOAWAY,
 * then the next call opens a new one (short-lived connections crash grpc-js servers under Deno,
 * see TOOLCHAIN.md). A call is a POST of one length-prefixed, uncompressed message with
 * `grpc-timeout` set from the deadline; the deadline and the caller's signal both end it.
 */
import { deadline, DeadlineTimer } from "../shared/deadline.ts";
import { GrpcStatus } from "../shared/wire/status.ts";
import { type HeaderFields, Http2Connection, Http2Error, type Http2Response } from "./_http2.ts";

/** What one unary call ended with: a status, and the response message when it is OK. */
export interface UnaryResult {
  code: number;
  details: string;
  /** The serialized response; present exactly when `code` is OK. */
  response?: Uint8Array;
}

export interface GrpcClientOptions {
  /** `host:port`; `[v6]:port` for IPv6. */
  address: string;
  /** Speak TLS (ALPN h2). Default false: cleartext HTTP/2 with prior knowledge. */
  tls?: boolean;
  /** PEM of the CA to trust for TLS instead of the system roots. */
  caCert?: string;
  /** PEM client certificate and key presented in the TLS handshake (mutual TLS). */
  clientCert?: { cert: string; key: string };
  /** Metadata sent with every call, e.g. `authorization`. Names in lower case. */
  metadata?: Readonly<Record<string, string>>;
}

/** HTTP status → gRPC status, for responses without `grpc-status` (gRPC's HTTP mapping). */
function statusOfHttp(httpStatus: number): number {
  switch (httpStatus) {
    case 400:
      return GrpcStatus.INTERNAL;
    case 401:
      return GrpcStatus.UNAUTHENTICATED;
    case 403:
      return GrpcStatus.PERMISSION_DENIED;
    case 404:
      return GrpcStatus.UNIMPLEMENTED;
    case 429:
    case 502:
    case 503:
    case 504:
      return GrpcStatus.UNAVAILABLE;
    default:
      return GrpcStatus.UNKNOWN;
  }
}

/** `grpc-message` is percent-encoded UTF-8; a malformed one is shown as it came. */
function decodeGrpcMessage(raw: string | null): string {
  if (!raw) return "";
  try {
    return decodeURIComponent(raw);
  } catch {
    return raw;
  }
}

/** RST_STREAM error code → gRPC status (gRPC's PROTOCOL-HTTP2 mapping). */
function statusOfReset(errorCode: number): number {
  switch (errorCode) {
    case 0x7: // REFUSED_STREAM
      return GrpcStatus.UNAVAILABLE;
    case 0x8: // CANCEL
      return GrpcStatus.CANCELLED;
    case 0xb: // ENHANCE_YOUR_CALM
      return GrpcStatus.RESOURCE_EXHAUSTED;
    case 0xc: // INADEQUATE_SECURITY
      return GrpcStatus.PERMISSION_DENIED;
    default:
      return GrpcStatus.INTERNAL;
  }
}

/** The status a finished HTTP/2 exchange carries, as gRPC over HTTP/2 defines it. */
function resultOf(response: Http2Response): UnaryResult {
  const header = (fields: HeaderFields, name: string) =>
    fields.find(([field]) => field === name)?.[1] ?? null;
  // Trailers-only responses (a call failing before it replies) carry the status in the headers.
  const statusFields = response.trailers.length > 0 ? response.trailers : response.headers;
  const status = header(statusFields, "grpc-status");
  const httpStatus = Number(header(response.headers, ":status"));
  if (status === null) {
    if (httpStatus !== 200) {
      return { code: statusOfHttp(httpStatus), details: `HTTP ${httpStatus} from the server` };
    }
    return { code: GrpcStatus.UNKNOWN, details: "the server ended the call without a grpc-status" };
  }
  const code = /^\d+$/.test(status) ? Number(status) : GrpcStatus.UNKNOWN;
  if (code !== GrpcStatus.OK) {
    return { code, details: decodeGrpcMessage(header(statusFields, "grpc-message")) };
  }
  const contentType = header(response.headers, "content-type") ?? "";
  if (!contentType.startsWith("application/grpc")) {
    return { code: GrpcStatus.UNKNOWN, details: `unexpected content-type "${contentType}"` };
  }
  if (response.data.length === 0) {
    return { code: GrpcStatus.INTERNAL, details: "status OK but no response message" };
  }
  return unframe(response.data);
}

/** `grpc-timeout` allows at most 8 digits: milliseconds while they fit, else seconds. */
function grpcTimeout(ms: number): string {
  const whole = Math.max(1, Math.ceil(ms));
  return whole < 1e8 ? `${whole}m` : `${Math.min(Math.ceil(whole / 1000), 99_999_999)}S`;
}

/** Prefixes `message` with the gRPC frame header: not compressed, 4-byte big-endian length. */
function frame(message: Uint8Array): Uint8Array<ArrayBuffer> {
  const framed = new Uint8Array(5 + message.length);
  new DataView(framed.buffer).setUint32(1, message.length);
  framed.set(message, 5);
  return framed;
}

/** The first message of a gRPC response body, or an error status. */
function unframe(body: Uint8Array): UnaryResult {
  if (body.length === 0) {
    return {
      code: GrpcStatus.UNKNOWN,
      details: "the server replied without a message or a grpc-status header",
    };
  }
  if (body.length < 5) {
    return { code: GrpcStatus.INTERNAL, details: `truncated gRPC frame of ${body.length} bytes` };
  }
  const view = new DataView(body.buffer, body.byteOffset, body.byteLength);
  const length = view.getUint32(1);
  if (body[0] !== 0) {
    return { code: GrpcStatus.INTERNAL, details: "compressed response, none was asked for" };
  }
  if (5 + length > body.length) {
    return {
      code: GrpcStatus.INTERNAL,
      details: `truncated gRPC message: ${body.length - 5} of ${length} bytes`,
    };
  }
  return { code: GrpcStatus.OK, details: "", response: body.subarray(5, 5 + length) };
}

export class GrpcClient {
  readonly #address: string;
  readonly #hostname: string;
  readonly #port: number;
  readonly #tls: boolean;
  readonly #caCerts?: string[];
  readonly #clientCert?: { cert: string; key: string };
  readonly #metadata: HeaderFields;
  #connection?: Promise<Http2Connection>;
  /** `#connection` once it opened, so a call on it need not wait for a promise. */
  #open?: Http2Connection;
  #closed = false;
  /** The deadlines of calls in flight, on one timer rather than one per call. */
  readonly #deadlines = new DeadlineTimer();

  constructor(options: GrpcClientOptions) {
    const match = /^(?:\[([^\]]+)\]|([^:]+)):(\d+)$/.exec(options.address);
    if (!match) {
      throw new TypeError(
        `Cannot create a gRPC client: expected host:port, got "${options.address}"`,
      );
    }
    this.#address = options.address;
    this.#hostname = match[1] ?? match[2];
    this.#port = Number(match[3]);
    this.#tls = options.tls ?? false;
    this.#caCerts = options.caCert ? [options.caCert] : undefined;
    this.#clientCert = options.clientCert;
    this.#metadata = Object.entries(options.metadata ?? {});
  }

  /**
   * The open connection, or a new one when there is none or it can no longer take calls.
   * `signal` (the deadline or cancellation of the call that needs it) abandons connecting.
   */
  async #connect(signal: AbortSignal): Promise<Http2Connection> {
    if (this.#connection) {
      const connection = await this.#connection.catch(() => undefined);
      if (connection?.usable) return connection;
    }
    const opening = Http2Connection.open({
      hostname: this.#hostname,
      port: this.#port,
      tls: this.#tls,
      caCerts: this.#caCerts,
      clientCert: this.#clientCert,
      signal,
    });
    this.#connection = opening;
    // A failed connect is not kept: the next call tries again.
    opening.catch(() => {
      if (this.#connection === opening) this.#connection = undefined;
    });
    const connection = await opening;
    if (this.#closed) connection.close();
    else if (this.#connection === opening) this.#open = connection;
    return connection;
  }

  /**
   * Calls the unary method at `path` (e.g. `/oxmon.MetricService/ReportMetrics`). Never throws:
   * a connection failure is UNAVAILABLE, the deadline passing DEADLINE_EXCEEDED and `signal`
   * aborting CANCELLED.
   */
  async unary(
    path: string,
    message: Uint8Array,
    options: { deadlineMs: number; signal?: AbortSignal },
  ): Promise<UnaryResult> {
    const remainingMs = options.deadlineMs - Date.now();
    if (remainingMs <= 0) {
      return { code: GrpcStatus.DEADLINE_EXCEEDED, details: "deadline passed before the call" };
    }
    if (options.signal?.aborted) return { code: GrpcStatus.CANCELLED, details: "cancelled" };
    if (this.#closed) return { code: GrpcStatus.UNAVAILABLE, details: "the client is closed" };
    const controller = new AbortController();
    let timedOut = false;
    const releaseDeadline = this.#deadlines.add(options.deadlineMs, () => {
      timedOut = true;
      controller.abort();
    });
    const onAbort = () => controller.abort();
    options.signal?.addEventListener("abort", onAbort, { once: true });
    try {
      // The connect itself is bounded by the deadline too (a host that drops SYNs).
      const connection = this.#open?.usable
        ? this.#open
        : await deadline(this.#connect(controller.signal), Infinity, {
          signal: controller.signal,
        });
      const response = await connection.request(
        [
          [":method", "POST"],
          [":scheme", this.#tls ? "https" : "http"],
          [":path", path],
          [":authority", this.#address],
          ["content-type", "application/grpc"],
          ["te", "trailers"],
          ["grpc-timeout", grpcTimeout(remainingMs)],
          ["user-agent", "oxmon-agent"],
          ...this.#metadata,
        ],
        frame(message),
        controller.signal,
      );
      return resultOf(response);
    } catch (error) {
      if (timedOut) {
        // The connection may be silently dead (a server or NAT gone without a reset): the next
        // call dials a new one instead of timing out on it until TCP gives up (~15 minutes).
        this.#dropConnection();
        return { code: GrpcStatus.DEADLINE_EXCEEDED, details: "deadline exceeded" };
      }
      if (options.signal?.aborted) return { code: GrpcStatus.CANCELLED, details: "cancelled" };
      if (error instanceof Http2Error && error.kind === "reset") {
        return { code: statusOfReset(error.errorCode), details: error.message };
      }
      return { code: GrpcStatus.UNAVAILABLE, details: (error as Error)?.message ?? String(error) };
    } finally {
      releaseDeadline();
      options.signal?.removeEventListener("abort", onAbort);
    }
  }

  #dropConnection(): void {
    const current = this.#connection;
    this.#connection = undefined;
    this.#open = undefined;
    current?.then((connection) => connection.close(), () => {});
  }

  /** Closes the connection; calls after this fail with UNAVAILABLE. */
  close(): void {
    this.#closed = true;
    this.#deadlines[Symbol.dispose]();
    this.#connection?.then((connection) => connection.close(), () => {});
  }
}
