/**
 * One TLS handshake that completes whatever the certificate is like, so a bad certificate is
 * described (expired, self-signed, incomplete chain, wrong host name) instead of aborting the
 * check. Deno's own `Deno.connectTls` aborts on a verification failure and never shows the peer
 * certificate, so this uses `node:tls` with `rejectUnauthorized: false` and reads `authorized`,
 * `authorizationError` and `getPeerCertificate(true)` afterwards.
 *
 * Measured under Deno 2.9.6: the handshake completes and `authorized` is right for every case,
 * but `authorizationError` is coarse — an expired leaf comes back as
 * UNABLE_TO_VERIFY_LEAF_SIGNATURE, like an unknown issuer — so the reason is worked out here from
 * the certificate's dates and the chain the server presented, and the code is kept beside it.
 */
import { X509Certificate } from "node:crypto";
import { lookup } from "node:dns/promises";
import { isIP } from "node:net";
import tls from "node:tls";
import { MS_PER_DAY } from "../../shared/time.ts";

/** Whole days from `nowMs` to `notAfterMs`, truncated toward zero. */
export function daysLeft(notAfterMs: number, nowMs: number): number {
  return Math.trunc((notAfterMs - nowMs) / MS_PER_DAY);
}

export interface CertificateInspection {
  /** The addresses the host name resolved to (all of them, IPv4 and IPv6). */
  resolvedAddresses: string[];
  /** `TLSv1.3`, `TLSv1.2`, … */
  tlsVersion: string | null;
  /** The chain leads to a trusted root (whatever the host name). */
  chainValid: boolean;
  /** The certificate names the host; null when the chain did not verify (then it is not checked). */
  hostnameValid: boolean | null;
  /** Chain and host name verified and the dates include now. */
  isValid: boolean;
  /** Why it is not valid, e.g. `certificate expired 2 days ago (CERT: UNABLE_TO_VERIFY_LEAF_SIGNATURE)`. */
  error: string | null;
  subject: string;
  issuer: string;
  /** DNS names and IP addresses the certificate is for. */
  subjectAltNames: string[];
  notBeforeMs: number;
  notAfterMs: number;
  /** Whole days from now to notAfter, truncated toward zero (as the original oxmon counts). */
  daysUntilExpiry: number;
  serialNumber: string;
  /** Colon-separated hex. */
  fingerprintSha256: string;
  /** `rsa`, `ec`, `ed25519`, … */
  keyType: string;
  keyBits: number | null;
  /** Subjects from the leaf up, as the handshake built the chain. */
  chain: string[];
}

export interface InspectOptions {
  /** Connect plus handshake. */
  timeoutMs: number;
  /** Time used for dates and days left (the injected clock). */
  nowMs: number;
  /** PEM certificates trusted in addition to the system roots. */
  extraCaCerts?: readonly string[];
  signal?: AbortSignal;
}

const CURVE_BITS: Record<string, number> = {
  prime256v1: 256,
  secp256r1: 256,
  secp384r1: 384,
  secp521r1: 521,
  secp256k1: 256,
};

/**
 * Connects to `host:port`, completes a TLS handshake with SNI `host` and describes the server's
 * certificate. Throws an `Error` saying what failed when no handshake happened (DNS, connection
 * refused, timeout, not TLS).
 */
export async function inspectCertificate(
  host: string,
  port: number,
  options: InspectOptions,
): Promise<CertificateInspection> {
  const resolvedAddresses = await resolveAll(host);
  const socket = await handshake(host, port, options);
  try {
    return describe(socket, resolvedAddresses, options.nowMs);
  } finally {
    socket.destroy();
  }
}

async function resolveAll(host: string): Promise<string[]> {
  if (isIP(host)) return [host];
  try {
    const addresses = await lookup(host, { all: true });
    return [...new Set(addresses.map((entry) => entry.address))];
  } catch (error) {
    throw new Error(`cannot resolve ${host}: ${(error as Error).message}`, { cause: error });
  }
}

function handshake(host: string, port: number, options: InspectOptions): Promise<tls.TLSSocket> {
  return new Promise((resolve, reject) => {
    const ca = options.extraCaCerts?.length
      ? [...tls.rootCertificates, ...options.extraCaCerts]
      : undefined;
    const socket = tls.connect({
      host,
      port,
      servername: isIP(host) ? undefined : host,
      rejectUnauthorized: false,
      ...(ca ? { ca } : {}),
    });
    let settled = false;
    const fail = (message: string, cause?: unknown) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      options.signal?.removeEventListener("abort", onAbort);
      socket.destroy();
      reject(new Error(message, { cause }));
    };
    const onAbort = () =>
      fail(`cancelled: ${String(options.signal?.reason)}`, options.signal?.reason);
    const timer = setTimeout(
      () => fail(`TLS handshake with ${host}:${port} timed out after ${options.timeoutMs} ms`),
      options.timeoutMs,
    );
    options.signal?.addEventListener("abort", onAbort, { once: true });
    socket.once("secureConnect", () => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      options.signal?.removeEventListener("abort", onAbort);
      resolve(socket);
    });
    socket.once("error", (error: NodeJS.ErrnoException) => {
      const reason = error.code === "ECONNREFUSED" ? "connection refused" : error.message;
      fail(`cannot complete a TLS handshake with ${host}:${port}: ${reason}`, error);
    });
  });
}

