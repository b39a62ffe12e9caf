import assert from "node:assert/strict";
import { HeadBuffer } from "./_head.ts";
import { slabBytes } from "./_slab.ts";
import { Random } from "../../../tests/helpers/chunk_random.ts";

Deno.test("HeadBuffer returns appended samples to the bit, in or out of order", () => {
  for (let seed = 1; seed <= 60; seed++) {
    const random = new Random(seed);
    const head = new HeadBuffer();
    const expected = new Map<number, number>();
    let ts = 1_700_000_000_000;
    let value = 0;
    let buffer = head;
    for (let i = 0; i < 360; i++) {
      ts += random.chance(0.1) ? random.int(1, 100_000) : 10_000;
      const kind = random.int(0, 6);
      if (kind === 0) value = random.float64Bits();
      else if (kind === 1) value = random.int(-1e6, 1e6) / 100;
      else if (kind === 2) value = random.chance(0.5) ? 0 : -0;
      else if (kind === 3) value = random.int(0, 2 ** 40) * 1024;
      else if (kind === 4) value = random.next() * 100;
      if (random.chance(0.05) && i > 0) {
        const earlier = ts - random.int(1, 5_000);
        if (!expected.has(earlier) && earlier > buffer.firstTs) {
          buffer = buffer.withInserted(earlier, value);
          expected.set(earlier, value);
          continue;
        }
      }
      buffer.append(ts, value);
      expected.set(ts, value);
    }
    const sorted = [...expected.entries()].sort((a, b) => a[0] - b[0]);
    const { timestamps, values } = buffer.toArrays();
    assert.deepEqual([...timestamps], sorted.map(([t]) => t), `seed ${seed}`);
    for (let i = 0; i < sorted.length; i++) {
      assert.ok(
        Object.is(values[i], sorted[i][1]),
        `seed ${seed} [${i}] ${values[i]} vs ${sorted[i][1]}`,
      );
      assert.ok(Object.is(buffer.valueAt(sorted[i][0]), sorted[i][1]));
    }
    assert.equal(buffer.valueAt(sorted[0][0] + 1), undefined);
  }
});

Deno.test("HeadBuffer holds short decimals at regular intervals in about four bytes each", () => {
  const head = new HeadBuffer();
  const random = new Random(3);
  for (let i = 0; i < 360; i++) {
    head.append(1_700_000_000_000 + i * 10_000, random.int(0, 10_000) / 100);
  }
  assert.ok(head.byteLength <= 360 * 4 * 1.5, `${head.byteLength} bytes`);
});

Deno.test("HeadBuffer gives its slab slots back for the next open chunk", () => {
  const fill = () => {
    const heads = Array.from({ length: 2000 }, () => new HeadBuffer());
    for (let i = 0; i < 200; i++) {
      for (const head of heads) head.append(1_700_000_000_000 + i * 10_000, i / 4);
    }
    return heads;
  };
  const first = fill();
  const held = slabBytes();
  for (const head of first) head.release();
  const second = fill();
  assert.equal(slabBytes(), held, "the second hour reuses the first hour's slots");
  assert.equal(second[0].toArrays().values[199], 49.75);
  for (const head of second) head.release();
  assert.equal(first[0].count, 0);
});
