/**
 * A minimal gRPC unary client on Deno's `fetch` over HTTP/2, instead of `@grpc/grpc-js`.
 *
 * Why: the agent must stay under 50 MB resident. grpc-js (and `node:http2`, which it builds on)
 * loads Deno's Node compatibility layer: measured under Deno 2.9.6 with one call per second,
 * a `node:http2` client process sits at 50 MB and a `fetch` client at 44 MB (idle Deno: 36 MB).
 *
 * What it does: one `Deno.HttpClient` that speaks only HTTP/2 (prior knowledge for `http://`,
 * ALPN `h2` for `https://`), so calls share one long-lived connection that the client re-opens
 * when the server closes it (short-lived connections crash grpc-js servers under Deno, see
 * TOOLCHAIN.md). A call is a POST of one length-prefixed, uncompressed message with
 * `grpc-timeout` set from the deadline; the deadline and the caller's signal both abort it.
 *
 * The limit of `fetch`: response trailers cannot be read. The status is therefore taken from
 * the headers of a trailers-only response (how grpc-js servers, and gRPC servers generally,
 * answer a call that fails before replying), and a 200 response that carries one complete
 * message is taken as OK. A server that replies with a message and then a failing status in the
 * trailers would be misread as OK; a unary grpc-js server never does that. A response with
 * neither a status header nor a message is UNKNOWN, which the agent retries.
 *
 * Also from `fetch`: requests to the ports the Fetch standard blocks (6000, 6665–6669, 10080…)
 * fail, as UNAVAILABLE naming the port; gRPC's usual ports (9090, 50051, 443) are not among them.
 */

/** gRPC status codes (https://grpc.github.io/grpc/core/md_doc_statuscodes.html). */
export const GrpcStatus = Object.freeze({
  OK: 0,
  CANCELLED: 1,
  UNKNOWN: 2,
  INVALID_ARGUMENT: 3,
  DEADLINE_EXCEEDED: 4,
  NOT_FOUND: 5,
  ALREADY_EXISTS: 6,
  PERMISSION_DENIED: 7,
  RESOURCE_EXHAUSTED: 8,
  FAILED_PRECONDITION: 9,
  ABORTED: 10,
  OUT_OF_RANGE: 11,
  UNIMPLEMENTED: 12,
  INTERNAL: 13,
  UNAVAILABLE: 14,
  DATA_LOSS: 15,
  UNAUTHENTICATED: 16,
});

const STATUS_NAMES: readonly string[] = Object.keys(GrpcStatus);

/** `UNAVAILABLE` for 14; the number itself for a code this table does not know. */
export function grpcStatusName(code: number): string {
  return STATUS_NAMES[code] ?? String(code);
}

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

/**
 * fetch rejects with "fetch failed" and the reason in `cause`, e.g. "error sending request for
 * url (…): client error (Connect): tcp connect error: Connection refused (os error 111)".
 */
function connectionErrorDetails(error: unknown): string {
  const cause = (error as Error)?.cause;
  const message = cause instanceof Error ? cause.message : String((error as Error)?.message);
  return message.replace(/^error sending request for url \([^)]*\): /, "");
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
  readonly #origin: string;
  readonly #httpClient: Deno.HttpClient;
  readonly #metadata: Readonly<Record<string, string>>;

  constructor(options: GrpcClientOptions) {
    this.#origin = `${options.tls ? "https" : "http"}://${options.address}`;
    this.#httpClient = Deno.createHttpClient({
      http1: false,
      http2: true,
      ...(options.caCert ? { caCerts: [options.caCert] } : {}),
    });
    this.#metadata = options.metadata ?? {};
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
    const controller = new AbortController();
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      controller.abort();
    }, remainingMs);
    const onAbort = () => controller.abort();
    options.signal?.addEventListener("abort", onAbort, { once: true });
    try {
      const response = await fetch(this.#origin + path, {
        method: "POST",
        client: this.#httpClient,
        signal: controller.signal,
        headers: {
          ...this.#metadata,
          "content-type": "application/grpc",
          te: "trailers",
          "grpc-timeout": grpcTimeout(remainingMs),
          "user-agent": "oxmon-agent",
        },
        body: frame(message),
      });
      const status = response.headers.get("grpc-status");
      if (status !== null) {
        // Trailers-only: the call ended without a message.
        await response.body?.cancel();
        const code = Number(status);
        if (code === GrpcStatus.OK) {
          return { code: GrpcStatus.INTERNAL, details: "status OK but no response message" };
        }
        return {
          code: Number.isInteger(code) ? code : GrpcStatus.UNKNOWN,
          details: decodeGrpcMessage(response.headers.get("grpc-message")),
        };
      }
      if (response.status !== 200) {
        await response.body?.cancel();
        return {
          code: statusOfHttp(response.status),
          details: `HTTP ${response.status} from the server`,
        };
      }
      const contentType = response.headers.get("content-type") ?? "";
      if (!contentType.startsWith("application/grpc")) {
        await response.body?.cancel();
        return { code: GrpcStatus.UNKNOWN, details: `unexpected content-type "${contentType}"` };
      }
      return unframe(new Uint8Array(await response.arrayBuffer()));
    } catch (error) {
      if (timedOut) return { code: GrpcStatus.DEADLINE_EXCEEDED, details: "deadline exceeded" };
      if (options.signal?.aborted) return { code: GrpcStatus.CANCELLED, details: "cancelled" };
      return { code: GrpcStatus.UNAVAILABLE, details: connectionErrorDetails(error) };
    } finally {
      clearTimeout(timer);
      options.signal?.removeEventListener("abort", onAbort);
    }
  }

  /** Closes the connection; calls after this fail. */
  close(): void {
    this.#httpClient.close();
  }
}
