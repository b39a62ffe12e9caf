import assert from "node:assert/strict";
import { silentLogger } from "../../shared/log.ts";
import type { MetricDataPoint } from "../../shared/types.ts";
import { deferObservations } from "./deferred.ts";

const point = (value: number): MetricDataPoint => ({
  agentId: "a",
  metricName: "cpu.usage",
  labels: {},
  timestampMs: value,
  value,
});

Deno.test("deferred observations return at once and are evaluated in order on the next turn", async () => {
  const seen: number[] = [];
  const deferred = deferObservations(
    { observe: (points) => seen.push(...points.map((p) => p.value)) },
    silentLogger,
  );
  deferred.observe([point(1), point(2)]);
  deferred.observe([point(3)]);
  assert.deepEqual(seen, [], "nothing is evaluated inside the caller's turn");
  await new Promise((resolve) => setTimeout(resolve, 0));
  assert.deepEqual(seen, [1, 2, 3]);
  deferred.close();
});

Deno.test("flush evaluates what is queued; a failing evaluation does not lose the rest", () => {
  const seen: number[] = [];
  const deferred = deferObservations({
    observe: (points) => {
      if (points[0].value === 1) throw new Error("boom");
      seen.push(points[0].value);
    },
  }, silentLogger);
  deferred.observe([point(1)]);
  deferred.observe([point(2)]);
  deferred.flush();
  assert.deepEqual(seen, [2]);
  deferred.close();
});
