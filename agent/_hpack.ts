/**
 * HPACK (RFC 7541) for the agent's HTTP/2 client: an encoder that writes every field as a
 * literal without indexing (enough for requests, and it keeps no state), and a full decoder
 * (static and dynamic table, integers, string literals, Huffman), because servers index and
 * Huffman-encode their response headers as they like.
 */

/** RFC 7541 Appendix A. */
const STATIC_TABLE: readonly (readonly [string, string])[] = [
  [":authority", ""],
  [":method", "GET"],
  [":method", "POST"],
  [":path", "/"],
  [":path", "/index.html"],
  [":scheme", "http"],
  [":scheme", "https"],
  [":status", "200"],
  [":status", "204"],
  [":status", "206"],
  [":status", "304"],
  [":status", "400"],
  [":status", "404"],
  [":status", "500"],
  ["accept-charset", ""],
  ["accept-encoding", "gzip, deflate"],
  ["accept-language", ""],
  ["accept-ranges", ""],
  ["accept", ""],
  ["access-control-allow-origin", ""],
  ["age", ""],
  ["allow", ""],
  ["authorization", ""],
  ["cache-control", ""],
  ["content-disposition", ""],
  ["content-encoding", ""],
  ["content-language", ""],
  ["content-length", ""],
  ["content-location", ""],
  ["content-range", ""],
  ["content-type", ""],
  ["cookie", ""],
  ["date", ""],
  ["etag", ""],
  ["expect", ""],
  ["expires", ""],
  ["from", ""],
  ["host", ""],
  ["if-match", ""],
  ["if-modified-since", ""],
  ["if-none-match", ""],
  ["if-range", ""],
  ["if-unmodified-since", ""],
  ["last-modified", ""],
  ["link", ""],
  ["location", ""],
  ["max-forwards", ""],
  ["proxy-authenticate", ""],
  ["proxy-authorization", ""],
  ["range", ""],
  ["referer", ""],
  ["refresh", ""],
  ["retry-after", ""],
  ["server", ""],
  ["set-cookie", ""],
  ["strict-transport-security", ""],
  ["transfer-encoding", ""],
  ["user-agent", ""],
  ["vary", ""],
  ["via", ""],
  ["www-authenticate", ""],
];

/**
 * Code lengths of symbols 0–256 (256 is EOS) of RFC 7541 Appendix B, one base-36 digit each.
 * The code is canonical (codes assigned in order of length, then symbol), so the lengths
 * determine it; the RFC C.4/C.6 examples in the test check the result.
 */
const HUFFMAN_LENGTHS =
  "dnsssssssoussussssssssusssssssss6aacd68baa8b8666555666666678f6cad67777777777777777777777878" +
  "djde6f56565666577666567655677777fbedskmkkmmmnmnnnnnonoomnonnnnlmnmnnomlkmmnnlnmmolmnnllml" +
  "nmnnkmmmnmmnqqkjmnmpqqqrrqopjlqrrqrollqqsrrrkoklmllnmmppooqnqrqqrrrrrsrrrrrqu";
const EOS = 256;

/** (length << 32 | code) → symbol; built on the first Huffman string. */
let huffmanDecodeTable: Map<number, number> | undefined;

function huffmanTable(): Map<number, number> {
  if (huffmanDecodeTable) return huffmanDecodeTable;
  const lengths = [...HUFFMAN_LENGTHS].map((digit) => parseInt(digit, 36));
  const symbols = lengths.map((_, symbol) => symbol).sort((a, b) =>
    lengths[a] - lengths[b] || a - b
  );
  const table = new Map<number, number>();
  let code = 0;
  let previousLength = lengths[symbols[0]];
  for (let i = 0; i < symbols.length; i++) {
    const length = lengths[symbols[i]];
    if (i > 0) code = (code + 1) * 2 ** (length - previousLength);
    previousLength = length;
    table.set(length * 2 ** 32 + code, symbols[i]);
  }
  huffmanDecodeTable = table;
  return table;
}

