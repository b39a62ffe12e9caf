/**
 * `oxmon.ReportResponse`, the reply to `ReportMetrics`: encoded by the gRPC listener child,
 * decoded by the agent.
 */
import type { ReportResponse } from "./messages.ts";
import {
  type Cursor,
  type Fields,
  located,
  otherField,
  readBool,
  readString,
  readTag,
  segmentOf,
  WIRE_BYTES,
  WIRE_VARINT,
} from "./_reader.ts";
import { Writer } from "./_writer.ts";

/** Encodes `response` as an `oxmon.ReportResponse`. */
export function encodeReportResponse(response: ReportResponse): Uint8Array {
  const writer = new Writer(64 + response.message.length * 3);
  writer.bool(1, response.success);
  writer.string(2, response.message);
  return writer.finish();
}

const FIELDS: Fields = [
  ["", -1, ""],
  [".success", WIRE_VARINT, "bool"],
  [".message", WIRE_BYTES, "string"],
];

/**
 * Decodes an `oxmon.ReportResponse`, skipping unknown fields (a newer server may add some).
 * Malformed bytes throw a `RangeError` naming the field, e.g.
 * `response.message: truncated length at byte 1: its message ends at byte 1`.
 */
export function decodeReportResponse(bytes: Uint8Array): ReportResponse {
  const response: ReportResponse = { success: false, message: "" };
  const at: Cursor = { buf: bytes, pos: 0, len: bytes.length };
  let tag = 0;
  try {
    while (at.pos < at.len) {
      tag = 0;
      tag = readTag(at);
      if (tag === 0x08) response.success = readBool(at);
      else if (tag === 0x12) response.message = readString(at);
      else otherField(at, tag, FIELDS, 0);
    }
  } catch (error) {
    located(error, "response" + segmentOf(FIELDS, tag));
  }
  return response;
}
