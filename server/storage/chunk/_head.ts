/**
 * Open chunks held in memory: the samples of each series' current window. 100k open series of
 * an hour each must fit in a few hundred MB, so samples go to a small appendable tail and every
 * 32 samples (the first time 17–32: `FIRST_SEGMENT_SPREAD`) the tail is frozen into a codec
 * chunk (about 2 bytes per sample) in its own small slot of a shared slab (`_slab.ts`): one
 * growing buffer per series, sample by sample, measured 4.7 KB of RSS per series at 360 samples.
 *
 * The bookkeeping of every open chunk lives in typed arrays indexed by a dense number (the
 * series id), not in objects: one object per series (buffer, segment list, boxed doubles)
 * measured about 800 bytes of JS heap each, and 100k of them kept the collector busy.
 *
 * Tail layout, per sample: the timestamp as a delta-of-delta varint, then one control byte:
 * `0` same value as before; `1 + d` a decimal with `d` fractional digits, as the signed
 * difference of its scaled integer from the previous value scaled the same way; `XOR_BASE +
 * 9 * lead + trail` the float64 bits XORed with the previous value's, without `lead` high and
 * `trail` low zero bytes. The stream is never stored: sealing re-encodes it with the codec.
 */
import { ByteReader, ByteWriter, writeVarint, zigzag } from "./_bytes.ts";
import {
  allocSlot,
  locateInts,
  locateSlot,
  releaseSlot,
  sizeClassFor,
  SLOT_SIZES,
} from "./_slab.ts";
import { chunkFirstTimestamp, decodeChunkInto, encodeChunkInto } from "./codec.ts";
import { sameFloat64Bits } from "../points.ts";
import { perSeriesCapacity, slotSpread } from "./_series_state.ts";

const SAME = 0;
export const MAX_DIGITS = 6;
const XOR_BASE = 16;
const MAX_SCALED = 2 ** 50;
export const POWERS = Array.from({ length: MAX_DIGITS + 1 }, (_, d) => 10 ** d);

const scratch = new Float64Array(2);
const scratchBytes = new Uint8Array(scratch.buffer);

/** Fractional digits of `value` as a short exact decimal (scaled below 2^50), or -1. */
export function digitsOf(value: number): number {
  if (Number.isInteger(value)) {
    return Math.abs(value) <= MAX_SCALED && !Object.is(value, -0) ? 0 : -1;
  }
  const magnitude = Math.abs(value);
  for (let d = 1; d <= MAX_DIGITS; d++) {
    if (magnitude * POWERS[d] > MAX_SCALED) return -1;
    if (Math.round(value * POWERS[d]) / POWERS[d] === value) return d;
  }
  return -1;
}

/** The previous value scaled by 10^d when that is exact, else 0; encoder and decoder agree. */
function scaledBase(previous: number, d: number): number {
  const m = Math.round(previous * POWERS[d]);
  return Math.abs(m) <= MAX_SCALED && m / POWERS[d] === previous ? m : 0;
}

/** Samples per frozen segment (an open chunk's first may be shorter: `FIRST_SEGMENT_SPREAD`). */
const SEGMENT_SAMPLES = 32;
/**
 * An open chunk's first segment freezes after 17–32 samples (`slotSpread` of its index), later
 * ones after 32. A fleet's series start their chunks in the same second; with one length for
 * every first segment, all of them froze in the same second too (150k series at 3,000 agents:
 * stalls that put that second's p99 at 90–220 ms in the fleet bench); spread this way, a
 * sixteenth freezes each second.
 */
const FIRST_SEGMENT_BITS = 4;
const FIRST_SEGMENT_SPREAD = 2 ** FIRST_SEGMENT_BITS;
/** The most one appended sample takes in the tail: two 8-byte varints and a control byte. */
const MAX_SAMPLE_BYTES = 17;
/** A tail of 32 short decimals takes 100–160 bytes. */
const TAIL_INITIAL_BYTES = 160;
/** Frozen segments one open chunk can hold; the engine seals long before (360 samples). */
const MAX_SEGMENTS = 12;
/**
 * The most samples one open chunk holds: the shortest first segment, full segments after it
 * and a tail one short of freezing.
 */
