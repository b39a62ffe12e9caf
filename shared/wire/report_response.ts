/**
 * `oxmon.ReportResponse`, the reply to `ReportMetrics`: encoded by the gRPC listener child,
 * decoded by the agent.
 */
import type { ReportResponse } from "./messages.ts";
import {
  type Cursor,
  located,
  readBool,
  readString,
  readTag,
  skipUnknown,
  WIRE_BYTES,
  WIRE_VARINT,
  wrongWireType,
} from "./_reader.ts";
import { Writer } from "./_writer.ts";

/** Encodes `response` as an `oxmon.ReportResponse`. */
export function encodeReportResponse(response: ReportResponse): Uint8Array {
  const writer = new Writer(64 + response.message.length * 3);
  writer.bool(1, response.success);
  writer.string(2, response.message);
  return writer.finish();
}

const FIELDS = ["", ".success", ".message"];

/**
 * Decodes an `oxmon.ReportResponse`, skipping unknown fields (a newer server may add some).
 * Malformed bytes throw a `RangeError` naming the field, e.g.
 * `response.message: truncated length at byte 1: its message ends at byte 1`.
 */
export function decodeReportResponse(bytes: Uint8Array): ReportResponse {
  const response: ReportResponse = { success: false, message: "" };
  const at: Cursor = { buf: bytes, pos: 0, len: bytes.length };
  let field = 0;
  try {
    while (at.pos < at.len) {
      const tagAt = at.pos;
      field = 0;
      const tag = readTag(at);
      const wireType = tag & 7;
      field = tag >>> 3;
      if (field === 1) {
        if (wireType !== WIRE_VARINT) throw wrongWireType(wireType, WIRE_VARINT, "bool");
        response.success = readBool(at);
      } else if (field === 2) {
        if (wireType !== WIRE_BYTES) throw wrongWireType(wireType, WIRE_BYTES, "string");
        response.message = readString(at);
      } else skipUnknown(at, wireType, field, 0, tagAt);
    }
  } catch (error) {
    located(error, "response" + (field < FIELDS.length ? FIELDS[field] : ""));
  }
  return response;
}
