/**
 * Reading the protobuf wire format, for this folder's decoders: a cursor over the bytes,
 * varints, doubles, UTF-8 strings, unknown fields skipped; and how a problem found deep inside a
 * message comes to name its field path.
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

/**
 * A message's fields by number: path segment (`.value`), wire type and declared type. Index 0
 * holds no field.
 */
export type Fields = readonly (readonly [segment: string, wireType: number, type: string])[];

/** The path segment of the field `tag` belongs to; "" for none or an unknown one. */
export function segmentOf(fields: Fields, tag: number): string {
  const field = tag >>> 3;
  return field < fields.length ? fields[field][0] : "";
}

/**
 * A tag the message's decoder did not take: a known field with another wire type is refused
 * (protobufjs would skip it, and the field would read as its default); an unknown one is skipped.
 */
export function otherField(at: Cursor, tag: number, fields: Fields, depth: number): void {
  const field = tag >>> 3;
  if (field > 0 && field < fields.length) {
    const [, wireType, type] = fields[field];
    throw new WireProblem(`wire type ${tag & 7}, expected ${wireType} (${type})`);
  }
  skipUnknown(at, tag & 7, field, depth);
}

// Errors are built by these helpers, out of line, so that the readers stay small enough for V8
// to inline them into the decoders (460 bytes of bytecode at most).

/** The `what` starting at `at.pos` runs past the end of its message. */
function truncated(what: string, at: Cursor): WireProblem {
  return new WireProblem(`truncated ${what} at byte ${at.pos}: its message ends at byte ${at.len}`);
}

function tooWide(what: string, bits: number, at: Cursor): WireProblem {
  return new WireProblem(`${what} at byte ${at.pos} does not fit in ${bits} bits`);
}

function tooLong(at: Cursor): WireProblem {
  return new WireProblem(`varint at byte ${at.pos} is longer than 10 bytes`);
}

/** `length` bytes starting at `at.pos` run past the end of their message. */
export function overlong(length: number, at: Cursor): WireProblem {
  return new WireProblem(
    `${length} bytes from byte ${at.pos} run past the end of their message at byte ${at.len}`,
  );
}

/** A varint of at most four bytes where fewer than five bytes are left. */
function varint32NearEnd(at: Cursor, what: string): number {
  let value = 0;
  for (let i = 0, pos = at.pos; i < 4 && pos < at.len; ++i) {
    const byte = at.buf[pos++];
    value = (value | (byte & 127) << i * 7) >>> 0;
    if (byte < 128) {
      at.pos = pos;
      return value;
    }
  }
  throw truncated(what, at);
}