export const HEAD_MAX_SAMPLES = SEGMENT_SAMPLES - FIRST_SEGMENT_SPREAD + 1 +
  (MAX_SEGMENTS - 1) * SEGMENT_SAMPLES + SEGMENT_SAMPLES - 1;

/** Samples after which the tail of `id` (a slot) freezes, given how many segments it has. */
function freezeAt(id: number, segments: number): number {
  return segments > 0 ? SEGMENT_SAMPLES : SEGMENT_SAMPLES - slotSpread(id, FIRST_SEGMENT_BITS);
}
const segmentTimestamps = new Float64Array(SEGMENT_SAMPLES);
const segmentValues = new Float64Array(SEGMENT_SAMPLES);
const segmentOut = new ByteWriter(1024);
/** Where `forEach` unpacks samples (it never calls back out). */
const unpackTimestamps = new Float64Array(HEAD_MAX_SAMPLES + 1);
const unpackValues = new Float64Array(HEAD_MAX_SAMPLES + 1);
/** Where `valueAt` keeps the piece it decoded last. */
const lookupTimestamps = new Float64Array(SEGMENT_SAMPLES);
const lookupValues = new Float64Array(SEGMENT_SAMPLES);

/** Copies `array` into a larger one of `length` elements; new elements are `fill`. */
function grown<T extends Float64Array | Int32Array | Uint16Array | Int8Array | Uint8Array>(
  array: T,
  length: number,
  fill = 0,
): T {
  const bigger = new (array.constructor as new (length: number) => T)(length);
  bigger.set(array);
  if (fill !== 0) bigger.fill(fill, array.length);
  return bigger;
}

/**
 * The open chunks of many series, each at its own index (`id`). An index holds nothing until
 * its first `append`, and nothing again after `release`.
 */
export class HeadTable {
  #capacity = 0;
  #count = new Uint16Array(0);
  #firstTs = new Float64Array(0);
  #lastTs = new Float64Array(0);
  #lastValue = new Float64Array(0);
  #tailFirstTs = new Float64Array(0);
  #tailLastDelta = new Float64Array(0);
  /** Size class of the tail slot, or -1 without one. */
  #tailClass = new Int8Array(0);
  #tailSlot = new Int32Array(0);
  #tailBytes = new Uint16Array(0);
  #tailCount = new Uint8Array(0);
  #segmentCount = new Uint8Array(0);
  /**
   * Where the frozen segments of an index are listed: a slab slot (size class, or -1 without
   * one, and slot id) of 32-bit pairs, slot id then `sizeClass << 16 | length`, one per segment.
   * A table of `MAX_SEGMENTS` pairs per index took 96 bytes per head slot, two per series, most
   * of them unused: 60 % of these arrays (~29 MB at 150k series; the lists in the slabs take
   * 32–112 bytes per open chunk with segments instead).
   */
  #tableClass = new Int8Array(0);
  #tableSlot = new Int32Array(0);
  /** The piece `valueAt` decoded last: index, segment (-1: the tail), count then, samples. */
  #lookupId = -1;
  #lookupSegment = 0;
  #lookupCount = 0;
  #lookupN = 0;

  constructor(capacity = 1024) {
    this.ensure(capacity - 1);
  }

