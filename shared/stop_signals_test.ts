import assert from "node:assert/strict";
import { stopSignalHandler, stopSignals } from "./stop_signals.ts";

Deno.test("a stop signal repeated within the window is the same request; a later one forces", () => {
  let now = 1_000;
  const calls: string[] = [];
  const handle = stopSignalHandler({
    onStop: (signal) => calls.push(`stop ${signal}`),
    onRepeat: (signal) => calls.push(`repeat ${signal}`),
    onForce: (signal) => calls.push(`force ${signal}`),
    repeatWindowMs: 1_000,
    now: () => now,
  });
  handle("SIGINT");
  now += 5; // the terminal's SIGINT, then the demo's forwarded SIGTERM
  handle("SIGTERM");
  now += 994;
  handle("SIGINT");
  now += 1;
  handle("SIGINT");
  assert.deepEqual(calls, ["stop SIGINT", "repeat SIGTERM", "repeat SIGINT", "force SIGINT"]);
});

Deno.test("Windows listens for SIGINT only; other systems for SIGINT and SIGTERM", () => {
  assert.deepEqual(stopSignals("windows"), ["SIGINT"]);
  assert.deepEqual(stopSignals("linux"), ["SIGINT", "SIGTERM"]);
});
