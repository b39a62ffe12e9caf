import assert from "node:assert/strict";
import type { MetricBatch } from "../shared/types.ts";
import { BatchBuffer } from "./buffer.ts";

const batch = (n: number): MetricBatch => ({ agentId: "a", timestampMs: n, dataPoints: [] });
const drain = (buffer: BatchBuffer) => {
  const out: number[] = [];
  for (let b = buffer.shift(); b; b = buffer.shift()) out.push(b.timestampMs);
  return out;
};

Deno.test("BatchBuffer drops the oldest batch when full and counts every drop", () => {
  const dropped: number[] = [];
  const buffer = new BatchBuffer(3, { onDrop: (b, total) => dropped.push(b.timestampMs, total) });
  for (let n = 1; n <= 5; n++) buffer.push(batch(n));
  assert.equal(buffer.size, 3);
  assert.equal(buffer.dropped, 2);
  assert.deepEqual(dropped, [1, 1, 2, 2]);
  assert.deepEqual(drain(buffer), [3, 4, 5]);
});

Deno.test("BatchBuffer keeps order when an unsent batch is returned to the front", async (t) => {
  const buffer = new BatchBuffer(3);
  for (let n = 1; n <= 3; n++) buffer.push(batch(n));
  await t.step("returned while there is room: it leaves first again", () => {
    const first = buffer.shift()!;
    buffer.returnFront(first);
    assert.equal(buffer.dropped, 0);
  });
  await t.step("returned after newer batches filled the buffer: it is the one dropped", () => {
    const first = buffer.shift()!;
    buffer.push(batch(4));
    buffer.returnFront(first);
    assert.equal(buffer.dropped, 1);
    assert.deepEqual(drain(buffer), [2, 3, 4]);
  });
});

Deno.test("BatchBuffer rejects a size below one, naming it", () => {
  assert.throws(() => new BatchBuffer(0), /expected a positive size, got 0/);
});

Deno.test("BatchBuffer.waitForBatch wakes on a push or an abort", async () => {
  const buffer = new BatchBuffer(2);
  const controller = new AbortController();
  const waiting = buffer.waitForBatch(controller.signal);
  buffer.push(batch(1));
  await waiting;
  buffer.shift();
  const aborted = buffer.waitForBatch(controller.signal);
  controller.abort();
  await aborted;
  assert.equal(buffer.size, 0);
});
