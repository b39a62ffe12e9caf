/**
 * Reading the protobuf wire format, for this folder's decoders: a cursor over the bytes,
 * varints, doubles, UTF-8 strings (small ones cached), unknown fields skipped; and how a problem
 * found deep inside a message comes to name its field path.
 *
 * What is accepted is what protobufjs 8 (the generated code in `shared/proto/`, the oracle)
 * accepts: varints longer than needed, int64 through 32-bit halves, int32 truncated from longer
 * varints, unknown fields and groups skipped (nested at most 100 deep), strict UTF-8. The one
 * deliberate difference is the decoders' own: a known field with the wrong wire type is refused.
 * The error texts are ours and name where the problem is.
 */

export const WIRE_VARINT = 0;
export const WIRE_FIXED64 = 1;
export const WIRE_BYTES = 2;
const WIRE_START_GROUP = 3;
const WIRE_END_GROUP = 4;
const WIRE_FIXED32 = 5;

/** protoc's default recursion limit, as protobufjs applies it to nested groups. */
const RECURSION_LIMIT = 100;

/** Where the reader is; `len` is the end of the innermost message being read. */
export interface Cursor {
  buf: Uint8Array;
  pos: number;
  len: number;
}

/**
 * A problem found while reading. Each message reader it passes through adds where it was
 * (`within`), innermost first; `located` turns it into the `RangeError` callers see.
 */
export class WireProblem extends Error {
  problem: string;
  readonly segments: string[] = [];
  constructor(problem: string) {
    super(problem);
    this.name = "WireProblem";
    this.problem = problem;
  }
}

/** Rethrows `error`, adding `segment` to its path when it is a `WireProblem`. */
export function within(error: unknown, segment: string): never {
  if (error instanceof WireProblem && segment !== "") error.segments.push(segment);
  throw error;
}

/**
 * Rethrows a `WireProblem` as the `RangeError` callers see, its path starting at `root`:
 * `batch.data_points[3].value: wire type 2, expected 1 (double)`.
 */
export function located(error: unknown, root: string): never {
  if (!(error instanceof WireProblem)) throw error;
  const path = root + error.segments.reverse().join("");
  throw new RangeError(`${path}: ${error.problem}`);
}

/** A known field sent with another wire type than its declared type has. */
export function wrongWireType(wireType: number, expected: number, type: string): WireProblem {
  return new WireProblem(`wire type ${wireType}, expected ${expected} (${type})`);
}

function truncated(what: string, start: number, at: Cursor): WireProblem {
  return new WireProblem(`truncated ${what} at byte ${start}: its message ends at byte ${at.len}`);
}

function tooLong(start: number): WireProblem {
  return new WireProblem(`varint at byte ${start} is longer than 10 bytes`);
}

function overlong(length: number, start: number, at: Cursor): WireProblem {
  return new WireProblem(
    `length ${length} at byte ${start} runs past the end of its message at byte ${at.len}`,
  );
}

/** A varint of at most four bytes where fewer than five bytes are left. */
function varint32NearEnd(at: Cursor, what: string): number {
  const start = at.pos;
  let value = 0;
  for (let i = 0; i < 4; ++i) {
    if (at.pos >= at.len) throw truncated(what, start, at);
    const byte = at.buf[at.pos++];
    value = (value | (byte & 127) << i * 7) >>> 0;
    if (byte < 128) return value;
  }
  throw truncated(what, start, at);
}

/** A field's tag: field number × 8 + wire type, below 2^32. */
export function readTag(at: Cursor): number {
  const buf = at.buf;
  let pos = at.pos;
  if (at.len - pos < 5) {
    if (pos >= at.len) throw truncated("tag", pos, at);
    if (buf[pos] >= 128) return varint32NearEnd(at, "tag");
  }
  let value = buf[pos] & 127;
  if (buf[pos++] < 128) {
    at.pos = pos;
    return value;
  }
  for (let shift = 7; shift < 28; shift += 7) {
    value = (value | (buf[pos] & 127) << shift) >>> 0;
    if (buf[pos++] < 128) {
      at.pos = pos;
      return value;
    }
  }
  value = (value | (buf[pos] & 15) << 28) >>> 0;
  if (buf[pos] < 128 && (buf[pos] & 112) === 0) {
    at.pos = pos + 1;
    return value;
  }
  throw new WireProblem(`tag at byte ${at.pos} does not fit in 32 bits`);
}