  /** Makes room for index `id`. */
  ensure(id: number): void {
    if (id < this.#capacity) return;
    const capacity = perSeriesCapacity(this.#capacity, id);
    this.#count = grown(this.#count, capacity);
    this.#firstTs = grown(this.#firstTs, capacity);
    this.#lastTs = grown(this.#lastTs, capacity);
    this.#lastValue = grown(this.#lastValue, capacity);
    this.#tailFirstTs = grown(this.#tailFirstTs, capacity);
    this.#tailLastDelta = grown(this.#tailLastDelta, capacity);
    this.#tailClass = grown(this.#tailClass, capacity, -1);
    this.#tailSlot = grown(this.#tailSlot, capacity);
    this.#tailBytes = grown(this.#tailBytes, capacity);
    this.#tailCount = grown(this.#tailCount, capacity);
    this.#segmentCount = grown(this.#segmentCount, capacity);
    this.#tableClass = grown(this.#tableClass, capacity, -1);
    this.#tableSlot = grown(this.#tableSlot, capacity);
    this.#capacity = capacity;
  }

  count(id: number): number {
    return id < this.#capacity ? this.#count[id] : 0;
  }

  firstTs(id: number): number {
    return this.#firstTs[id];
  }

  lastTs(id: number): number {
    return this.#lastTs[id];
  }

  lastValue(id: number): number {
    return this.#lastValue[id];
  }

  /** Bytes of slots held by one open chunk, for memory accounting. */
  byteLength(id: number): number {
    if (this.count(id) === 0) return 0;
    let bytes = this.#tailClass[id] >= 0 ? SLOT_SIZES[this.#tailClass[id]] : 0;
    if (this.#segmentCount[id] === 0) return bytes;
    bytes += SLOT_SIZES[this.#tableClass[id]];
    const { ints, index } = locateInts(this.#tableClass[id], this.#tableSlot[id]);
    for (let s = 0; s < this.#segmentCount[id]; s++) {
      bytes += SLOT_SIZES[ints[index + 2 * s + 1] >>> 16];
    }
    return bytes;
  }

  /** Gives the slots of one open chunk back; it is empty afterwards. */
  release(id: number): void {
    if (id >= this.#capacity) return;
    if (id === this.#lookupId) this.#lookupId = -1;
    if (this.#tableClass[id] >= 0) {
      const { ints, index } = locateInts(this.#tableClass[id], this.#tableSlot[id]);
      for (let s = 0; s < this.#segmentCount[id]; s++) {
        releaseSlot(ints[index + 2 * s + 1] >>> 16, ints[index + 2 * s]);
      }
      releaseSlot(this.#tableClass[id], this.#tableSlot[id]);
      this.#tableClass[id] = -1;
    }
    this.#segmentCount[id] = 0;
    if (this.#tailClass[id] >= 0) releaseSlot(this.#tailClass[id], this.#tailSlot[id]);
    this.#tailClass[id] = -1;
    this.#tailBytes[id] = 0;
    this.#tailCount[id] = 0;
    this.#count[id] = 0;
  }

  #ensureTail(id: number, extra: number): void {
    const tailClass = this.#tailClass[id];
    const tailBytes = this.#tailBytes[id];
    const needed = tailBytes + extra;
    if (tailClass >= 0 && needed <= SLOT_SIZES[tailClass]) return;
    const sizeClass = sizeClassFor(Math.max(needed, TAIL_INITIAL_BYTES));
    const slot = allocSlot(sizeClass);
    if (tailClass >= 0) {
      const from = locateSlot(tailClass, this.#tailSlot[id]);
      const old = from.bytes.subarray(from.offset, from.offset + tailBytes);
      const to = locateSlot(sizeClass, slot);
      to.bytes.set(old, to.offset);
      releaseSlot(tailClass, this.#tailSlot[id]);
    }
    this.#tailClass[id] = sizeClass;
    this.#tailSlot[id] = slot;
  }

  /** Makes the segment table of `id` hold `entries` segments. */
  #ensureTable(id: number, entries: number): void {
    const tableClass = this.#tableClass[id];
    if (tableClass >= 0 && SLOT_SIZES[tableClass] >= entries * 8) return;
    const sizeClass = sizeClassFor(entries * 8);
    const slot = allocSlot(sizeClass);
    if (tableClass >= 0) {
      const from = locateInts(tableClass, this.#tableSlot[id]);
      const old = from.ints.subarray(from.index, from.index + 2 * this.#segmentCount[id]);
      const to = locateInts(sizeClass, slot);
      to.ints.set(old, to.index);
      releaseSlot(tableClass, this.#tableSlot[id]);
    }
    this.#tableClass[id] = sizeClass;
    this.#tableSlot[id] = slot;
  }

  /** Appends a sample newer than every one held at `id`. */
  append(id: number, ts: number, value: number): void {
    this.ensure(id);
    const count = this.#count[id];
    if (count >= HEAD_MAX_SAMPLES) {
      throw new RangeError(`Cannot append to an open chunk: it holds ${count} samples already`);
    }
    this.#ensureTail(id, MAX_SAMPLE_BYTES);
    const { bytes, offset } = locateSlot(this.#tailClass[id], this.#tailSlot[id]);
    let at = offset + this.#tailBytes[id];
    const n = this.#tailCount[id];
    if (n === 0) {
      this.#tailFirstTs[id] = ts;
    } else {
      const delta = ts - this.#lastTs[id];
      at = writeVarint(bytes, at, n === 1 ? delta : zigzag(delta - this.#tailLastDelta[id]));
      this.#tailLastDelta[id] = delta;
    }
    const previous = this.#lastValue[id];
    if (n > 0 && sameFloat64Bits(value, previous)) {
      bytes[at++] = SAME;
    } else {
      const d = digitsOf(value);
      if (d >= 0) {
        bytes[at++] = 1 + d;
        const base = n > 0 ? scaledBase(previous, d) : 0;
        at = writeVarint(bytes, at, zigzag(Math.round(value * POWERS[d]) - base));
      } else {
        scratch[0] = value;
        scratch[1] = n > 0 ? previous : 0;
        let lead = 0;
        while (lead < 8 && scratchBytes[7 - lead] === scratchBytes[15 - lead]) lead++;
        let trail = 0;
        while (trail < 8 - lead && scratchBytes[trail] === scratchBytes[8 + trail]) trail++;
        bytes[at++] = XOR_BASE + 9 * lead + trail;
        for (let i = trail; i < 8 - lead; i++) bytes[at++] = scratchBytes[i] ^ scratchBytes[8 + i];
      }
    }
    this.#tailBytes[id] = at - offset;
    if (count === 0) this.#firstTs[id] = ts;
    this.#lastTs[id] = ts;
    this.#lastValue[id] = value;
    this.#count[id] = count + 1;
    this.#tailCount[id] = n + 1;
    if (n + 1 === freezeAt(id, this.#segmentCount[id])) this.#freeze(id);
  }

  /** Moves the tail into a segment slot holding its codec encoding. */
  #freeze(id: number): void {
    const n = this.#unpackTail(id, segmentTimestamps, segmentValues, 0);
    segmentOut.length = 0;
    encodeChunkInto(segmentOut, segmentTimestamps, segmentValues, n);
    const length = segmentOut.length;
    const sizeClass = sizeClassFor(length);
    const slot = allocSlot(sizeClass);
    const { bytes, offset } = locateSlot(sizeClass, slot);
    bytes.set(segmentOut.bytes.subarray(0, length), offset);
    const s = this.#segmentCount[id];
    this.#ensureTable(id, s + 1);
    const { ints, index } = locateInts(this.#tableClass[id], this.#tableSlot[id]);
    ints[index + 2 * s] = slot;
    ints[index + 2 * s + 1] = (sizeClass << 16) | length;
    this.#segmentCount[id] = s + 1;
    this.#tailBytes[id] = 0;
    this.#tailCount[id] = 0;
  }

  /**
   * Copies the samples held at `id`, ascending, into `timestamps` and `values` from index 0;
   * returns how many. The arrays must hold `count(id)` samples.
   */
  copyTo(id: number, timestamps: Float64Array, values: Float64Array): number {
    if (this.count(id) === 0) return 0;
    let at = 0;
    const segmentCount = this.#segmentCount[id];
    if (segmentCount > 0) {
      const { ints, index } = locateInts(this.#tableClass[id], this.#tableSlot[id]);
      for (let s = 0; s < segmentCount; s++) {
        const packed = ints[index + 2 * s + 1];
        const { bytes, offset } = locateSlot(packed >>> 16, ints[index + 2 * s]);
        at += decodeChunkInto(
          bytes.subarray(offset, offset + (packed & 0xffff)),
          timestamps,
          values,
          at,
          "open chunk segment",
        );
      }
    }
    return this.#unpackTail(id, timestamps, values, at);
  }

  /** Decodes the tail of `id` into the arrays from `at`; returns the new end. */
  #unpackTail(id: number, timestamps: Float64Array, values: Float64Array, at: number): number {
    const tailCount = this.#tailCount[id];
    if (tailCount === 0) return at;
    const { bytes, offset } = locateSlot(this.#tailClass[id], this.#tailSlot[id]);
    const reader = new ByteReader(bytes, offset, offset + this.#tailBytes[id]);
    let ts = this.#tailFirstTs[id];
    let delta = 0;
    let value = 0;
    for (let i = 0; i < tailCount; i++) {
      if (i === 1) delta = reader.varint();
      else if (i > 1) delta += reader.signed();
      ts += delta;
      const control = reader.byte();
      if (control === SAME) {
        // value unchanged
      } else if (control < XOR_BASE) {
        const d = control - 1;
        const base = i > 0 ? scaledBase(value, d) : 0;
        value = (base + reader.signed()) / POWERS[d];
      } else {
        const lead = Math.floor((control - XOR_BASE) / 9);
        const trail = (control - XOR_BASE) % 9;
        scratch[1] = i > 0 ? value : 0;
        for (let b = 0; b < 8; b++) {
          scratchBytes[b] = b >= trail && b < 8 - lead
            ? reader.byte() ^ scratchBytes[8 + b]
            : scratchBytes[8 + b];
        }
        value = scratch[0];
      }
      timestamps[at] = ts;
      values[at] = value;
      at++;
    }
    return at;
  }

  /** Calls `visit` for every sample held at `id` in ascending time order. */
  forEach(id: number, visit: (ts: number, value: number) => void): void {
    const count = this.copyTo(id, unpackTimestamps, unpackValues);
    for (let i = 0; i < count; i++) visit(unpackTimestamps[i], unpackValues[i]);
  }

  /**
   * The value held at `ts` in `id`, or undefined. Decodes at most one segment of ≤ 32 samples
   * (or the tail): racing batches ask this for every sample a little older than the newest.
   */
  valueAt(id: number, ts: number): number | undefined {
    const count = this.count(id);
    if (count === 0 || ts < this.#firstTs[id] || ts > this.#lastTs[id]) return undefined;
    if (ts === this.#lastTs[id]) return this.#lastValue[id];
    const inTail = this.#tailCount[id] > 0 && ts >= this.#tailFirstTs[id];
    let segment = -1;
    if (!inTail) {
      segment = this.#segmentCount[id] - 1;
      if (segment < 0) return undefined;
      const { ints, index } = locateInts(this.#tableClass[id], this.#tableSlot[id]);
      for (; segment > 0; segment--) {
        const packed = ints[index + 2 * segment + 1];
        const { bytes, offset } = locateSlot(packed >>> 16, ints[index + 2 * segment]);
        if (chunkFirstTimestamp(bytes, offset) <= ts) break;
      }
    }
    // Racing batches ask for many timestamps of one piece in a row: decode it once.
    if (this.#lookupId !== id || this.#lookupSegment !== segment || this.#lookupCount !== count) {
      if (inTail) {
        this.#lookupN = this.#unpackTail(id, lookupTimestamps, lookupValues, 0);
      } else {
        const { ints, index } = locateInts(this.#tableClass[id], this.#tableSlot[id]);
        const packed = ints[index + 2 * segment + 1];
        const { bytes, offset } = locateSlot(packed >>> 16, ints[index + 2 * segment]);
        this.#lookupN = decodeChunkInto(
          bytes.subarray(offset, offset + (packed & 0xffff)),
          lookupTimestamps,
          lookupValues,
          0,
          "open chunk segment",
        );
      }
      this.#lookupId = id;
      this.#lookupSegment = segment;
      this.#lookupCount = count;
    }
    const n = this.#lookupN;
    for (let i = 0; i < n; i++) {
      if (lookupTimestamps[i] === ts) return lookupValues[i];
      if (lookupTimestamps[i] > ts) break;
    }
    return undefined;
  }
}
