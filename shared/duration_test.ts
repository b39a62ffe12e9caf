import assert from "node:assert/strict";
import { parseDurationMs } from "./duration.ts";

Deno.test("parseDurationMs reads seconds and unit suffixes", () => {
  assert.equal(parseDurationMs(30), 30_000);
  assert.equal(parseDurationMs("300"), 300_000);
  assert.equal(parseDurationMs("5m"), 300_000);
  assert.equal(parseDurationMs("1h30m"), 5_400_000);
  assert.equal(parseDurationMs("250ms"), 250);
  assert.equal(parseDurationMs("2d"), 172_800_000);
});

Deno.test("parseDurationMs rejects what is not a positive duration, naming the input", () => {
  for (const bad of ["", "abc", "5x", "-5m", "0", "m5", "5m extra"]) {
    assert.throws(() => parseDurationMs(bad), RangeError, bad);
  }
  assert.throws(() => parseDurationMs(-1), /got -1/);
  assert.throws(() => parseDurationMs(Number.NaN), RangeError);
});