/** A length prefix: a varint below 2^31. */
export function readSize(at: Cursor): number {
  const buf = at.buf;
  let pos = at.pos;
  if (at.len - pos < 5) {
    if (pos >= at.len) throw truncated("length", pos, at);
    if (buf[pos] >= 128) return varint32NearEnd(at, "length");
  }
  let value = buf[pos] & 127;
  if (buf[pos++] < 128) {
    at.pos = pos;
    return value;
  }
  for (let shift = 7; shift < 28; shift += 7) {
    value = (value | (buf[pos] & 127) << shift) >>> 0;
    if (buf[pos++] < 128) {
      at.pos = pos;
      return value;
    }
  }
  if (buf[pos] > 7) throw new WireProblem(`length at byte ${at.pos} does not fit in 31 bits`);
  at.pos = pos + 1;
  return (value | buf[pos] << 28) >>> 0;
}

/** A varint as a signed 32-bit value (a longer varint is truncated, as protobuf specifies). */
export function readInt32(at: Cursor): number {
  const buf = at.buf;
  const start = at.pos;
  let pos = start;
  if (at.len - pos < 5) {
    if (pos >= at.len) throw truncated("varint", start, at);
    if (buf[pos] >= 128) return varint32NearEnd(at, "varint") | 0;
  }
  let value = buf[pos] & 127;
  if (buf[pos++] < 128) {
    at.pos = pos;
    return value;
  }
  for (let shift = 7; shift < 28; shift += 7) {
    value = (value | (buf[pos] & 127) << shift) >>> 0;
    if (buf[pos++] < 128) {
      at.pos = pos;
      return value | 0;
    }
  }
  value = (value | (buf[pos] & 15) << 28) >>> 0;
  if (buf[pos++] < 128) {
    at.pos = pos;
    return value | 0;
  }
  for (let i = 0; i < 5; ++i) {
    if (pos >= at.len) throw truncated("varint", start, at);
    if (buf[pos++] < 128) {
      at.pos = pos;
      return value | 0;
    }
  }
  throw tooLong(start);
}

/** A varint as a signed 64-bit value, as a number (precision lost beyond 2^53, as protobufjs). */
export function readInt64(at: Cursor): number {
  const buf = at.buf;
  const start = at.pos;
  let lo = 0;
  let hi = 0;
  let i = 0;
  if (at.len - at.pos > 4) {
    for (; i < 4; ++i) {
      lo = (lo | (buf[at.pos] & 127) << i * 7) >>> 0;
      if (buf[at.pos++] < 128) return lo;
    }
    lo = (lo | (buf[at.pos] & 127) << 28) >>> 0;
    hi = (hi | (buf[at.pos] & 127) >> 4) >>> 0;
    if (buf[at.pos++] < 128) return int64ToNumber(lo, hi);
    i = 0;
  } else {
    for (; i < 4; ++i) {
      if (at.pos >= at.len) throw truncated("varint", start, at);
      lo = (lo | (buf[at.pos] & 127) << i * 7) >>> 0;
      if (buf[at.pos++] < 128) return lo;
    }
    throw truncated("varint", start, at);
  }
  const bounded = at.len - at.pos <= 4;
  for (; i < 5; ++i) {
    if (bounded && at.pos >= at.len) throw truncated("varint", start, at);
    hi = (hi | (buf[at.pos] & 127) << i * 7 + 3) >>> 0;
    if (buf[at.pos++] < 128) return int64ToNumber(lo, hi);
  }
  throw tooLong(start);
}

