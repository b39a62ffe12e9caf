/**
 * Writing the protobuf wire format, for this folder's encoders. Scalar fields follow proto3's
 * implicit presence: a default value (0, "", false) is not written, as the generated code does;
 * map entries write both fields regardless, as the generated code does. The bytes are those
 * protobufjs writes (`encode_batch_test.ts`), except for lone surrogates, written as U+FFFD
 * like `TextEncoder` (protobufjs writes invalid UTF-8 for them).
 */
const WIRE_VARINT = 0;
const WIRE_FIXED64 = 1;
const WIRE_BYTES = 2;

/**
 * A growable byte buffer with the few protobuf primitives oxmon's messages need. Strings are
 * UTF-8-encoded here in JS: per-string `TextEncoder` calls made encoding 4× slower.
 */
export class Writer {
  #bytes: Uint8Array;
  #view: DataView;
  #pos = 0;

  constructor(initialBytes = 4096) {
    this.#bytes = new Uint8Array(initialBytes);
    this.#view = new DataView(this.#bytes.buffer);
  }

  #reserve(extra: number): void {
    if (this.#pos + extra <= this.#bytes.length) return;
    const grown = new Uint8Array(Math.max(this.#bytes.length * 2, this.#pos + extra));
    grown.set(this.#bytes.subarray(0, this.#pos));
    this.#bytes = grown;
    this.#view = new DataView(grown.buffer);
  }

  #varint(value: number): void {
    this.#reserve(10);
    const bytes = this.#bytes;
    if (value < 0) {
      // Negative int32/int64 values take ten bytes, as their 64-bit two's complement.
      let big = BigInt.asUintN(64, BigInt(value));
      while (big > 0x7fn) {
        bytes[this.#pos++] = Number(big & 0x7fn) | 0x80;
        big >>= 7n;
      }
      bytes[this.#pos++] = Number(big);
      return;
    }
    // Division rather than bit operators above 31 bits: timestamps need 41.
    while (value > 0x7fffffff) {
      bytes[this.#pos++] = (value % 128) | 0x80;
      value = Math.floor(value / 128);
    }
    while (value > 0x7f) {
      bytes[this.#pos++] = (value & 0x7f) | 0x80;
      value >>>= 7;
    }
    bytes[this.#pos++] = value;
  }

  #tag(field: number, wireType: number): void {
    this.#varint(field * 8 + wireType);
  }

  int64(field: number, value: number): void {
    if (value === 0) return;
    this.#tag(field, WIRE_VARINT);
    this.#varint(Math.trunc(value));
  }

  /** As int32 is written: the value cut to 32 bits, a negative one in ten bytes. */
  int32(field: number, value: number): void {
    if (value === 0) return;
    this.#tag(field, WIRE_VARINT);
    this.#varint(value | 0);
  }

  bool(field: number, value: boolean): void {
    if (!value) return;
    this.#tag(field, WIRE_VARINT);
    this.#varint(1);
  }

  double(field: number, value: number): void {
    if (Object.is(value, 0)) return; // -0 differs from the default and is kept
    this.#tag(field, WIRE_FIXED64);
    this.#reserve(8);
    this.#view.setFloat64(this.#pos, value, true);
    this.#pos += 8;
  }

  /** Bytes written as they are: fields encoded before (see `int64Field`). */
  raw(bytes: Uint8Array): void {
    this.#reserve(bytes.length);
    this.#bytes.set(bytes, this.#pos);
    this.#pos += bytes.length;
  }

  string(field: number, value: string, options: { keepEmpty?: boolean } = {}): void {
    if (value === "" && !options.keepEmpty) return;
    this.#tag(field, WIRE_BYTES);
    this.#varint(utf8Length(value));
    // UTF-8 takes at most three bytes per UTF-16 code unit.
    this.#reserve(value.length * 3);
    const bytes = this.#bytes;
    let pos = this.#pos;
    for (let i = 0; i < value.length; i++) {
      let code = value.charCodeAt(i);
      if (code < 0x80) {
        bytes[pos++] = code;
        continue;
      }
      if (code < 0x800) {
        bytes[pos++] = 0xc0 | (code >> 6);
        bytes[pos++] = 0x80 | (code & 0x3f);
        continue;
      }
      if (code >= 0xd800 && code <= 0xdfff) {
        const next = value.charCodeAt(i + 1);
        if (code <= 0xdbff && next >= 0xdc00 && next <= 0xdfff) {
          code = 0x10000 + ((code - 0xd800) << 10) + (next - 0xdc00);
          i++;
          bytes[pos++] = 0xf0 | (code >> 18);
          bytes[pos++] = 0x80 | ((code >> 12) & 0x3f);
          bytes[pos++] = 0x80 | ((code >> 6) & 0x3f);
          bytes[pos++] = 0x80 | (code & 0x3f);
          continue;
        }
        code = 0xfffd; // a lone surrogate, replaced as TextEncoder does
      }
      bytes[pos++] = 0xe0 | (code >> 12);
      bytes[pos++] = 0x80 | ((code >> 6) & 0x3f);
      bytes[pos++] = 0x80 | (code & 0x3f);
    }
    this.#pos = pos;
  }

  /**
   * Starts a length-delimited field; `endMessage` with the returned position closes it. One
   * byte is set aside for the length, the common case; a longer content is shifted to fit.
   */
  beginMessage(field: number): number {
    this.#tag(field, WIRE_BYTES);
    this.#reserve(1);
    return ++this.#pos;
  }

  endMessage(contentStart: number): void {
    const length = this.#pos - contentStart;
    if (length < 128) {
      this.#bytes[contentStart - 1] = length;
      return;
    }
    let extra = 1;
    while (length >= 128 ** (extra + 1)) extra++;
    this.#reserve(extra);
    this.#bytes.copyWithin(contentStart + extra, contentStart, this.#pos);
    const end = this.#pos + extra;
    this.#pos = contentStart - 1;
    this.#varint(length);
    this.#pos = end;
  }

  finish(): Uint8Array {
    return this.#bytes.slice(0, this.#pos);
  }

  /** An int64 field on its own, for `raw` when many messages repeat it. */
  static int64Field(field: number, value: number): Uint8Array {
    const writer = new Writer(16);
    writer.int64(field, value);
    return writer.finish();
  }
}

/** Bytes of `value` in UTF-8 (lone surrogates count as U+FFFD, three bytes). */
function utf8Length(value: string): number {
  let length = value.length;
  for (let i = 0; i < value.length; i++) {
    const code = value.charCodeAt(i);
    if (code < 0x80) continue;
    if (code < 0x800) length += 1;
    else if (code >= 0xd800 && code <= 0xdbff && i + 1 < value.length) {
      const next = value.charCodeAt(i + 1);
      if (next >= 0xdc00 && next <= 0xdfff) {
        length += 2; // four bytes for two code units
        i++;
      } else length += 2;
    } else length += 2;
  }
  return length;
}
