/**
 * `oxmon.ReportResponse` against the generated protobufjs code (the oracle): the same bytes when
 * encoding; when decoding, the same reply or both refuse, except for a known field with the
 * wrong wire type, which ours refuses.
 */
import assert from "node:assert/strict";
import { ReportResponse } from "../proto/mod.ts";
import { mutate, Random, randomText, Wire } from "../../tests/helpers/wire_messages.ts";
import { decodeReportResponse, encodeReportResponse } from "./report_response.ts";

function oracleEncode(response: { success: boolean; message: string }): Uint8Array {
  return new Uint8Array(ReportResponse.encode(response).finish());
}

Deno.test("encodeReportResponse writes protobufjs's bytes", () => {
  const messages = ["", "ok ✓", "stored 1000 of 1000 points", "x".repeat(300), "🙂 日本"];
  for (const success of [true, false]) {
    for (const message of messages) {
      const response = { success, message };
      assert.deepEqual(encodeReportResponse(response), oracleEncode(response), message);
    }
  }
  for (let seed = 1; seed <= 1_000; seed++) {
    const rng = new Random(seed);
    const response = { success: rng.chance(0.5), message: randomText(rng) };
    assert.deepEqual(encodeReportResponse(response), oracleEncode(response), `seed ${seed}`);
  }
});

Deno.test("decodeReportResponse reads what the server encodes", async (t) => {
  await t.step("both fields", () => {
    const bytes = encodeReportResponse({ success: true, message: "ok ✓" });
    assert.deepEqual(decodeReportResponse(bytes), { success: true, message: "ok ✓" });
  });
  await t.step("defaults when fields are absent", () => {
    assert.deepEqual(decodeReportResponse(new Uint8Array()), { success: false, message: "" });
  });
  await t.step("unknown fields of every wire type are skipped", () => {
    const known = encodeReportResponse({ success: true, message: "m" });
    const unknown = new Wire()
      .tag(3, 0).varint(150)
      .tag(4, 1).raw([1, 2, 3, 4, 5, 6, 7, 8])
      .string(5, "hi")
      .tag(6, 5).raw([1, 2, 3, 4])
      .tag(7, 3).tag(8, 0).varint(1).tag(7, 4)
      .finish();
    const bytes = new Uint8Array([...unknown, ...known]);
    assert.deepEqual(decodeReportResponse(bytes), { success: true, message: "m" });
  });
  await t.step("truncated bytes are a RangeError naming the field", () => {
    const bytes = encodeReportResponse({ success: true, message: "message" });
    assert.throws(
      () => decodeReportResponse(bytes.subarray(0, bytes.length - 2)),
      new RangeError(
        "response.message: 7 bytes from byte 4 run past the end of their message at byte 9",
      ),
    );
    assert.throws(
      () => decodeReportResponse(new Uint8Array([0x08, 0x80])),
      new RangeError("response.success: truncated varint at byte 1: its message ends at byte 2"),
    );
  });
  await t.step("a known field with the wrong wire type is refused", () => {
    assert.throws(
      () => decodeReportResponse(new Wire().string(1, "yes").finish()),
      new RangeError("response.success: wire type 2, expected 0 (bool)"),
    );
  });
});

Deno.test("decodeReportResponse agrees with protobufjs on random and mutated replies", () => {
  const counts = { same: 0, bothRefused: 0, stricter: 0 };
  for (let seed = 1; seed <= 3_000; seed++) {
    const rng = new Random(seed);
    const wire = new Wire();
    for (let fields = rng.int(0, 4); fields > 0; fields--) {
      const field = rng.int(1, 4);
      const wireType = rng.chance(0.8) ? (field === 1 ? 0 : 2) : rng.pick([0, 1, 2, 5]);
      if (wireType === 0) wire.tag(field, 0).varint(rng.pick([0, 1, 2, 2 ** 32, 2 ** 40]));
      else if (wireType === 1) wire.double(field, rng.next());
      else if (wireType === 2) wire.string(field, randomText(rng));
      else wire.tag(field, 5).raw([1, 2, 3, 4]);
    }
    for (const bytes of [wire.finish(), mutate(rng, wire.finish())]) {
      let theirs;
      try {
        const decoded = ReportResponse.decode(bytes);
        theirs = { success: decoded.success, message: decoded.message };
      } catch {
        theirs = undefined;
      }
      let ours;
      try {
        ours = decodeReportResponse(bytes);
      } catch (error) {
        assert.match((error as Error).message, /^response(\.success|\.message)?: /);
        ours = undefined;
      }
      if (theirs && ours) {
        assert.deepEqual(ours, theirs, `seed ${seed}`);
        counts.same++;
      } else if (!theirs) {
        assert.equal(ours, undefined, `seed ${seed}: protobufjs refuses, ours accepts`);
        counts.bothRefused++;
      } else {
        // Stricter only where field 1 or 2 came with another wire type than 0 and 2.
        const mistyped = (() => {
          try {
            decodeReportResponse(bytes);
          } catch (error) {
            return /wire type \d, expected/.test((error as Error).message);
          }
        })();
        assert.ok(mistyped, `seed ${seed}: refused where protobufjs accepts`);
        counts.stricter++;
      }
    }
  }
  assert.ok(
    counts.same > 2_000 && counts.bothRefused > 500 && counts.stricter > 100,
    JSON.stringify(counts),
  );
});