function int64ToNumber(lo: number, hi: number): number {
  if (hi >>> 31) {
    const negLo = ~lo + 1 >>> 0;
    let negHi = ~hi >>> 0;
    if (!negLo) negHi = negHi + 1 >>> 0;
    return -(negLo + negHi * 4294967296);
  }
  return lo + hi * 4294967296;
}

/** A varint as a bool: true when any of its bits is set (protobufjs reads up to ten bytes). */
export function readBool(at: Cursor): boolean {
  const start = at.pos;
  let value = false;
  for (let i = 0; i < 10; ++i) {
    if (at.pos >= at.len) throw truncated("varint", start, at);
    const byte = at.buf[at.pos++];
    if (byte & 127) value = true;
    if (byte < 128) return value;
  }
  throw tooLong(start);
}

const float64 = new Float64Array(1);
const float64Bytes = new Uint8Array(float64.buffer);
const littleEndian = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

export function readDouble(at: Cursor): number {
  const pos = at.pos;
  if (pos + 8 > at.len) {
    throw new WireProblem(
      `truncated double at byte ${pos}: 8 bytes needed, ${at.len - pos} left in its message`,
    );
  }
  const buf = at.buf;
  for (let i = 0; i < 8; i++) float64Bytes[littleEndian ? i : 7 - i] = buf[pos + i];
  at.pos = pos + 8;
  return float64[0];
}

const strictUtf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

function decodeUtf8(buf: Uint8Array, start: number, end: number): string {
  try {
    return strictUtf8.decode(buf.subarray(start, end));
  } catch {
    throw new WireProblem(`invalid UTF-8 in the string at bytes ${start} to ${end}`);
  }
}

/**
 * Decoded strings by their bytes: an open-addressed table of `CACHE_SLOTS` entries keyed by a
 * hash of the bytes and checked byte for byte, so a hit is exact. Only strings of at most
 * `CACHE_MAX_BYTES` are kept; a colliding string replaces the slot's entry, so the memory is
 * bounded whatever clients send. Metric names, agent ids and label keys and values repeat
 * across points and batches, so most strings are found without being decoded or allocated.
 * Allocated on first use: the agent, which decodes only replies, never pays for it.
 */
const CACHE_SLOTS = 4096;
const CACHE_MAX_BYTES = 48;
let cacheBytes: Uint8Array | undefined;
let cacheLengths: Int32Array;
let cacheStrings: string[];

/** A length-delimited UTF-8 string; invalid UTF-8 is refused. */
export function readString(at: Cursor): string {
  const sizeAt = at.pos;
  const length = readSize(at);
  const start = at.pos;
  const end = start + length;
  if (end > at.len) throw overlong(length, sizeAt, at);
  at.pos = end;
  return length === 0 ? "" : decodeUtf8(at.buf, start, end);
}

/** As `readString`, through the cache: for strings that repeat, as in batches. */
export function readCachedString(at: Cursor): string {
  const sizeAt = at.pos;
  const length = readSize(at);
  const start = at.pos;
  const end = start + length;
  if (end > at.len) throw overlong(length, sizeAt, at);
  at.pos = end;
  if (length === 0) return "";
  const buf = at.buf;
  if (length > CACHE_MAX_BYTES) return decodeUtf8(buf, start, end);
  if (cacheBytes === undefined) {
    cacheBytes = new Uint8Array(CACHE_SLOTS * CACHE_MAX_BYTES);
    cacheLengths = new Int32Array(CACHE_SLOTS).fill(-1);
    cacheStrings = new Array(CACHE_SLOTS).fill("");
  }
  let hash = length;
  for (let i = start; i < end; i++) hash = Math.imul(hash ^ buf[i], 0x01000193);
  const slot = (hash ^ hash >>> 15) & (CACHE_SLOTS - 1);
  if (cacheLengths[slot] === length) {
    let offset = slot * CACHE_MAX_BYTES;
    let i = start;
    while (i < end && cacheBytes[offset] === buf[i]) {
      offset++;
      i++;
    }
    if (i === end) return cacheStrings[slot];
  }
  // Throws on invalid UTF-8 before anything is cached.
  const text = decodeUtf8(buf, start, end);
  cacheBytes.set(buf.subarray(start, end), slot * CACHE_MAX_BYTES);
  cacheLengths[slot] = length;
  cacheStrings[slot] = text;
  return text;
}