/** Decodes a Huffman-coded string literal (RFC 7541 §5.2). */
export function decodeHuffman(bytes: Uint8Array): Uint8Array {
  const table = huffmanTable();
  const out: number[] = [];
  let code = 0;
  let length = 0;
  for (const byte of bytes) {
    for (let bit = 7; bit >= 0; bit--) {
      code = code * 2 + ((byte >> bit) & 1);
      length++;
      if (length < 5) continue;
      const symbol = table.get(length * 2 ** 32 + code);
      if (symbol === undefined) {
        if (length >= 30) throw new TypeError("Cannot decode Huffman string: invalid code");
        continue;
      }
      if (symbol === EOS) throw new TypeError("Cannot decode Huffman string: EOS in the data");
      out.push(symbol);
      code = 0;
      length = 0;
    }
  }
  // Padding: at most 7 bits, all ones (the most significant bits of EOS).
  if (length > 7 || code !== 2 ** length - 1) {
    throw new TypeError("Cannot decode Huffman string: invalid padding");
  }
  return new Uint8Array(out);
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

function pushInteger(out: number[], value: number, prefixBits: number, firstByte: number): void {
  const max = 2 ** prefixBits - 1;
  if (value < max) {
    out.push(firstByte | value);
    return;
  }
  out.push(firstByte | max);
  value -= max;
  while (value >= 128) {
    out.push((value % 128) + 128);
    value = Math.floor(value / 128);
  }
  out.push(value);
}

function pushString(out: number[], text: string): void {
  const bytes = encoder.encode(text);
  pushInteger(out, bytes.length, 7, 0);
  for (const byte of bytes) out.push(byte);
}

/** One header block of literal fields without indexing and with literal names (§6.2.2). */
export function encodeHeaderBlock(fields: readonly (readonly [string, string])[]): Uint8Array {
  const out: number[] = [];
  for (const [name, value] of fields) {
    out.push(0);
    pushString(out, name);
    pushString(out, value);
  }
  return new Uint8Array(out);
}

/** Entry overhead of §4.1. */
const ENTRY_OVERHEAD = 32;

/**
 * Decodes the header blocks of one connection, in order (they share the dynamic table).
 * Throws `TypeError` on a malformed block: a COMPRESSION_ERROR, after which the connection
 * must be closed.
 */
export class HpackDecoder {
  /** Newest first. */
  readonly #dynamic: [string, string][] = [];
  #dynamicSize = 0;
  #maxSize: number;
  readonly #maxAllowed: number;

  /** `maxTableSize`: the SETTINGS_HEADER_TABLE_SIZE this side announced; default 4096. */
  constructor(options: { maxTableSize?: number } = {}) {
    this.#maxAllowed = options.maxTableSize ?? 4096;
    this.#maxSize = this.#maxAllowed;
  }

  /** Current size of the dynamic table, as §4.1 counts it. */
  get tableSize(): number {
    return this.#dynamicSize;
  }

  /** Dynamic table entries, newest first. */
  get dynamicTable(): readonly (readonly [string, string])[] {
    return this.#dynamic;
  }

  decode(block: Uint8Array): [string, string][] {
    const fields: [string, string][] = [];
    let offset = 0;
    const readInteger = (prefixBits: number): number => {
      const max = 2 ** prefixBits - 1;
      let value = block[offset++] & max;
      if (value < max) return value;
      let factor = 1;
      for (;;) {
        if (offset >= block.length) throw new TypeError("Cannot decode header block: truncated");
        const byte = block[offset++];
        value += (byte & 127) * factor;
        factor *= 128;
        if (byte < 128) return value;
        if (factor > 2 ** 35) throw new TypeError("Cannot decode header block: integer too big");
      }
    };
    const readString = (): string => {
      if (offset >= block.length) throw new TypeError("Cannot decode header block: truncated");
      const huffman = (block[offset] & 0x80) !== 0;
      const length = readInteger(7);
      if (offset + length > block.length) {
        throw new TypeError("Cannot decode header block: truncated string");
      }
      const raw = block.subarray(offset, offset + length);
      offset += length;
      return decoder.decode(huffman ? decodeHuffman(raw) : raw);
    };
    const entry = (index: number): readonly [string, string] => {
      const found = index >= 1 && index <= STATIC_TABLE.length
        ? STATIC_TABLE[index - 1]
        : this.#dynamic[index - STATIC_TABLE.length - 1];
      if (!found) throw new TypeError(`Cannot decode header block: no table entry ${index}`);
      return found;
    };
    while (offset < block.length) {
      const first = block[offset];
      if (first & 0x80) {
        const [name, value] = entry(readInteger(7));
        fields.push([name, value]);
      } else if ((first & 0xe0) === 0x20) {
        const size = readInteger(5);
        if (size > this.#maxAllowed) {
          throw new TypeError(`Cannot decode header block: table size ${size} over the limit`);
        }
        this.#maxSize = size;
        this.#evict(0);
      } else {
        // Literal: with incremental indexing (01), without (0000) or never indexed (0001).
        const indexed = (first & 0xc0) === 0x40;
        const index = readInteger(indexed ? 6 : 4);
        const name = index === 0 ? readString() : entry(index)[0];
        const value = readString();
        fields.push([name, value]);
        if (indexed) this.#add(name, value);
      }
    }
    return fields;
  }

  #add(name: string, value: string): void {
    const size = encoder.encode(name).length + encoder.encode(value).length + ENTRY_OVERHEAD;
    this.#evict(size);
    if (size <= this.#maxSize) {
      this.#dynamic.unshift([name, value]);
      this.#dynamicSize += size;
    }
  }

  /** Evicts the oldest entries until `incoming` more bytes fit. */
  #evict(incoming: number): void {
    while (this.#dynamic.length > 0 && this.#dynamicSize + incoming > this.#maxSize) {
      const [name, value] = this.#dynamic.pop()!;
      this.#dynamicSize -= encoder.encode(name).length + encoder.encode(value).length +
        ENTRY_OVERHEAD;
    }
  }
}
