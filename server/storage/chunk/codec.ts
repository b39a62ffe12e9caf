/**
 * The chunk codec: up to an hour of one series' samples in a few bytes each.
 *
 * This is format version 1, written as chunks are sealed; compacted days hold version-2 blocks
 * (`_block_codec.ts`), and decoding reads either.
 *
 * Layout (all integers little-endian or LEB128 varints, signed ones zigzagged):
 *
 *     version:u8  modes:u8  count:varint  firstTs:signed  <timestamps>  <values>  crc32:u32
 *
 * Timestamps: nothing more for one sample, one delta when the spacing is regular, else the first
 * delta and then delta-of-deltas. Values: one float64 when every value has the same bits; when
 * every value is an exact short decimal, scaled integers (common factor divided out, which turns
 * memory sizes in bytes into small numbers) coded as deltas or delta-of-deltas, whichever is
 * smaller; otherwise Gorilla XOR of the float64 bits. Every mode is lossless to the bit, `-0`
 * included, and the CRC makes corruption an error instead of wrong values.
 */
import { ByteReader, ByteWriter, crc32, varintLength, zigzag } from "./_bytes.ts";
import { sameFloat64Bits } from "../points.ts";
import { BLOCK_VERSION, decodeBlock } from "./_block_codec.ts";
import { MAX_DECIMAL_DIGITS, POWERS_OF_TEN, scaleDecimals } from "../_decimal.ts";
import { readGorilla, writeGorilla } from "./_gorilla.ts";

const FORMAT_VERSION = 1;

const TS_SINGLE = 0;
const TS_REGULAR = 1;
const TS_DOD = 2;

const VALUES_CONSTANT = 0;
const VALUES_DECIMAL_DELTA = 1;
const VALUES_DECIMAL_DOD = 2;
const VALUES_GORILLA = 3;

/**
 * A chunk spans at most one clock hour of distinct millisecond timestamps, so a larger count is
 * corruption; the bound also caps what a bad header could make the decoder allocate.
 */
export const MAX_CHUNK_SAMPLES = 3_600_000;

export interface DecodedChunk {
  /** Ascending epoch ms. */
  timestamps: Float64Array;
  values: Float64Array;
}

/**
 * Encodes `count` samples (timestamps strictly ascending safe integers). Throws a `RangeError`
 * naming the first bad timestamp.
 */
export function encodeChunk(
  timestamps: ArrayLike<number>,
  values: ArrayLike<number>,
  count: number = timestamps.length,
): Uint8Array {
  const out = new ByteWriter(16 + count * 3);
  encodeChunkInto(out, timestamps, values, count);
  return out.finish();
}

/**
 * `encodeChunk` appending to `out` instead of allocating: the write path seals thousands of
 * chunks a second, and a fresh buffer per chunk kept the garbage collector busy.
 */
export function encodeChunkInto(
  out: ByteWriter,
  timestamps: ArrayLike<number>,
  values: ArrayLike<number>,
  count: number = timestamps.length,
): void {
  if (!Number.isInteger(count) || count < 1 || count > MAX_CHUNK_SAMPLES) {
    throw new RangeError(
      `Cannot encode a chunk of ${count} samples: expected 1 to ${MAX_CHUNK_SAMPLES}`,
    );
  }
  if (timestamps.length < count || values.length < count) {
    throw new RangeError(`Cannot encode a chunk of ${count} samples: the arrays are shorter`);
  }
  for (let i = 0; i < count; i++) {
    const ts = timestamps[i];
    if (!Number.isSafeInteger(ts) || (i > 0 && ts <= timestamps[i - 1])) {
      throw new RangeError(
        `Cannot encode a chunk: timestamps[${i}] must be a safe integer above the previous one, got ${ts}`,
      );
    }
  }
  const start = out.length;
  out.ensure(16 + count * 3);
  out.byte(FORMAT_VERSION);
  const modesAt = out.length;
  out.byte(0);
  out.varint(count);
  out.signed(timestamps[0]);
  const tsMode = writeTimestamps(out, timestamps, count);
  const valueMode = writeValues(out, values, count);
  out.bytes[modesAt] = tsMode | (valueMode << 2);
  out.uint32(crc32(out.bytes, start, out.length));
}

