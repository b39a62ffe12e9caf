/**
 * HPACK (RFC 7541) for oxmon's HTTP/2 client (the agent) and server (the gRPC listener): an
 * encoder that writes every field as a literal without indexing (valid towards any peer, and it
 * keeps no state), and a full decoder (static and dynamic table, integers, string literals,
 * Huffman), because peers index and Huffman-encode their header fields as they like.
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

/**
 * The canonical code as arrays: for each code length, the first code of that length and how
 * many codes have it, and the symbols in code order. Decoding then takes a subtraction and a
 * comparison per bit, with no lookup structure to allocate or hash. Built on first use.
 */
interface HuffmanCode {
  firstCode: Int32Array;
  count: Int32Array;
  /** Index in `symbols` of the first symbol of each length. */
  offset: Int32Array;
  symbols: Uint16Array;
}

const MAX_CODE_LENGTH = 30;
let huffmanCode: HuffmanCode | undefined;

function huffman(): HuffmanCode {
  if (huffmanCode) return huffmanCode;
  const lengths = [...HUFFMAN_LENGTHS].map((digit) => parseInt(digit, 36));
  const symbols = lengths.map((_, symbol) => symbol).sort((a, b) =>
    lengths[a] - lengths[b] || a - b
  );
  const count = new Int32Array(MAX_CODE_LENGTH + 1);
  for (const length of lengths) count[length]++;
  const firstCode = new Int32Array(MAX_CODE_LENGTH + 1);
  const offset = new Int32Array(MAX_CODE_LENGTH + 1);
  for (let length = 1; length <= MAX_CODE_LENGTH; length++) {
    firstCode[length] = (firstCode[length - 1] + count[length - 1]) * 2;
    offset[length] = offset[length - 1] + count[length - 1];
  }
  huffmanCode = { firstCode, count, offset, symbols: Uint16Array.from(symbols) };
  return huffmanCode;
}

/** Decodes a Huffman-coded string literal (RFC 7541 §5.2). */
export function decodeHuffman(bytes: Uint8Array): Uint8Array {
  const { firstCode, count, offset, symbols } = huffman();
  // The shortest code has 5 bits.
  const out = new Uint8Array(Math.floor((bytes.length * 8) / 5));
  let written = 0;
  let code = 0;
  let length = 0;
  for (let i = 0; i < bytes.length; i++) {
    const byte = bytes[i];
    for (let bit = 7; bit >= 0; bit--) {
      code = code * 2 + ((byte >> bit) & 1);
      length++;
      const index = code - firstCode[length];
      if (index < 0 || index >= count[length]) {
        if (length >= MAX_CODE_LENGTH) {
          throw new TypeError("Cannot decode Huffman string: invalid code");
        }
        continue;
      }
      const symbol = symbols[offset[length] + index];
      if (symbol === EOS) throw new TypeError("Cannot decode Huffman string: EOS in the data");
      out[written++] = symbol;
      code = 0;
      length = 0;
    }
  }
  // Padding: at most 7 bits, all ones (the most significant bits of EOS).
  if (length > 7 || code !== 2 ** length - 1) {
    throw new TypeError("Cannot decode Huffman string: invalid padding");
  }
  return out.subarray(0, written);
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** Appends an integer with an N-bit prefix (§5.1). */
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
  for (let i = 0; i < bytes.length; i++) out.push(bytes[i]);
}

/** A literal field without indexing and with a literal name (§6.2.2). */
function encodeField(name: string, value: string): Uint8Array {
  const out: number[] = [0];
  pushString(out, name);
  pushString(out, value);
  return new Uint8Array(out);
}

/**
 * Encoded fields by name, then value. A client sends the same few fields with every request
 * (only a deadline may differ), so each is encoded once rather than byte by byte every call.
 */
const encodedFields = new Map<string, Map<string, Uint8Array>>();
let encodedFieldCount = 0;
const ENCODED_FIELDS_LIMIT = 64;

/** One header block of literal fields without indexing and with literal names (§6.2.2). */
export function encodeHeaderBlock(fields: readonly (readonly [string, string])[]): Uint8Array {
  const parts: Uint8Array[] = [];
  let size = 0;
  for (let i = 0; i < fields.length; i++) {
    const name = fields[i][0];
    const value = fields[i][1];
    let byValue = encodedFields.get(name);
    let part = byValue?.get(value);
    if (!part) {
      if (encodedFieldCount >= ENCODED_FIELDS_LIMIT) {
        encodedFields.clear();
        encodedFieldCount = 0;
        byValue = undefined;
      }
      part = encodeField(name, value);
      if (!byValue) encodedFields.set(name, byValue = new Map());
      byValue.set(value, part);
      encodedFieldCount++;
    }
    parts.push(part);
    size += part.length;
  }
  const block = new Uint8Array(size);
  let offset = 0;
  for (let i = 0; i < parts.length; i++) {
    block.set(parts[i], offset);
    offset += parts[i].length;
  }
  return block;
}

