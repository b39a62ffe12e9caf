/**
 * Gorilla XOR coding of float64 values (Facebook's Gorilla paper): each value XORed with the
 * previous one, the meaningful bits only, reusing the previous window of leading and trailing
 * zeros when it fits. Used by both chunk format versions for values that are not short decimals.
 */
import { BitReader, BitWriter, type ByteWriter } from "./_bytes.ts";

// Float64 bits are read through Int32Array: a Uint32Array view sends V8 into deoptimisation
// loops (measured 6–8× slower encoding). Index 0 is the low word on little-endian hosts.
const bitsFloat = new Float64Array(1);
const bitsWords = new Int32Array(bitsFloat.buffer);
const LOW = 0;
const HIGH = 1;
if (new Uint8Array(new Uint16Array([1]).buffer)[0] !== 1) {
  throw new Error("The chunk codec needs a little-endian host");
}

function countTrailingZeros(word: number): number {
  return 31 - Math.clz32(word & -word);
}

/** Writes `count` values as Gorilla XOR bits, padded to whole bytes. */
export function writeGorilla(out: ByteWriter, values: ArrayLike<number>, count: number): void {
  const bits = new BitWriter(out);
  bitsFloat[0] = values[0];
  let previousHigh = bitsWords[HIGH];
  let previousLow = bitsWords[LOW];
  bits.bits(previousHigh, 32);
  bits.bits(previousLow, 32);
  let windowLeading = -1;
  let windowTrailing = 0;
  for (let i = 1; i < count; i++) {
    bitsFloat[0] = values[i];
    const high = bitsWords[HIGH];
    const low = bitsWords[LOW];
    const xorHigh = high ^ previousHigh;
    const xorLow = low ^ previousLow;
    previousHigh = high;
    previousLow = low;
    if (xorHigh === 0 && xorLow === 0) {
      bits.bit(0);
      continue;
    }
    bits.bit(1);
    let leading = xorHigh !== 0 ? Math.clz32(xorHigh) : 32 + Math.clz32(xorLow);
    const trailing = xorLow !== 0 ? countTrailingZeros(xorLow) : 32 + countTrailingZeros(xorHigh);
    if (leading > 31) leading = 31;
    if (windowLeading >= 0 && leading >= windowLeading && trailing >= windowTrailing) {
      bits.bit(0);
      writeMeaningful(bits, xorHigh, xorLow, windowTrailing, 64 - windowLeading - windowTrailing);
    } else {
      bits.bit(1);
      const significant = 64 - leading - trailing;
      bits.bits(leading, 5);
      bits.bits(significant - 1, 6);
      writeMeaningful(bits, xorHigh, xorLow, trailing, significant);
      windowLeading = leading;
      windowTrailing = trailing;
    }
  }
  bits.flush();
}

/** Writes bits `[shift, shift + width)` of the 64-bit word `high:low`. */
function writeMeaningful(bits: BitWriter, high: number, low: number, shift: number, width: number) {
  let shiftedHigh: number;
  let shiftedLow: number;
  if (shift === 0) {
    shiftedHigh = high;
    shiftedLow = low;
  } else if (shift < 32) {
    shiftedLow = (low >>> shift) | (high << (32 - shift));
    shiftedHigh = high >>> shift;
  } else {
    shiftedLow = high >>> (shift - 32);
    shiftedHigh = 0;
  }
  if (width > 32) {
    bits.bits(shiftedHigh, width - 32);
    bits.bits(shiftedLow, 32);
  } else {
    bits.bits(shiftedLow, width);
  }
}

/** Reads `count` values written by `writeGorilla` into `out` from `at`; returns the byte offset after them. */
export function readGorilla(
  bytes: Uint8Array,
  offset: number,
  end: number,
  out: Float64Array,
  at: number,
  count: number,
): number {
  const bits = new BitReader(bytes, offset, end);
  let high = bits.bits(32) | 0;
  let low = bits.bits(32) | 0;
  bitsWords[HIGH] = high;
  bitsWords[LOW] = low;
  out[at] = bitsFloat[0];
  let windowLeading = -1;
  let windowTrailing = 0;
  for (let i = at + 1; i < at + count; i++) {
    if (bits.bit() === 1) {
      let leading: number;
      let width: number;
      if (bits.bit() === 0) {
        if (windowLeading < 0) throw new RangeError("XOR window reused before it was set");
        leading = windowLeading;
        width = 64 - windowLeading - windowTrailing;
      } else {
        leading = bits.bits(5);
        width = bits.bits(6) + 1;
        if (leading + width > 64) throw new RangeError("XOR window wider than 64 bits");
        windowLeading = leading;
        windowTrailing = 64 - leading - width;
      }
      const shift = 64 - leading - width;
      let fieldHigh = 0;
      let fieldLow: number;
      if (width > 32) {
        fieldHigh = bits.bits(width - 32);
        fieldLow = bits.bits(32) | 0;
      } else {
        fieldLow = bits.bits(width) | 0;
      }
      let xorHigh: number;
      let xorLow: number;
      if (shift === 0) {
        xorHigh = fieldHigh;
        xorLow = fieldLow;
      } else if (shift < 32) {
        xorLow = fieldLow << shift;
        xorHigh = (fieldHigh << shift) | (fieldLow >>> (32 - shift));
      } else {
        xorLow = 0;
        xorHigh = fieldLow << (shift - 32);
      }
      high ^= xorHigh;
      low ^= xorLow;
    }
    bitsWords[HIGH] = high;
    bitsWords[LOW] = low;
    out[i] = bitsFloat[0];
  }
  return bits.byteOffset;
}