function writeTimestamps(out: ByteWriter, timestamps: ArrayLike<number>, count: number): number {
  if (count === 1) return TS_SINGLE;
  const firstDelta = timestamps[1] - timestamps[0];
  let regular = true;
  for (let i = 2; i < count; i++) {
    if (timestamps[i] - timestamps[i - 1] !== firstDelta) {
      regular = false;
      break;
    }
  }
  out.varint(firstDelta);
  if (regular) return TS_REGULAR;
  let previousDelta = firstDelta;
  for (let i = 2; i < count; i++) {
    const delta = timestamps[i] - timestamps[i - 1];
    out.signed(delta - previousDelta);
    previousDelta = delta;
  }
  return TS_DOD;
}

function writeValues(out: ByteWriter, values: ArrayLike<number>, count: number): number {
  const first = values[0];
  let constant = true;
  for (let i = 1; i < count; i++) {
    if (!sameFloat64Bits(values[i], first)) {
      constant = false;
      break;
    }
  }
  if (constant) {
    out.float64(first);
    return VALUES_CONSTANT;
  }
  const decimalMode = writeDecimals(out, values, count);
  if (decimalMode !== undefined) return decimalMode;
  writeGorilla(out, values, count);
  return VALUES_GORILLA;
}

const scaledScratch: { array: Float64Array } = { array: new Float64Array(512) };

/** Writes the decimal coding and returns its mode, or writes nothing and returns undefined. */
function writeDecimals(
  out: ByteWriter,
  values: ArrayLike<number>,
  count: number,
): number | undefined {
  if (scaledScratch.array.length < count) scaledScratch.array = new Float64Array(count * 2);
  const scaled = scaledScratch.array;
  const decimals = scaleDecimals(values, count, scaled);
  if (decimals === undefined) return undefined;
  const { digits, factor } = decimals;
  let deltaBytes = 0;
  let dodBytes = 0;
  let previousDelta = 0;
  for (let i = 1; i < count; i++) {
    const delta = (scaled[i] - scaled[i - 1]) / factor;
    deltaBytes += varintLength(zigzag(delta));
    dodBytes += varintLength(zigzag(delta - previousDelta));
    previousDelta = delta;
  }
  out.byte(digits);
  out.varint(factor);
  out.signed(scaled[0]);
  const useDod = dodBytes < deltaBytes;
  previousDelta = 0;
  for (let i = 1; i < count; i++) {
    const delta = (scaled[i] - scaled[i - 1]) / factor;
    out.signed(useDod ? delta - previousDelta : delta);
    previousDelta = delta;
  }
  return useDod ? VALUES_DECIMAL_DOD : VALUES_DECIMAL_DELTA;
}

/**
 * The first timestamp of a chunk starting at `offset`, read from its header without checking
 * the rest: for finding the segment of an open chunk that holds a timestamp.
 */
export function chunkFirstTimestamp(bytes: Uint8Array, offset = 0): number {
  const reader = new ByteReader(bytes, offset + 2);
  reader.varint();
  return reader.signed();
}

/**
 * Decodes a chunk. Any inconsistency (bad checksum, truncation, impossible header, leftover
 * bytes) throws an `Error` whose message starts with `Cannot decode <where>`, so the caller
 * names the series and chunk.
 */
export function decodeChunk(bytes: Uint8Array, where = "chunk"): DecodedChunk {
  try {
    if (bytes instanceof Uint8Array && bytes[0] === BLOCK_VERSION) return decodeBlock(bytes);
    const count = checkedCount(bytes);
    const decoded = { timestamps: new Float64Array(count), values: new Float64Array(count) };
    decodeBody(bytes, decoded.timestamps, decoded.values, 0);
    return decoded;
  } catch (error) {
    throw decodeError(error, where);
  }
}

/**
 * `decodeChunk` into caller-owned arrays from index `at`; returns the sample count. Throws the
 * same errors, and a `RangeError` when the arrays cannot hold the chunk.
 */
export function decodeChunkInto(
  bytes: Uint8Array,
  timestamps: Float64Array,
  values: Float64Array,
  at: number,
  where = "chunk",
): number {
  try {
    if (bytes instanceof Uint8Array && bytes[0] === BLOCK_VERSION) {
      const block = decodeBlock(bytes);
      const count = block.timestamps.length;
      if (at + count > timestamps.length || at + count > values.length) {
        throw new RangeError(`${count} samples do not fit the ${timestamps.length - at} left`);
      }
      timestamps.set(block.timestamps, at);
      values.set(block.values, at);
      return count;
    }
    const count = checkedCount(bytes);
    if (at + count > timestamps.length || at + count > values.length) {
      throw new RangeError(`${count} samples do not fit the ${timestamps.length - at} left`);
    }
    decodeBody(bytes, timestamps, values, at);
    return count;
  } catch (error) {
    throw decodeError(error, where);
  }
}

