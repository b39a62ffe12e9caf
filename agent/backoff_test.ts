import assert from "node:assert/strict";
import { backoffDelayMs } from "./backoff.ts";

Deno.test("backoff doubles per failure within half and all of the nominal delay", () => {
  const low = { baseMs: 100, maxMs: 1_000, random: () => 0 };
  const high = { baseMs: 100, maxMs: 1_000, random: () => 0.999999 };
  assert.deepEqual([1, 2, 3, 4].map((n) => backoffDelayMs(n, low)), [50, 100, 200, 400]);
  assert.deepEqual(
    [1, 2, 3, 4].map((n) => Math.round(backoffDelayMs(n, high))),
    [100, 200, 400, 800],
  );
});

Deno.test("backoff is capped, even after very many failures", () => {
  const options = { baseMs: 500, maxMs: 30_000, random: () => 0.999999 };
  assert.ok(backoffDelayMs(6, options) <= 16_000);
  assert.ok(backoffDelayMs(7, options) <= 30_000 && backoffDelayMs(7, options) > 29_999);
  assert.ok(backoffDelayMs(10_000, options) <= 30_000);
});
