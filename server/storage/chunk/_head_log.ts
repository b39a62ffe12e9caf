/**
 * Rows of the head log: every accepted write that goes to open chunks is committed as ONE row
 * per day before `write()` returns (one row per sample measured 8× slower), and replayed at
 * open. Layout: `version:u8 (seriesId:varint tsDelta:signed value)* crc32:u32`, where a value
 * is a byte `d` (0–6) and the value times 10^d as a signed varint when that is exact, else 255
 * and the float64: host metrics are mostly short decimals, and the log is written at full
 * ingest rate, so 3–6 bytes instead of 8 matter.
 */
import { ByteReader, ByteWriter, crc32 } from "./_bytes.ts";
import { digitsOf, MAX_DIGITS, POWERS } from "./_head.ts";

const LOG_VERSION = 1;
const RAW_FLOAT = 255;

/** Builds one row; reusable, so a write allocates no buffer for its row. */
export class HeadLogRowWriter {
  readonly #out = new ByteWriter(16_384);
  #previousTs = 0;
  count = 0;

  constructor() {
    this.reset();
  }

  /** Starts a new row; the bytes `finish` returned before are overwritten from here on. */
  reset(): void {
    this.#out.length = 0;
    this.#out.byte(LOG_VERSION);
    this.#previousTs = 0;
    this.count = 0;
  }

  add(seriesId: number, ts: number, value: number): void {
    this.#out.varint(seriesId);
    this.#out.signed(ts - this.#previousTs);
    const d = digitsOf(value);
    if (d < 0) {
      this.#out.byte(RAW_FLOAT);
      this.#out.float64(value);
    } else {
      this.#out.byte(d);
      this.#out.signed(Math.round(value * POWERS[d]));
    }
    this.#previousTs = ts;
    this.count++;
  }

  /** The row, as a view valid until the next `reset`. */
  finish(): Uint8Array {
    this.#out.uint32(crc32(this.#out.bytes, 0, this.#out.length));
    return this.#out.bytes.subarray(0, this.#out.length);
  }
}

/** One sample of a head-log row: series id, timestamp, value. */
export type HeadLogSample = [number, number, number];

/** Calls `visit` per sample; throws an error naming `where` when the row is damaged. */
export function readHeadLogRow(
  bytes: Uint8Array,
  where: string,
  visit: (seriesId: number, ts: number, value: number) => void,
): void {
  // Visited only once the whole row is known good, so a damaged row applies nothing.
  for (const [seriesId, ts, value] of decodeHeadLogRow(bytes, where)) visit(seriesId, ts, value);
}

/** The samples of a row; throws an error naming `where` when the row is damaged. */
export function decodeHeadLogRow(bytes: Uint8Array, where: string): HeadLogSample[] {
  let samples: HeadLogSample[];
  try {
    if (bytes.length < 5) throw new RangeError(`too short (${bytes.length} bytes)`);
    const bodyEnd = bytes.length - 4;
    if (new ByteReader(bytes, bodyEnd).uint32() !== crc32(bytes, 0, bodyEnd)) {
      throw new RangeError("checksum mismatch");
    }
    const reader = new ByteReader(bytes, 0, bodyEnd);
    const version = reader.byte();
    if (version !== LOG_VERSION) throw new RangeError(`unknown version ${version}`);
    samples = [];
    let ts = 0;
    while (reader.remaining > 0) {
      const seriesId = reader.varint();
      ts += reader.signed();
      const kind = reader.byte();
      let value: number;
      if (kind === RAW_FLOAT) value = reader.float64();
      else if (kind <= MAX_DIGITS) value = reader.signed() / POWERS[kind];
      else throw new RangeError(`unknown value kind ${kind}`);
      samples.push([seriesId, ts, value]);
    }
  } catch (error) {
    throw new Error(`Cannot replay ${where}: ${(error as Error).message}`, { cause: error });
  }
  return samples;
}