function describe(
  socket: tls.TLSSocket,
  resolvedAddresses: string[],
  nowMs: number,
): CertificateInspection {
  const peer = socket.getPeerCertificate(true);
  if (!peer || !peer.raw) throw new Error("the server sent no certificate");
  const leaf = new X509Certificate(peer.raw);
  const chain: string[] = [];
  let last: tls.DetailedPeerCertificate = peer;
  for (
    let cert: tls.DetailedPeerCertificate | undefined = peer;
    cert && chain.length < 10;
    cert = cert.issuerCertificate
  ) {
    chain.push(new X509Certificate(cert.raw).subject.replace(/\n/g, ", "));
    last = cert;
    if (!cert.issuerCertificate || cert.issuerCertificate === cert) break;
  }
  const lastCert = new X509Certificate(last.raw);
  const notBeforeMs = Date.parse(leaf.validFrom);
  const notAfterMs = Date.parse(leaf.validTo);
  const code = socket.authorizationError ? String(socket.authorizationError) : null;
  // A host name is checked only once the chain verified, so a name mismatch means a good chain.
  const chainValid = socket.authorized || code === "ERR_TLS_CERT_ALTNAME_INVALID";
  const hostnameValid = chainValid ? code !== "ERR_TLS_CERT_ALTNAME_INVALID" : null;
  const inDates = nowMs >= notBeforeMs && nowMs <= notAfterMs;
  const reasons: string[] = [];
  if (nowMs > notAfterMs) {
    reasons.push(`certificate expired ${Math.floor((nowMs - notAfterMs) / MS_PER_DAY)} days ago`);
  } else if (nowMs < notBeforeMs) {
    reasons.push("certificate is not valid yet");
  }
  if (!socket.authorized) {
    if (code === "ERR_TLS_CERT_ALTNAME_INVALID") {
      reasons.push(`host name does not match the certificate (${leaf.subjectAltName ?? "no SAN"})`);
    } else if (chain.length === 1 && leaf.checkIssued(leaf)) {
      reasons.push("self-signed certificate");
    } else if (!lastCert.checkIssued(lastCert)) {
      reasons.push(
        `incomplete or untrusted chain: nothing trusted issued "${
          lastCert.issuer.replace(/\n/g, ", ")
        }"` +
          " (is the intermediate certificate missing?)",
      );
    } else if (reasons.length === 0) {
      reasons.push("the chain does not lead to a trusted root");
    }
  }
  const error = reasons.length === 0 && !code
    ? null
    : `${reasons.join("; ") || "verification failed"}${code ? ` (${code})` : ""}`;
  const key = leaf.publicKey;
  const details: { modulusLength?: number; namedCurve?: string } = key.asymmetricKeyDetails ?? {};
  let keyBits: number | null = null;
  if (details.modulusLength !== undefined) keyBits = details.modulusLength;
  else if (details.namedCurve !== undefined) keyBits = CURVE_BITS[details.namedCurve] ?? null;
  else if (key.asymmetricKeyType === "ed25519") keyBits = 256;
  else if (key.asymmetricKeyType === "ed448") keyBits = 456;
  return {
    resolvedAddresses,
    tlsVersion: socket.getProtocol() ?? null,
    chainValid,
    hostnameValid,
    isValid: socket.authorized && inDates,
    error,
    subject: leaf.subject.replace(/\n/g, ", "),
    issuer: leaf.issuer.replace(/\n/g, ", "),
    subjectAltNames: parseSubjectAltNames(leaf.subjectAltName),
    notBeforeMs,
    notAfterMs,
    daysUntilExpiry: daysLeft(notAfterMs, nowMs),
    serialNumber: leaf.serialNumber.toUpperCase(),
    fingerprintSha256: leaf.fingerprint256,
    keyType: key.asymmetricKeyType ?? "unknown",
    keyBits,
    chain,
  };
}

/** `DNS:a.example, IP Address:127.0.0.1` → `["a.example", "127.0.0.1"]`. */
export function parseSubjectAltNames(text: string | undefined): string[] {
  if (!text) return [];
  return text.split(/,\s*/).map((entry) => entry.replace(/^(DNS|IP Address|IP):/, "").trim())
    .filter((entry) => entry !== "");
}