/**
 * A dynamic table size update (§6.3): starts the first header block after the peer lowered
 * SETTINGS_HEADER_TABLE_SIZE below the size in force (§4.2), even from an encoder that never
 * indexes — strict decoders (nghttp2) expect it.
 */
export function encodeTableSizeUpdate(size: number): Uint8Array {
  const out: number[] = [];
  pushInteger(out, size, 5, 0x20);
  return new Uint8Array(out);
}

/** Entry overhead of §4.1. */
const ENTRY_OVERHEAD = 32;

/**
 * A dynamic table entry with its size as §4.1 counts it: the octets of name and value as they
 * were on the wire (after Huffman decoding) plus 32. Not the length of the decoded JS strings:
 * octets that are not UTF-8 (obs-text such as a Latin-1 "é", 0xe9) decode to U+FFFD, which
 * re-encodes to 3 octets, and the table would then evict entries the encoder still counts on.
 */
interface TableEntry {
  name: string;
  value: string;
  nameOctets: number;
  size: number;
}

/** The static table as entries; its names and values are ASCII, one octet per character. */
const STATIC_ENTRIES: readonly TableEntry[] = STATIC_TABLE.map(([name, value]) => ({
  name,
  value,
  nameOctets: name.length,
  size: name.length + value.length + ENTRY_OVERHEAD,
}));

/** A string literal as decoded, and how many octets it has (§5.2). */
interface StringLiteral {
  text: string;
  octets: number;
}

/**
 * Decodes the header blocks of one connection, in order (they share the dynamic table).
 * Throws `TypeError` on a malformed block: a COMPRESSION_ERROR, after which the connection
 * must be closed.
 */
export class HpackDecoder {
  /** Newest first. */
  readonly #dynamic: TableEntry[] = [];
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
    return this.#dynamic.map((entry) => [entry.name, entry.value]);
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
    const readString = (): StringLiteral => {
      if (offset >= block.length) throw new TypeError("Cannot decode header block: truncated");
      const huffman = (block[offset] & 0x80) !== 0;
      const length = readInteger(7);
      if (offset + length > block.length) {
        throw new TypeError("Cannot decode header block: truncated string");
      }
      const raw = block.subarray(offset, offset + length);
      offset += length;
      const octets = huffman ? decodeHuffman(raw) : raw;
      return { text: decoder.decode(octets), octets: octets.length };
    };
    const entry = (index: number): TableEntry => {
      const found = index >= 1 && index <= STATIC_ENTRIES.length
        ? STATIC_ENTRIES[index - 1]
        : this.#dynamic[index - STATIC_ENTRIES.length - 1];
      if (!found) throw new TypeError(`Cannot decode header block: no table entry ${index}`);
      return found;
    };
    while (offset < block.length) {
      const first = block[offset];
      if (first & 0x80) {
        const found = entry(readInteger(7));
        fields.push([found.name, found.value]);
      } else if ((first & 0xe0) === 0x20) {
        // Only at the start of a block (§4.2); h2 and nghttp2 reject it later, as we do.
        if (fields.length > 0) {
          throw new TypeError("Cannot decode header block: table size update after a field");
        }
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
        let name: StringLiteral;
        if (index === 0) name = readString();
        else {
          const found = entry(index);
          name = { text: found.name, octets: found.nameOctets };
        }
        const value = readString();
        fields.push([name.text, value.text]);
        if (indexed) this.#add(name, value);
      }
    }
    return fields;
  }

  #add(name: StringLiteral, value: StringLiteral): void {
    const size = name.octets + value.octets + ENTRY_OVERHEAD;
    this.#evict(size);
    // An entry larger than the whole table empties it and is not added (§4.4).
    if (size <= this.#maxSize) {
      this.#dynamic.unshift({ name: name.text, value: value.text, nameOctets: name.octets, size });
      this.#dynamicSize += size;
    }
  }

  /** Evicts the oldest entries until `incoming` more octets fit. */
  #evict(incoming: number): void {
    while (this.#dynamic.length > 0 && this.#dynamicSize + incoming > this.#maxSize) {
      this.#dynamicSize -= this.#dynamic.pop()!.size;
    }
  }
}
