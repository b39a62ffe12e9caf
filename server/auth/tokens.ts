/**
 * Bearer tokens as the server holds them: a SHA-256 digest, never the token itself once the
 * config is read. Every comparison is between equal-length digests and in constant time, and a
 * lookup compares against every digest without stopping early, so the time taken says nothing
 * about which token (if any) matched.
 */
import { Buffer } from "node:buffer";
import { createHash, randomBytes, timingSafeEqual } from "node:crypto";

/** A token's SHA-256, hex, as `token_sha256` takes it (`printf %s TOKEN | sha256sum`). */
export function sha256Hex(text: string): string {
  return createHash("sha256").update(text).digest("hex");
}

/** The digest of a token, for constant-time comparison. */
export function tokenDigest(token: string): Uint8Array {
  return createHash("sha256").update(token).digest();
}

/** Parses a `token_sha256` value: 64 hex digits. Throws `TypeError` otherwise. */
export function digestFromHex(hex: string): Uint8Array {
  if (!/^[0-9a-fA-F]{64}$/.test(hex)) {
    throw new TypeError(`expected 64 hex digits (a SHA-256), got ${hex.length} characters`);
  }
  return Buffer.from(hex, "hex");
}

/** What a token may look like: printable ASCII without spaces (it travels in a header). */
export const TOKEN_SHAPE = /^[\x21-\x7e]+$/;

/** Tokens the server issues: 32 random bytes, base64url, with a prefix that says what it is. */
export function generateToken(prefix = "oxm"): string {
  return `${prefix}_${randomBytes(32).toString("base64url")}`;
}

/** Index of the entry whose digest equals `digest`, or -1; looks at every entry. */
export function findDigest<T extends { digest: Uint8Array }>(
  entries: readonly T[],
  digest: Uint8Array,
): number {
  let found = -1;
  for (let i = 0; i < entries.length; i++) {
    // No early exit: every entry is compared.
    if (timingSafeEqual(entries[i].digest, digest) && found === -1) found = i;
  }
  return found;
}

const BEARER = /^Bearer[ \t]+([\x21-\x7e]+)[ \t]*$/i;

/** The token of an `Authorization: Bearer <token>` value, or undefined. */
export function bearerToken(authorization: string | null | undefined): string | undefined {
  if (!authorization || authorization.length > 4096) return undefined;
  return BEARER.exec(authorization)?.[1];
}
