import assert from "node:assert/strict";
import { mapConcurrent } from "./concurrency.ts";

Deno.test("mapConcurrent never runs more than the limit at once and keeps item order", async () => {
  let running = 0;
  let most = 0;
  const results = await mapConcurrent([30, 10, 20, 5, 15], 2, async (ms, index) => {
    running++;
    most = Math.max(most, running);
    await new Promise((resolve) => setTimeout(resolve, ms));
    running--;
    return index * 10;
  });
  assert.deepEqual(results, [0, 10, 20, 30, 40]);
  assert.equal(most, 2);
});

Deno.test("mapConcurrent rejects with the first failure once every call has settled", async () => {
  const finished: number[] = [];
  await assert.rejects(
    mapConcurrent([1, 2, 3], 3, async (n) => {
      await new Promise((resolve) => setTimeout(resolve, n * 5));
      finished.push(n);
      if (n === 1) throw new Error("one failed");
      return n;
    }),
    /one failed/,
  );
  assert.deepEqual(finished, [1, 2, 3]);
  await assert.rejects(mapConcurrent([], 0, () => Promise.resolve()), RangeError);
});
