/**
 * HTTP/2 framing (RFC 9113 §4, §6) as both ends of an oxmon connection use it: frame types,
 * flags, error codes and settings, and the helpers that build and take apart frames. No state:
 * the agent's client (`agent/_http2.ts`) and the gRPC listener's server
 * (`server/ingest/_http2_server.ts`) keep their own.
 */

/** Frame types (RFC 9113 §6). */
export const FRAME = {
  DATA: 0,
  HEADERS: 1,
  PRIORITY: 2,
  RST_STREAM: 3,
  SETTINGS: 4,
  PUSH_PROMISE: 5,
  PING: 6,
  GOAWAY: 7,
  WINDOW_UPDATE: 8,
  CONTINUATION: 9,
} as const;

const FRAME_NAMES: Readonly<Record<number, string>> = Object.fromEntries(
  Object.entries(FRAME).map(([name, type]) => [type, name]),
);

/** `GOAWAY` for 7; `type 0x2a` for a type neither end handles. */
export function frameName(type: number): string {
  return FRAME_NAMES[type] ?? `type 0x${type.toString(16)}`;
}

export const FLAG_END_STREAM = 0x1;
export const FLAG_ACK = 0x1;
export const FLAG_END_HEADERS = 0x4;
export const FLAG_PADDED = 0x8;
export const FLAG_PRIORITY = 0x20;

/** Error codes (RFC 9113 §7). */
export const ERROR = {
  NO_ERROR: 0x0,
  PROTOCOL_ERROR: 0x1,
  INTERNAL_ERROR: 0x2,
  FLOW_CONTROL_ERROR: 0x3,
  SETTINGS_TIMEOUT: 0x4,
  STREAM_CLOSED: 0x5,
  FRAME_SIZE_ERROR: 0x6,
  REFUSED_STREAM: 0x7,
  CANCEL: 0x8,
  COMPRESSION_ERROR: 0x9,
  ENHANCE_YOUR_CALM: 0xb,
} as const;

/** Settings identifiers (RFC 9113 §6.5.2). */
export const SETTING = {
  HEADER_TABLE_SIZE: 0x1,
  ENABLE_PUSH: 0x2,
  MAX_CONCURRENT_STREAMS: 0x3,
  INITIAL_WINDOW_SIZE: 0x4,
  MAX_FRAME_SIZE: 0x5,
  MAX_HEADER_LIST_SIZE: 0x6,
} as const;

/** The initial flow-control window of a connection and of every stream (RFC 9113 §6.9.2). */
export const DEFAULT_WINDOW = 65_535;
/** The smallest SETTINGS_MAX_FRAME_SIZE, and the one in force until a peer raises it. */
export const DEFAULT_MAX_FRAME = 16_384;
export const MAX_ALLOWED_FRAME = 16_777_215;
/** Flow-control windows may not exceed 2^31-1 (RFC 9113 §6.9.1). */
export const MAX_WINDOW = 2 ** 31 - 1;
/**
 * Stream identifiers are 31 bits (RFC 9113 §5.1.1); the high bit of the field is reserved and
 * ignored on receipt, so this also masks it off.
 */
export const MAX_STREAM_ID = 2 ** 31 - 1;
/** What a client sends first (RFC 9113 §3.4). */
export const PREFACE = new TextEncoder().encode("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n");
export const FRAME_HEADER_BYTES = 9;

/** One frame: the 9-byte header and `payload` in one buffer. */
export function frame(
  type: number,
  flags: number,
  streamId: number,
  payload: Uint8Array,
): Uint8Array {
  const bytes = new Uint8Array(FRAME_HEADER_BYTES + payload.length);
  const view = new DataView(bytes.buffer);
  view.setUint32(0, payload.length * 256 + type);
  bytes[4] = flags;
  view.setUint32(5, streamId);
  bytes.set(payload, FRAME_HEADER_BYTES);
  return bytes;
}

/** A 4-byte big-endian payload: RST_STREAM's error code, WINDOW_UPDATE's increment. */
export function uint32Payload(value: number): Uint8Array {
  const payload = new Uint8Array(4);
  new DataView(payload.buffer).setUint32(0, value);
  return payload;
}

/** A GOAWAY payload: the last stream the sender processes, and why. */
export function goawayPayload(lastStreamId: number, errorCode: number, debug = ""): Uint8Array {
  const text = new TextEncoder().encode(debug);
  const payload = new Uint8Array(8 + text.length);
  const view = new DataView(payload.buffer);
  view.setUint32(0, lastStreamId);
  view.setUint32(4, errorCode);
  payload.set(text, 8);
  return payload;
}

/** A SETTINGS payload of (identifier, value) pairs. */
export function settingsPayload(settings: readonly (readonly [number, number])[]): Uint8Array {
  const payload = new Uint8Array(settings.length * 6);
  const view = new DataView(payload.buffer);
  settings.forEach(([id, value], i) => {
    view.setUint16(i * 6, id);
    view.setUint32(i * 6 + 2, value);
  });
  return payload;
}

/**
 * Removes the padding (and the priority fields of HEADERS) around a frame's content; undefined
 * when the padding is longer than the frame (a PROTOCOL_ERROR, RFC 9113 §6.1).
 */
export function unpad(
  payload: Uint8Array,
  flags: number,
  priority: boolean,
): Uint8Array | undefined {
  let start = 0;
  let end = payload.length;
  if (flags & FLAG_PADDED) {
    if (payload.length < 1) return undefined;
    start = 1;
    end -= payload[0];
  }
  if (priority && (flags & FLAG_PRIORITY)) start += 5;
  if (end < start) return undefined;
  return payload.subarray(start, end);
}

/** Joins byte arrays into one. */
export function concatBytes(parts: readonly Uint8Array[]): Uint8Array {
  if (parts.length === 1) return parts[0];
  let size = 0;
  for (const part of parts) size += part.length;
  const bytes = new Uint8Array(size);
  let offset = 0;
  for (const part of parts) {
    bytes.set(part, offset);
    offset += part.length;
  }
  return bytes;
}
