import assert from "node:assert/strict";
import {
  deadline,
  DeadlineError,
  DeadlineTimer,
  delay,
  settlesWithin,
  startTimer,
} from "./deadline.ts";

Deno.test("deadline passes a promise's outcome through when it settles in time", async () => {
  assert.equal(await deadline(Promise.resolve(7), 1_000), 7);
  await assert.rejects(deadline(Promise.reject(new TypeError("bad")), 1_000), TypeError);
});

Deno.test("deadline rejects with DeadlineError once the time is up", async () => {
  const never = new Promise<never>(() => {});
  await assert.rejects(deadline(never, 5), (error) => {
    assert.ok(error instanceof DeadlineError);
    assert.match(error.message, /5 ms/);
    return true;
  });
});

Deno.test("deadline gives up with the signal's reason when it aborts first", async () => {
  const controller = new AbortController();
  const waiting = deadline(new Promise<never>(() => {}), 60_000, { signal: controller.signal });
  controller.abort(new Error("stopping"));
  await assert.rejects(waiting, /stopping/);
});

Deno.test("delay waits, and rejects when aborted; delays past 2^31 ms do not fire at once", async () => {
  const started = performance.now();
  await delay(20);
  assert.ok(performance.now() - started >= 15);

  const controller = new AbortController();
  const long = delay(2 ** 31 + 10, controller.signal);
  const raced = await Promise.race([long.then(() => "fired", () => "aborted"), delay(30)]);
  assert.equal(raced, undefined, "a 24.9-day delay fired within 30 ms");
  controller.abort(new Error("done"));
  assert.equal(await long.then(() => "fired", () => "aborted"), "aborted");
});

Deno.test("settlesWithin tells whether a promise settled in time", async () => {
  assert.equal(await settlesWithin(Promise.reject(new Error("x")), 100), true);
  assert.equal(await settlesWithin(new Promise(() => {}), 5), false);
});

Deno.test("startTimer calls back once the time is up, never after cancel", async () => {
  const fired: string[] = [];
  startTimer(5, () => fired.push("short"));
  const cancelled = startTimer(5, () => fired.push("cancelled"));
  cancelled.cancel();
  const long = startTimer(2 ** 31 + 10, () => fired.push("long"));
  await delay(40);
  long.cancel();
  assert.deepEqual(fired, ["short"]);
});

Deno.test("DeadlineTimer expires what is not released in time, on one timer", async (t) => {
  await t.step("in order, each at its time", async () => {
    using deadlines = new DeadlineTimer();
    const expired: string[] = [];
    const started = Date.now();
    deadlines.add(started + 40, () => expired.push("late"));
    deadlines.add(started + 10, () => expired.push("early"));
    const released = deadlines.add(started + 20, () => expired.push("released"));
    released();
    await delay(25);
    assert.deepEqual(expired, ["early"]);
    await delay(40);
    assert.deepEqual(expired, ["early", "late"]);
  });
  await t.step("a released deadline leaves no timer once disposed", async () => {
    const deadlines = new DeadlineTimer();
    const release = deadlines.add(Date.now() + 60_000, () => {
      throw new Error("must not expire");
    });
    release();
    deadlines[Symbol.dispose]();
    await delay(5);
  });
  await t.step("a timer that fires before its deadline is due sets itself again", async () => {
    let now = 0;
    using deadlines = new DeadlineTimer({ now: () => now });
    let expired = false;
    deadlines.add(10, () => expired = true);
    await delay(30); // the timer fired, but by this clock the deadline is not due yet
    assert.equal(expired, false);
    now = 10;
    await delay(30);
    assert.equal(expired, true);
  });
});
