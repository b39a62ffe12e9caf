import { type Cursor, decodeUtf8, overlong, readSize } from "./_reader.ts";

/**
 * Decoded strings by their bytes: an open-addressed table of `CACHE_SLOTS` entries keyed by a
 * hash of the bytes and checked byte for byte, so a hit is exact. Only strings of at most
 * `CACHE_MAX_BYTES` are kept; a colliding string replaces the slot's entry, so the memory is
 * bounded whatever clients send. Metric names, agent ids and label keys and values repeat
 * across points and batches, so most strings are found without being decoded or allocated.
 *
 * A module of its own, loaded with the batch decoder only: its 250 kB are allocated when the
 * module loads (as constants V8 compiles in: a lazily allocated cache made decoding 4% slower),
 * and the agent, which decodes replies only, never loads it.
 */
const CACHE_SLOTS = 4096;
const CACHE_MAX_BYTES = 48;
const cacheBytes = new Uint8Array(CACHE_SLOTS * CACHE_MAX_BYTES);
const cacheLengths = new Int32Array(CACHE_SLOTS).fill(-1);
const cacheStrings: string[] = new Array(CACHE_SLOTS).fill("");

/** A length-delimited UTF-8 string, through the cache; invalid UTF-8 is refused. */
export function readCachedString(at: Cursor): string {
  const length = readSize(at);
  const start = at.pos;
  const end = start + length;
  if (end > at.len) throw overlong(length, at);
  at.pos = end;
  if (length === 0) return "";
  const buf = at.buf;
  if (length > CACHE_MAX_BYTES) return decodeUtf8(buf, start, end);
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
