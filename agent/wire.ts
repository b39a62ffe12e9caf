/**
 * The agent's side of the `oxmon.MetricService` wire format (`proto/metrics.proto`), written by
 * hand: encode a `MetricBatchProto`, decode a `ReportResponse`.
 *
 * Why not the generated protobufjs code in `shared/proto/`: protobufjs is a CommonJS npm
 * package, and loading it pulls Deno's Node compatibility layer into the process, about 12 MB
 * of resident memory, a quarter of the agent's budget. The two messages the agent needs fit in
 * this file; `wire_test.ts` checks them against the generated code, which stays the reference.
 */
import type { MetricBatch, MetricDataPoint, SystemInfo } from "../shared/types.ts";

const WIRE_VARINT = 0;
const WIRE_FIXED64 = 1;
const WIRE_BYTES = 2;
const WIRE_FIXED32 = 5;

/**
 * A growable byte buffer with the few protobuf primitives the agent's messages need. Scalar
 * fields follow proto3's implicit presence: a default value (0, "") is not written, as the
 * generated code does; map entries write both fields regardless, as the generated code does.
 * Strings are UTF-8-encoded here in JS: per-string `TextEncoder` calls made encoding 4× slower.
 */
class Writer {
  #bytes = new Uint8Array(4096);
  #view = new DataView(this.#bytes.buffer);
  #pos = 0;

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

  double(field: number, value: number): void {
    if (Object.is(value, 0)) return; // -0 differs from the default and is kept
    this.#tag(field, WIRE_FIXED64);
    this.#reserve(8);
    this.#view.setFloat64(this.#pos, value, true);
    this.#pos += 8;
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

function writeDataPoint(writer: Writer, point: MetricDataPoint): void {
  writer.int64(1, point.timestampMs);
  writer.string(2, point.agentId);
  writer.string(3, point.metricName);
  writer.double(4, point.value);
  const labels = point.labels;
  for (const key of Object.keys(labels)) {
    const value = labels[key];
    // A map<string, string> is a repeated entry message { key = 1; value = 2; }.
    const entry = writer.beginMessage(5);
    writer.string(1, key, { keepEmpty: true });
    writer.string(2, value, { keepEmpty: true });
    writer.endMessage(entry);
  }
}

function writeSystemInfo(writer: Writer, info: SystemInfo): void {
  writer.string(1, info.hostname);
  writer.string(2, info.os);
  writer.string(3, info.osVersion);
  writer.string(4, info.arch);
  writer.string(5, info.kernelVersion);
  writer.int64(6, info.cpuCores); // int32 shares the varint encoding of int64
  writer.double(7, info.memoryGb);
  writer.double(8, info.diskGb);
}

/** Encodes `batch` as an `oxmon.MetricBatchProto`. */
export function encodeMetricBatch(batch: MetricBatch): Uint8Array {
  const writer = new Writer();
  writer.string(1, batch.agentId);
  writer.int64(2, batch.timestampMs);
  for (const point of batch.dataPoints) {
    const start = writer.beginMessage(3);
    writeDataPoint(writer, point);
    writer.endMessage(start);
  }
  if (batch.systemInfo) {
    const start = writer.beginMessage(4);
    writeSystemInfo(writer, batch.systemInfo);
    writer.endMessage(start);
  }
  return writer.finish();
}

/** A decoded `oxmon.ReportResponse`; absent fields take their proto3 defaults. */
export interface ReportResponse {
  success: boolean;
  message: string;
}

/**
 * Decodes an `oxmon.ReportResponse`, skipping unknown fields (a newer server may add some).
 * Throws `RangeError` on truncated or malformed bytes.
 */
export function decodeReportResponse(bytes: Uint8Array): ReportResponse {
  const response: ReportResponse = { success: false, message: "" };
  let pos = 0;
  const varint = (): number => {
    let value = 0;
    for (let shift = 0; shift < 70; shift += 7) {
      if (pos >= bytes.length) break;
      const byte = bytes[pos++];
      value += (byte & 0x7f) * 2 ** shift;
      if (byte < 0x80) return value;
    }
    throw new RangeError(`Cannot decode ReportResponse: bad varint ending at byte ${pos}`);
  };
  const skip = (length: number) => {
    if (pos + length > bytes.length) {
      throw new RangeError(
        `Cannot decode ReportResponse: a field of ${length} bytes at byte ${pos} runs past ` +
          `the end (${bytes.length} bytes)`,
      );
    }
    pos += length;
  };
  while (pos < bytes.length) {
    const tag = varint();
    const field = Math.floor(tag / 8);
    const wireType = tag % 8;
    if (field === 1 && wireType === WIRE_VARINT) response.success = varint() !== 0;
    else if (field === 2 && wireType === WIRE_BYTES) {
      const length = varint();
      const start = pos;
      skip(length);
      response.message = new TextDecoder().decode(bytes.subarray(start, pos));
    } else if (wireType === WIRE_VARINT) varint();
    else if (wireType === WIRE_FIXED64) skip(8);
    else if (wireType === WIRE_BYTES) skip(varint());
    else if (wireType === WIRE_FIXED32) skip(4);
    else {
      throw new RangeError(
        `Cannot decode ReportResponse: unsupported wire type ${wireType} of field ${field}`,
      );
    }
  }
  return response;
}
