import assert from "node:assert/strict";
import { dayName, dayNumber, dayStartMs, MS_PER_DAY, toRfc3339, utcDay } from "./time.ts";

Deno.test("day numbering agrees with day names across the epoch and leap days", () => {
  for (const iso of ["1970-01-01", "2024-02-29", "2026-11-30", "9999-12-31"]) {
    const start = dayStartMs(iso);
    assert.equal(utcDay(start), iso);
    assert.equal(utcDay(start + MS_PER_DAY - 1), iso);
    assert.equal(dayName(dayNumber(start + 12_345)), iso);
  }
  assert.equal(dayNumber(-1), -1, "the millisecond before the epoch is day -1");
  assert.ok(Number.isNaN(dayStartMs("2026-13-01")));
  assert.equal(toRfc3339(0), "1970-01-01T00:00:00.000Z");
});
