import assert from "node:assert/strict";
import { decimalDigits, scaleDecimals } from "./_decimal.ts";

Deno.test("decimalDigits finds the fewest digits that write a value exactly", () => {
  assert.equal(decimalDigits(12), 0);
  assert.equal(decimalDigits(12.5), 1);
  assert.equal(decimalDigits(0.07), 2);
  assert.equal(decimalDigits(1 / 3), -1);
  assert.equal(decimalDigits(-0), -1);
  assert.equal(decimalDigits(2 ** 60), -1);
});

Deno.test("scaleDecimals scales to the largest digits with the common step of the values", () => {
  const scaled: number[] = [];
  assert.deepEqual(scaleDecimals([1.5, 2, 2.5, 4], 4, scaled), { digits: 1, factor: 5 });
  assert.deepEqual(scaled, [15, 20, 25, 40]);
  assert.deepEqual(scaleDecimals([7, 7], 2, []), { digits: 0, factor: 1 });
  assert.equal(scaleDecimals([0.1, 1 / 3], 2, []), undefined);
});
