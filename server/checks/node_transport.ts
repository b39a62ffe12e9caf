/**
 * The server's HTTP transport for checks with `tls_verify = false`: `node:http(s)`, which can
 * accept any certificate (Deno's fetch cannot) and shows the one it got, so the certificate's
 * days left come from the same connection. About 3× the CPU of fetch per request (measured),
 * which is why verified checks use fetch.
 */
import http from "node:http";
import https from "node:https";
import type { TLSSocket } from "node:tls";
import type { HttpCheckSpec, HttpTransport } from "../../shared/checks/mod.ts";
import { isRedirect, MAX_BODY_BYTES } from "../../shared/checks/http.ts";

const MAX_REDIRECTS = 10;

/** A transport that records the certificate it saw per call in `seen` (keyed by check name). */
export function nodeTransport(
  options: { caCerts?: (spec: HttpCheckSpec) => Promise<string[] | undefined> } = {},
): {
  transport: HttpTransport;
  /** The notAfter of the certificate the latest request of a check saw, epoch ms. */
  lastCertificate: Map<string, number>;
} {
  const lastCertificate = new Map<string, number>();
  const transport: HttpTransport = async (spec, { signal, readBody }) => {
    const ca = await options.caCerts?.(spec);
    let url = spec.url;
    let method = spec.method;
    let body = spec.body;
    for (let hop = 0;; hop++) {
      const response = await requestOnce(url, method, spec, body, { signal, readBody, ca });
      if (response.notAfterMs !== undefined) lastCertificate.set(spec.name, response.notAfterMs);
      if (spec.followRedirects && isRedirect(response.status) && response.location) {
        if (hop >= MAX_REDIRECTS) throw new Error(`more than ${MAX_REDIRECTS} redirects`);
        url = new URL(response.location, url).href;
        if (response.status === 303 || (response.status <= 302 && method === "POST")) {
          method = method === "HEAD" ? "HEAD" : "GET";
          body = undefined;
        }
        continue;
      }
      return { status: response.status, statusText: response.statusText, body: response.body };
    }
  };
  return { transport, lastCertificate };
}

interface OneResponse {
  status: number;
  statusText: string;
  location?: string;
  body?: string;
  notAfterMs?: number;
}

function requestOnce(
  url: string,
  method: string,
  spec: HttpCheckSpec,
  body: string | undefined,
  options: { signal: AbortSignal; readBody: boolean; ca?: string[] },
): Promise<OneResponse> {
  return new Promise((resolve, reject) => {
    const secure = url.startsWith("https:");
    const module = secure ? https : http;
    const request = module.request(url, {
      method,
      headers: spec.headers,
      agent: false,
      signal: options.signal,
      ...(secure
        ? { rejectUnauthorized: spec.tlsVerify, ...(options.ca ? { ca: options.ca } : {}) }
        : {}),
    }, (response) => {
      let notAfterMs: number | undefined;
      if (secure) {
        const cert = (response.socket as TLSSocket).getPeerCertificate?.();
        if (cert?.valid_to) notAfterMs = Date.parse(cert.valid_to);
      }
      const summary: OneResponse = {
        status: response.statusCode ?? 0,
        statusText: response.statusMessage ?? "",
        location: response.headers.location,
        notAfterMs,
      };
      if (!options.readBody || isRedirect(summary.status)) {
        response.resume();
        response.on("end", () => resolve(summary));
        response.on("error", reject);
        return;
      }
      const chunks: Uint8Array[] = [];
      let bytes = 0;
      response.on("data", (chunk: Uint8Array) => {
        if (bytes >= MAX_BODY_BYTES) return;
        chunks.push(chunk.subarray(0, MAX_BODY_BYTES - bytes));
        bytes += chunk.byteLength;
      });
      response.on("end", () => {
        summary.body = new TextDecoder().decode(concat(chunks));
        resolve(summary);
      });
      response.on("error", reject);
    });
    request.on("error", reject);
    request.end(body);
  });
}

function concat(chunks: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(chunks.reduce((n, c) => n + c.byteLength, 0));
  let offset = 0;
  for (const chunk of chunks) {
    out.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return out;
}