/** Skips `length` bytes. */
function skipBytes(at: Cursor, length: number, what = "field"): void {
  if (at.pos + length > at.len) {
    throw new WireProblem(
      `truncated ${what} at byte ${at.pos}: ${length} bytes needed, ${at.len - at.pos} left ` +
        "in its message",
    );
  }
  at.pos += length;
}

/** Skips a length-delimited field: its length prefix and content. */
export function skipDelimited(at: Cursor): void {
  const sizeAt = at.pos;
  const length = readSize(at);
  if (at.pos + length > at.len) throw overlong(length, sizeAt, at);
  at.pos += length;
}

function skipVarint(at: Cursor): void {
  const start = at.pos;
  do {
    if (at.pos >= at.len) throw truncated("varint", start, at);
  } while (at.buf[at.pos++] & 128);
}

/**
 * Skips one field of a number the message does not know (a newer peer's), groups included.
 * `tagAt` is where its tag began, for the messages.
 */
export function skipUnknown(
  at: Cursor,
  wireType: number,
  fieldNumber: number,
  depth: number,
  tagAt: number,
): void {
  if (fieldNumber === 0) throw new WireProblem(`field number 0 at byte ${tagAt}`);
  try {
    skipField(at, wireType, fieldNumber, depth);
  } catch (error) {
    if (error instanceof WireProblem) {
      error.problem = `unknown field ${fieldNumber} at byte ${tagAt}: ${error.problem}`;
    }
    throw error;
  }
}

function skipField(at: Cursor, wireType: number, fieldNumber: number, depth: number): void {
  if (depth > RECURSION_LIMIT) {
    throw new WireProblem(`groups nested more than ${RECURSION_LIMIT} deep`);
  }
  switch (wireType) {
    case WIRE_VARINT:
      skipVarint(at);
      break;
    case WIRE_FIXED64:
      skipBytes(at, 8);
      break;
    case WIRE_BYTES:
      skipDelimited(at);
      break;
    case WIRE_START_GROUP:
      while (true) {
        const nestedAt = at.pos;
        const tag = readTag(at);
        const nestedField = tag >>> 3;
        const nestedWireType = tag & 7;
        if (!nestedField) throw new WireProblem(`field number 0 at byte ${nestedAt}`);
        if (nestedWireType === WIRE_END_GROUP) {
          if (nestedField !== fieldNumber) {
            throw new WireProblem(
              `group ${fieldNumber} closed by the end-group tag of field ${nestedField} at byte ` +
                nestedAt,
            );
          }
          break;
        }
        skipField(at, nestedWireType, nestedField, depth + 1);
      }
      break;
    case WIRE_FIXED32:
      skipBytes(at, 4);
      break;
    case WIRE_END_GROUP:
      throw new WireProblem("end-group tag without a start-group tag");
    default:
      throw new WireProblem(`invalid wire type ${wireType}`);
  }
}

/** Enters a length-delimited sub-message: bounds reads by its end, which it returns. */
export function enter(at: Cursor): number {
  const sizeAt = at.pos;
  const length = readSize(at);
  const end = at.pos + length;
  if (end > at.len) throw overlong(length, sizeAt, at);
  at.len = end;
  return end;
}

/** Leaves the sub-message ending at `end` for the enclosing one ending at `outer`. */
export function leave(at: Cursor, end: number, outer: number): void {
  // Every read is bounded by `end`, so this holds; checked as protobufjs does.
  if (at.pos !== end) throw new WireProblem(`read past the end of the message at byte ${end}`);
  at.len = outer;
}
