import assert from "node:assert/strict";
import type { CheckResult, HeartbeatCheckSpec } from "../../shared/checks/mod.ts";
import { HeartbeatMonitor } from "./heartbeat.ts";

const SPEC: HeartbeatCheckSpec = {
  name: "backup",
  type: "heartbeat",
  intervalSecs: 60,
  timeoutSecs: 0,
  token: "backup-token-0123456789",
  graceSecs: 30,
};

Deno.test("a heartbeat fails once no ping came for interval + grace, and a ping brings it back", () => {
  const results: CheckResult[] = [];
  const t0 = 1_000_000;
  const monitor = new HeartbeatMonitor([SPEC], { startMs: t0, onResult: (r) => results.push(r) });
  monitor.tick(t0);
  assert.deepEqual(results.map((r) => [r.up, r.timestampMs - t0]), [[true, 0]]);
  assert.match(results[0].message, /^waiting for the first ping/);

  monitor.ping(SPEC.token, t0 + 50_000);
  monitor.tick(t0 + 139_999); // 50 s + 90 s - 1 ms: not late yet
  assert.equal(results.filter((r) => !r.up).length, 0);
  monitor.tick(t0 + 140_000);
  const late = results.at(-1)!;
  assert.deepEqual([late.up, late.timestampMs - t0], [false, 140_000]);
  assert.match(late.message, /^no ping since .* \(30s past the period\)$/);
  // Still late a minute on: the failure is reported again, once per interval.
  monitor.tick(t0 + 170_000);
  assert.equal(results.length, 4);
  monitor.tick(t0 + 200_000);
  assert.deepEqual(results.slice(-1).map((r) => [r.up, r.timestampMs - t0]), [[false, 200_000]]);

  const back = monitor.ping(SPEC.token, t0 + 210_000)!;
  assert.deepEqual([back.up, back.message], [true, "ping received"]);
  assert.equal(monitor.ping("unknown-token-0000000", t0), undefined);
  assert.equal(results.every((r) => r.name === "backup" && r.target === "heartbeat"), true);
});

Deno.test("a /fail ping fails the heartbeat at once; samples never share a timestamp", () => {
  const results: CheckResult[] = [];
  const monitor = new HeartbeatMonitor([SPEC], { startMs: 0, onResult: (r) => results.push(r) });
  monitor.ping(SPEC.token, 5_000);
  const failed = monitor.ping(SPEC.token, 5_000, true)!;
  assert.deepEqual([failed.up, failed.message], [false, "the job reported a failure"]);
  assert.deepEqual(results.map((r) => r.timestampMs), [5_000, 5_001]);
  monitor.tick(70_000);
  assert.equal(results.at(-1)!.message, "the job reported a failure");
  assert.equal(monitor.states()[0].up, false);
});