function decodeError(error: unknown, where: string): Error {
  const reason = error instanceof Error ? error.message : String(error);
  return new Error(`Cannot decode ${where}: ${reason}`, { cause: error });
}

/** Checks the checksum and returns the sample count from the header. */
function checkedCount(bytes: Uint8Array): number {
  if (!(bytes instanceof Uint8Array)) throw new TypeError("expected bytes");
  if (bytes.length < 8) throw new RangeError(`too short (${bytes.length} bytes)`);
  const bodyEnd = bytes.length - 4;
  const stored = new ByteReader(bytes, bodyEnd).uint32();
  const actual = crc32(bytes, 0, bodyEnd);
  if (stored !== actual) throw new RangeError("checksum mismatch (corrupt or truncated)");
  const reader = new ByteReader(bytes, 2, bodyEnd);
  const count = reader.varint();
  if (count < 1 || count > MAX_CHUNK_SAMPLES) throw new RangeError(`impossible count ${count}`);
  return count;
}

function decodeBody(bytes: Uint8Array, timestamps: Float64Array, values: Float64Array, at: number) {
  const bodyEnd = bytes.length - 4;
  const reader = new ByteReader(bytes, 0, bodyEnd);
  const version = reader.byte();
  if (version !== FORMAT_VERSION) throw new RangeError(`unknown format version ${version}`);
  const modes = reader.byte();
  const tsMode = modes & 3;
  const valueMode = (modes >>> 2) & 3;
  if (modes > 15 || tsMode > TS_DOD) throw new RangeError(`unknown modes ${modes}`);
  const count = reader.varint();
  if ((tsMode === TS_SINGLE) !== (count === 1)) {
    throw new RangeError(`timestamp mode ${tsMode} does not fit ${count} samples`);
  }
  readTimestamps(reader, tsMode, timestamps, at, count);
  switch (valueMode) {
    case VALUES_CONSTANT:
      values.fill(reader.float64(), at, at + count);
      break;
    case VALUES_DECIMAL_DELTA:
    case VALUES_DECIMAL_DOD:
      readDecimals(reader, valueMode === VALUES_DECIMAL_DOD, values, at, count);
      break;
    default:
      reader.offset = readGorilla(bytes, reader.offset, bodyEnd, values, at, count);
  }
  if (reader.remaining !== 0) throw new RangeError(`${reader.remaining} unexpected trailing bytes`);
}

function readTimestamps(
  reader: ByteReader,
  mode: number,
  out: Float64Array,
  at: number,
  count: number,
) {
  let ts = reader.signed();
  out[at] = ts;
  if (count === 1) return;
  let delta = reader.varint();
  if (delta < 1) throw new RangeError("timestamps do not ascend");
  ts += delta;
  out[at + 1] = ts;
  for (let i = at + 2; i < at + count; i++) {
    if (mode === TS_DOD) {
      delta += reader.signed();
      if (delta < 1) throw new RangeError("timestamps do not ascend");
    }
    ts += delta;
    out[i] = ts;
  }
  if (!Number.isSafeInteger(ts)) throw new RangeError("timestamps overflow");
}

function readDecimals(
  reader: ByteReader,
  dod: boolean,
  out: Float64Array,
  at: number,
  count: number,
) {
  const digits = reader.byte();
  if (digits > MAX_DECIMAL_DIGITS) throw new RangeError(`impossible decimal digits ${digits}`);
  const power = POWERS_OF_TEN[digits];
  const factor = reader.varint();
  if (factor < 1) throw new RangeError("decimal factor 0");
  let m = reader.signed();
  out[at] = m / power;
  let delta = 0;
  for (let i = at + 1; i < at + count; i++) {
    delta = dod ? delta + reader.signed() : reader.signed();
    m += delta * factor;
    out[i] = m / power;
  }
  if (!Number.isSafeInteger(m)) throw new RangeError("decimal values overflow");
}
