/**
 * The gRPC-over-HTTP/2 layer of the listener's HTTP/2 server (`_http2_server.ts`): what a request's
 * header block may hold (RFC 9113 §8), `grpc-timeout`, `grpc-message` and the message prefix.
 */
/** gRPC message prefix: compressed flag and length (gRPC over HTTP/2, "Length-Prefixed-Message"). */
export const MESSAGE_PREFIX_BYTES = 5;
const GRPC_TIMEOUT_UNITS: Readonly<Record<string, number>> = {
  H: 3_600_000,
  M: 60_000,
  S: 1_000,
  m: 1,
  u: 0.001,
  n: 0.000_001,
};

/** `grpc-timeout` in ms (gRPC over HTTP/2: 1–8 digits and a unit); undefined when absent or bad. */
export function parseGrpcTimeout(value: string | undefined): number | undefined {
  const match = value === undefined ? null : /^(\d{1,8})([HMSmun])$/.exec(value);
  return match ? Number(match[1]) * GRPC_TIMEOUT_UNITS[match[2]] : undefined;
}

/**
 * grpc-message is percent-encoded: bytes outside printable ASCII, and "%" itself. The result is
 * cut to at most `maxLength` characters (default 4,096) at a character boundary: gRPC C-core
 * refuses metadata over 8 KiB, and a cut inside "%E2%9C%97" would not decode.
 */
export function encodeGrpcMessage(message: string, maxLength = 4_096): string {
  let out = "";
  for (const character of message) {
    let encoded = "";
    for (const byte of textEncoder.encode(character)) {
      encoded += byte >= 0x20 && byte <= 0x7e && byte !== 0x25
        ? String.fromCharCode(byte)
        : `%${byte.toString(16).toUpperCase().padStart(2, "0")}`;
    }
    if (out.length + encoded.length > maxLength) break;
    out += encoded;
  }
  return out;
}

const textEncoder = new TextEncoder();

/** Fields that are HTTP/1 connection-specific and malformed in HTTP/2 (RFC 9113 §8.2.2). */
const CONNECTION_FIELDS = new Set([
  "connection",
  "proxy-connection",
  "keep-alive",
  "transfer-encoding",
  "upgrade",
]);
const REQUEST_PSEUDO_FIELDS = new Set([":method", ":scheme", ":path", ":authority"]);
/** A field name: a token in lower case (RFC 9113 §8.2.1, RFC 9110 §5.1). */
const FIELD_NAME = /^[!#$%&'*+\-.^_`|~0-9a-z]+$/;
/** What a field value may not hold (RFC 9113 §8.2.1). */
const FIELD_VALUE_FORBIDDEN = /[\0\r\n]/;

/**
 * Why a request's header block (or, with `trailers`, its trailers) is malformed (RFC 9113
 * §8.1.1, §8.2, §8.3.1); undefined when it is well formed. A malformed request is a stream error
 * of type PROTOCOL_ERROR.
 */
export function malformedHeaders(
  fields: readonly (readonly [string, string])[],
  trailers = false,
): string | undefined {
  const pseudo = new Set<string>();
  let regularSeen = false;
  for (const [name, value] of fields) {
    if (FIELD_VALUE_FORBIDDEN.test(value)) return `field ${name} has NUL, CR or LF in its value`;
    if (name.startsWith(":")) {
      if (trailers) return `pseudo-header ${name} in trailers`;
      if (regularSeen) return `pseudo-header ${name} after a regular field`;
      if (!REQUEST_PSEUDO_FIELDS.has(name)) return `pseudo-header ${name} in a request`;
      if (pseudo.has(name)) return `pseudo-header ${name} twice`;
      pseudo.add(name);
      continue;
    }
    regularSeen = true;
    if (!FIELD_NAME.test(name)) {
      return `field name ${JSON.stringify(name)} is not a lower-case token`;
    }
    if (CONNECTION_FIELDS.has(name)) return `connection-specific field ${name}`;
    if (name === "te" && value !== "trailers") return `te: ${value}`;
  }
  if (trailers) return undefined;
  for (const name of [":method", ":scheme", ":path"]) {
    if (!pseudo.has(name)) return `no ${name}`;
  }
  for (const [name, value] of fields) if (name === ":path" && value === "") return "empty :path";
  return undefined;
}

/** The length a gRPC message prefix declares (`bytes` has at least 5). */
export function declaredLength(bytes: Uint8Array): number {
  return bytes[1] * 0x1000000 + (bytes[2] << 16) + (bytes[3] << 8) + bytes[4];
}
