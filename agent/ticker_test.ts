import assert from "node:assert/strict";
import { delay } from "../shared/deadline.ts";
import { Ticker } from "./ticker.ts";

Deno.test("Ticker ticks on a fixed grid from its start", async () => {
  const controller = new AbortController();
  using ticker = new Ticker(30, controller.signal);
  const started = performance.now();
  assert.equal(await ticker.next(), true);
  assert.equal(await ticker.next(), true);
  const elapsed = performance.now() - started;
  assert.ok(elapsed >= 55 && elapsed < 200, `two ticks of 30 ms took ${elapsed} ms`);
});

Deno.test("Ticker skips the ticks a late round missed instead of bunching up", async () => {
  const controller = new AbortController();
  using ticker = new Ticker(40, controller.signal);
  const started = performance.now();
  await delay(100); // a round that overran ticks 1 and 2: tick 3, at 120 ms, is next
  assert.equal(await ticker.next(), true);
  const elapsed = performance.now() - started;
  assert.ok(elapsed >= 115, `the late round's next tick came after ${elapsed} ms, not at 120`);
});

Deno.test("Ticker.next resolves false at once when the signal aborts", async (t) => {
  await t.step("while waiting", async () => {
    const controller = new AbortController();
    using ticker = new Ticker(60_000, controller.signal);
    const next = ticker.next();
    controller.abort();
    assert.equal(await next, false);
  });
  await t.step("before asking", async () => {
    const controller = new AbortController();
    controller.abort();
    using ticker = new Ticker(60_000, controller.signal);
    assert.equal(await ticker.next(), false);
  });
  await t.step("disposed while waiting: no timer is left behind", async () => {
    const controller = new AbortController();
    const ticker = new Ticker(60_000, controller.signal);
    const next = ticker.next();
    ticker[Symbol.dispose]();
    assert.equal(await next, false);
  });
});

Deno.test("Ticker refuses an interval that is not positive", () => {
  assert.throws(() => new Ticker(0, new AbortController().signal), RangeError);
});
