import assert from "node:assert/strict";
import { ManualClock, systemClock } from "../clock.ts";
import { silentLogger } from "../log.ts";
import { DEFAULT_EXPECTED_STATUS } from "./config.ts";
import { fetchTransport } from "./http.ts";
import { runnableCheck } from "./probe.ts";
import { CheckRunner, type RunnableCheck } from "./runner.ts";
import type { CheckOutcome, CheckResult, HttpCheckSpec } from "./spec.ts";

/** A real HTTP server: `/ok` answers at once, `/hang` only once the test is over. */
function startTarget() {
  const release = Promise.withResolvers<void>();
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, async (request) => {
    if (new URL(request.url).pathname !== "/hang") return new Response("ok");
    await release.promise;
    return new Response("late");
  });
  return {
    url: (path: string) => `http://127.0.0.1:${server.addr.port}${path}`,
    stop() {
      release.resolve();
      return server.shutdown();
    },
  };
}

function httpSpec(name: string, url: string, intervalSecs: number): HttpCheckSpec {
  return {
    name,
    type: "http",
    intervalSecs,
    timeoutSecs: 1,
    url,
    method: "GET",
    headers: {},
    expectedStatus: DEFAULT_EXPECTED_STATUS,
    tlsVerify: true,
    followRedirects: true,
  };
}

async function runFor(
  specs: HttpCheckSpec[],
  maxConcurrent: number,
  ms: number,
): Promise<{ results: CheckResult[]; runner: CheckRunner; startMs: number }> {
  const { transport, close } = fetchTransport();
  const results: CheckResult[] = [];
  const runner = new CheckRunner(specs.map((spec) => runnableCheck(spec, { transport })), {
    maxConcurrent,
    clock: systemClock,
    log: silentLogger,
    onResult: (result) => results.push(result),
    spreadMs: 0,
  });
  const startMs = Date.now();
  runner.start();
  await new Promise((resolve) => setTimeout(resolve, ms));
  await runner.stop();
  close();
  return { results, runner, startMs };
}

Deno.test("a hanging target times out alone and never delays other checks; the concurrency cap holds", async () => {
  const target = startTarget();
  try {
    const [free, capped] = await Promise.all([
      // Room for everyone: the hanging check costs one slot for its timeout, nothing more.
      runFor(
        [
          httpSpec("hang", target.url("/hang"), 5),
          httpSpec("fast", target.url("/ok"), 1),
        ],
        4,
        2_300,
      ),
      // Two slots, three hanging checks: the third waits for a timeout to free a slot.
      runFor(
        [
          httpSpec("h1", target.url("/hang"), 5),
          httpSpec("h2", target.url("/hang"), 5),
          httpSpec("h3", target.url("/hang"), 5),
        ],
        2,
        2_300,
      ),
    ]);

    const fast = free.results.filter((r) => r.name === "fast");
    assert.ok(fast.length >= 3, `fast ran ${fast.length} times`);
    assert.ok(fast.every((r) => r.up));
    const offsets = fast.map((r) => r.timestampMs - free.startMs);
    offsets.forEach((offset, i) => {
      assert.ok(Math.abs(offset - i * 1000) < 150, `fast run ${i} started at +${offset} ms`);
    });
    const hang = free.results.filter((r) => r.name === "hang");
    assert.equal(hang.length, 1);
    assert.deepEqual([hang[0].up, hang[0].message], [false, "timed out after 1s"]);
    assert.ok(free.runner.stats().delayMs.p99 < 150);

    const byName = new Map(capped.results.map((r) => [r.name, r]));
    assert.equal(byName.size, 3, "every capped check ran once");
    const starts = [...byName.values()].map((r) => r.timestampMs - capped.startMs).sort((a, b) =>
      a - b
    );
    assert.ok(starts[1] < 150, `first two start at once: ${starts}`);
    assert.ok(starts[2] >= 950 && starts[2] < 1_300, `the third waits for a free slot: ${starts}`);
    const stats = capped.runner.stats();
    assert.equal(stats.runs, 3);
    assert.ok(stats.delayMs.max >= 950, "its wait is counted as scheduling delay");
  } finally {
    await target.stop();
  }
});

/** A probe the test finishes by hand. */
function manualCheck(name: string, intervalMs: number) {
  const pending: ((outcome: CheckOutcome) => void)[] = [];
  const check: RunnableCheck = {
    name,
    type: "tcp",
    target: name,
    intervalMs,
    timeoutMs: intervalMs * 10,
    probe: () => new Promise((resolve) => pending.push(resolve)),
  };
  return {
    check,
    started: () => pending.length,
    finish: () => pending.shift()?.({ up: true, durationMs: 1, message: "ok" }),
  };
}

Deno.test("runs keep a fixed rate, a run still going makes the next a skip, and missed runs are not made up", async () => {
  const clock = new ManualClock(1_000_000);
  const results: CheckResult[] = [];
  const a = manualCheck("a", 10_000);
  const runner = new CheckRunner([a.check], {
    maxConcurrent: 5,
    clock,
    log: silentLogger,
    onResult: (result) => results.push(result),
    spreadMs: 0,
  });
  runner.start();
  assert.equal(a.started(), 1);
  a.finish();
  await new Promise((resolve) => setTimeout(resolve, 0));
  clock.advance(9_999);
  runner.poll();
  assert.equal(a.started(), 0, "not due yet");
  clock.advance(1);
  runner.poll();
  assert.equal(a.started(), 1);
  // Still running at its next planned time: that run is skipped.
  clock.advance(10_000);
  runner.poll();
  assert.equal(runner.stats().skipped, 1);
  a.finish();
  await new Promise((resolve) => setTimeout(resolve, 0));
  // The process slept through 30 and 40 s: those are skipped, the one planned at 50 s runs now.
  clock.advance(35_000);
  runner.poll();
  assert.equal(a.started(), 1);
  assert.equal(runner.stats().skipped, 3);
  assert.equal(runner.schedule()[0].nextRunMs, 1_000_000 + 60_000, "still on the original grid");
  a.finish();
  await new Promise((resolve) => setTimeout(resolve, 0));
  await runner.stop();
  assert.deepEqual(results.map((r) => r.timestampMs - 1_000_000), [0, 10_000, 55_000]);
});

Deno.test("first runs are spread by name over min(spread, interval)", async () => {
  const clock = new ManualClock(0);
  const checks = Array.from({ length: 200 }, (_, i) => manualCheck(`check-${i}`, 30_000).check);
  const runner = new CheckRunner(checks, {
    maxConcurrent: 1,
    clock,
    log: silentLogger,
    onResult: () => {},
    spreadMs: 60_000,
  });
  runner.start();
  const planned = runner.schedule().map((entry) => entry.nextRunMs).filter((ms) => ms > 0);
  assert.ok(planned.every((ms) => ms < 30_000), "within one interval");
  const quarters = [0, 1, 2, 3].map((q) =>
    planned.filter((ms) => ms >= q * 7_500 && ms < (q + 1) * 7_500).length
  );
  assert.ok(quarters.every((n) => n > 25), `spread evenly: ${quarters}`);
  await runner.stop();
});