/** A field's tag: field number × 8 + wire type, below 2^32. */
export function readTag(at: Cursor): number {
  const buf = at.buf;
  let pos = at.pos;
  if (at.len - pos < 5) {
    if (pos >= at.len) throw truncated("tag", at);
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
  throw tooWide("tag", 32, at);
}

/** A length prefix: a varint below 2^31. */
export function readSize(at: Cursor): number {
  const buf = at.buf;
  let pos = at.pos;
  if (at.len - pos < 5) {
    if (pos >= at.len) throw truncated("length", at);
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
  if (buf[pos] > 7) throw tooWide("length", 31, at);
  at.pos = pos + 1;
  return (value | buf[pos] << 28) >>> 0;
}

/**
 * The varint at `at.pos` as 64-bit halves into `halves`, every byte bounds-checked: the slow
 * path, for varints near the end of their message and for the rare int32 and bool.
 */
function readVarintChecked(at: Cursor, halves: Uint32Array): void {
  const buf = at.buf;
  let lo = 0;
  let hi = 0;
  for (let i = 0, pos = at.pos; i < 10; i++) {
    if (pos >= at.len) throw truncated("varint", at);
    const byte = buf[pos++];
    if (i < 4) lo = (lo | (byte & 127) << i * 7) >>> 0;
    else if (i === 4) {
      lo = (lo | (byte & 127) << 28) >>> 0;
      hi = (byte & 127) >> 4;
    } else hi = (hi | (byte & 127) << (i - 5) * 7 + 3) >>> 0;
    if (byte < 128) {
      halves[0] = lo;
      halves[1] = hi;
      at.pos = pos;
      return;
    }
  }
  throw tooLong(at);
}

const halves = new Uint32Array(2);

/** A varint as a signed 64-bit value, as a number (precision lost beyond 2^53, as protobufjs). */
export function readInt64(at: Cursor): number {
  const buf = at.buf;
  let pos = at.pos;
  if (at.len - pos < 10) {
    readVarintChecked(at, halves);
    return int64ToNumber(halves[0], halves[1]);
  }
  let lo = 0;
  for (let shift = 0; shift < 28; shift += 7) {
    lo = (lo | (buf[pos] & 127) << shift) >>> 0;
    if (buf[pos++] < 128) {
      at.pos = pos;
      return lo;
    }
  }
  lo = (lo | (buf[pos] & 127) << 28) >>> 0;
  let hi = (buf[pos] & 127) >> 4;
  if (buf[pos++] < 128) {
    at.pos = pos;
    return int64ToNumber(lo, hi);
  }
  for (let shift = 3; shift < 38; shift += 7) {
    hi = (hi | (buf[pos] & 127) << shift) >>> 0;
    if (buf[pos++] < 128) {
      at.pos = pos;
      return int64ToNumber(lo, hi);
    }
  }
  throw tooLong(at);
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

/** A varint as a signed 32-bit value (a longer varint is truncated, as protobuf specifies). */
export function readInt32(at: Cursor): number {
  readVarintChecked(at, halves);
  return halves[0] | 0;
}

/** A varint as a bool: true when any of its bits is set (protobufjs reads up to ten bytes). */
export function readBool(at: Cursor): boolean {
  const start = at.pos;
  readVarintChecked(at, halves);
  // Any bit, even past the 64th.
  for (let pos = start; pos < at.pos; pos++) if (at.buf[pos] & 127) return true;
  return false;
}

const float64 = new Float64Array(1);
const float64Bytes = new Uint8Array(float64.buffer);
const littleEndian = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

export function readDouble(at: Cursor): number {
  const pos = at.pos;
  if (pos + 8 > at.len) throw truncated("double", at);
  const buf = at.buf;
  for (let i = 0; i < 8; i++) float64Bytes[littleEndian ? i : 7 - i] = buf[pos + i];
  at.pos = pos + 8;
  return float64[0];
}

const strictUtf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

export function decodeUtf8(buf: Uint8Array, start: number, end: number): string {
  try {
    return strictUtf8.decode(buf.subarray(start, end));
  } catch {
    throw new WireProblem(`invalid UTF-8 in the string at bytes ${start} to ${end}`);
  }
}

/** A length-delimited UTF-8 string; invalid UTF-8 is refused. */
export function readString(at: Cursor): string {
  const length = readSize(at);
  const start = at.pos;
  const end = start + length;
  if (end > at.len) throw overlong(length, at);
  at.pos = end;
  return length === 0 ? "" : decodeUtf8(at.buf, start, end);
}

/** Skips `length` bytes. */
function skipBytes(at: Cursor, length: number): void {
  if (at.pos + length > at.len) throw overlong(length, at);
  at.pos += length;
}

/** Skips a length-delimited field: its length prefix and content. */
export function skipDelimited(at: Cursor): void {
  skipBytes(at, readSize(at));
}

function skipVarint(at: Cursor): void {
  let pos = at.pos;
  do {
    if (pos >= at.len) throw truncated("varint", at);
  } while (at.buf[pos++] & 128);
  at.pos = pos;
}

/**
 * Skips one field of a number the message does not know (a newer peer's), groups included.
 */
export function skipUnknown(at: Cursor, wireType: number, fieldNumber: number, depth: number) {
  if (fieldNumber === 0) throw new WireProblem("field number 0");
  try {
    skipField(at, wireType, fieldNumber, depth);
  } catch (error) {
    if (error instanceof WireProblem) {
      error.problem = `unknown field ${fieldNumber}: ${error.problem}`;
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
  const length = readSize(at);
  const end = at.pos + length;
  if (end > at.len) throw overlong(length, at);
  at.len = end;
  return end;
}

/** Leaves the sub-message ending at `end` for the enclosing one ending at `outer`. */
export function leave(at: Cursor, end: number, outer: number): void {
  // Every read is bounded by `end`, so this holds; checked as protobufjs does.
  if (at.pos !== end) throw new WireProblem(`read past the end of its message at byte ${end}`);
  at.len = outer;
}
