import assert from "node:assert/strict";
import { sameFloat64Bits } from "./points.ts";

Deno.test("sameFloat64Bits compares the float64 bits, not the numeric value", async (t) => {
  await t.step("equal numbers are the same", () => {
    for (const value of [1, -1.5, 1e300, 5e-324, Number.MAX_SAFE_INTEGER, 0.1 + 0.2]) {
      assert.equal(sameFloat64Bits(value, value), true, String(value));
    }
    assert.equal(sameFloat64Bits(0, 0), true);
    assert.equal(sameFloat64Bits(-0, -0), true);
  });
  await t.step("0 and -0 differ", () => {
    assert.equal(sameFloat64Bits(0, -0), false);
    assert.equal(sameFloat64Bits(-0, 0), false);
  });
  await t.step("different numbers differ", () => {
    assert.equal(sameFloat64Bits(1, 2), false);
    assert.equal(sameFloat64Bits(0.3, 0.1 + 0.2), false);
    assert.equal(sameFloat64Bits(1, NaN), false);
    assert.equal(sameFloat64Bits(NaN, 1), false);
    assert.equal(sameFloat64Bits(Infinity, -Infinity), false);
  });
  await t.step("NaNs compare by payload", () => {
    const bits = new DataView(new ArrayBuffer(8));
    bits.setUint32(0, 0x7ff80000);
    bits.setUint32(4, 1);
    const payloadNaN = bits.getFloat64(0);
    assert.ok(Number.isNaN(payloadNaN));
    assert.equal(sameFloat64Bits(NaN, NaN), true);
    assert.equal(sameFloat64Bits(payloadNaN, payloadNaN), true);
    assert.equal(sameFloat64Bits(NaN, payloadNaN), false);
  });
});
