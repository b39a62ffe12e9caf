import assert from "node:assert/strict";
import { rfc3339 } from "./_time.ts";

Deno.test("rfc3339 formats exactly as Date.toISOString at any instant", () => {
  const max = Date.UTC(9999, 11, 31, 23, 59, 59, 999);
  const edges = [
    -1,
    -86_400_001,
    1.5,
    0,
    1,
    999,
    86_399_999,
    86_400_000,
    Date.UTC(2024, 1, 29, 23, 59, 59, 999),
    max,
  ];
  const random = Array.from({ length: 20_000 }, () => Math.floor(Math.random() * max));
  // Consecutive samples of one day exercise the cached date prefix, then a day change.
  const run = Array.from({ length: 100 }, (_, i) => Date.UTC(2026, 0, 1) - 50_000 + i * 1000);
  for (const ms of [...edges, ...random, ...run]) {
    assert.equal(rfc3339(ms), new Date(ms).toISOString(), `at ${ms}`);
  }
});
