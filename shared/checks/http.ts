/**
 * The `http` check: one request, then the status and (when asked) the body are judged. The
 * request itself goes through a transport: `fetchTransport` (Deno's fetch, used by agents and by
 * the server for verified TLS) or another the caller brings (the server's for `tls_verify = false`).
 */
import type { CheckOutcome, HttpCheckSpec, StatusRange } from "./spec.ts";
import { describeProbeError } from "./_errors.ts";

/** Bodies are read up to this many bytes for `body_contains` / `body_regex`. */
export const MAX_BODY_BYTES = 1024 * 1024;
const MAX_REDIRECTS = 10;

export interface HttpResponseSummary {
  status: number;
  statusText: string;
  /** The first `MAX_BODY_BYTES` of the body as text, when `readBody` was asked for. */
  body?: string;
}

export interface HttpTransportOptions {
  signal: AbortSignal;
  /** Read the body (up to `MAX_BODY_BYTES`); otherwise it is discarded unread. */
  readBody: boolean;
}

/** Makes the request a check describes and sums up the final response. */
export type HttpTransport = (
  spec: HttpCheckSpec,
  options: HttpTransportOptions,
) => Promise<HttpResponseSummary>;

export interface HttpCheckOptions {
  signal: AbortSignal;
  transport: HttpTransport;
}

/** Runs one `http` check. Never throws: a failure is an outcome with `up: false`. */
export async function runHttpCheck(
  spec: HttpCheckSpec,
  options: HttpCheckOptions,
): Promise<CheckOutcome> {
  const started = performance.now();
  const readBody = spec.bodyContains !== undefined || spec.bodyRegex !== undefined;
  let response: HttpResponseSummary;
  try {
    response = await options.transport(spec, { signal: options.signal, readBody });
  } catch (error) {
    return {
      up: false,
      durationMs: performance.now() - started,
      message: describeProbeError(error, options.signal),
    };
  }
  const durationMs = performance.now() - started;
  const statusText = `${response.status}${response.statusText ? ` ${response.statusText}` : ""}`;
  const outcome = (up: boolean, message: string): CheckOutcome => ({
    up,
    durationMs,
    message,
    statusCode: response.status,
  });
  if (!statusExpected(response.status, spec.expectedStatus)) {
    return outcome(
      false,
      `status ${statusText} is not ${spec.expectedStatus.map(formatRange).join(", ")}`,
    );
  }
  const body = response.body ?? "";
  if (spec.bodyContains !== undefined && !body.includes(spec.bodyContains)) {
    return outcome(false, `body does not contain ${JSON.stringify(spec.bodyContains)}`);
  }
  if (spec.bodyRegex !== undefined && !new RegExp(spec.bodyRegex).test(body)) {
    return outcome(false, `body does not match /${spec.bodyRegex}/`);
  }
  return outcome(true, statusText);
}

export function statusExpected(status: number, ranges: readonly StatusRange[]): boolean {
  return ranges.some((range) => status >= range.min && status <= range.max);
}

function formatRange(range: StatusRange): string {
  if (range.min === range.max) return String(range.min);
  if (range.min % 100 === 0 && range.max === range.min + 99) return `${range.min / 100}xx`;
  return `${range.min}-${range.max}`;
}

export interface FetchTransport {
  transport: HttpTransport;
  /** Closes the HTTP clients made for `tls_ca_file`s. */
  close(): void;
}

/**
 * Requests with Deno's `fetch`, which pools connections per host and always verifies TLS. A
 * check with `tls_ca_file` gets an HTTP client trusting that file as well (made once per file).
 */
export function fetchTransport(): FetchTransport {
  const clients = new Map<string, Promise<Deno.HttpClient>>();
  const clientFor = (caFile: string) => {
    let client = clients.get(caFile);
    if (!client) {
      client = Deno.readTextFile(caFile).then(
        (pem) => Deno.createHttpClient({ caCerts: [pem] }),
        (error) => {
          clients.delete(caFile);
          throw new Error(`cannot read tls_ca_file ${caFile}: ${error.message}`, { cause: error });
        },
      );
      clients.set(caFile, client);
    }
    return client;
  };
  const transport: HttpTransport = async (spec, { signal, readBody }) => {
    const client = spec.tlsCaFile ? await clientFor(spec.tlsCaFile) : undefined;
    let url = spec.url;
    let method = spec.method;
    let body = spec.body;
    // Redirects are followed here rather than by fetch, so a hop is counted and its status kept.
    for (let hop = 0;; hop++) {
      const response = await fetch(url, {
        method,
        headers: spec.headers,
        body,
        redirect: "manual",
        signal,
        ...(client ? { client } : {}),
      });
      const location = response.headers.get("location");
      if (spec.followRedirects && isRedirect(response.status) && location !== null) {
        await response.body?.cancel();
        if (hop >= MAX_REDIRECTS) throw new Error(`more than ${MAX_REDIRECTS} redirects`);
        url = new URL(location, url).href;
        // As browsers do: 303 (and 301/302 after POST) turn into GET without a body.
        if (response.status === 303 || (response.status <= 302 && method === "POST")) {
          method = method === "HEAD" ? "HEAD" : "GET";
          body = undefined;
        }
        continue;
      }
      const summary: HttpResponseSummary = {
        status: response.status,
        statusText: response.statusText,
      };
      if (readBody) summary.body = await readCapped(response.body, MAX_BODY_BYTES);
      else await response.body?.cancel();
      return summary;
    }
  };
  return {
    transport,
    close() {
      for (const client of clients.values()) client.then((c) => c.close(), () => {});
      clients.clear();
    },
  };
}

export function isRedirect(status: number): boolean {
  return status === 301 || status === 302 || status === 303 || status === 307 || status === 308;
}

/** The first `maxBytes` of a body as UTF-8 text; the rest is not read. */
export async function readCapped(
  stream: ReadableStream<Uint8Array> | null,
  maxBytes: number,
): Promise<string> {
  if (!stream) return "";
  const reader = stream.getReader();
  const decoder = new TextDecoder();
  let text = "";
  let bytes = 0;
  try {
    while (bytes < maxBytes) {
      const { done, value } = await reader.read();
      if (done) return text + decoder.decode();
      const chunk = value.byteLength > maxBytes - bytes
        ? value.subarray(0, maxBytes - bytes)
        : value;
      bytes += chunk.byteLength;
      text += decoder.decode(chunk, { stream: true });
    }
    return text + decoder.decode();
  } finally {
    await reader.cancel().catch(() => {});
  }
}
