import assert from "node:assert/strict";
import { HEAD_MAX_SAMPLES, HeadTable } from "./_head.ts";
import { perSeriesCapacity } from "./_series_state.ts";
import { slabBytes } from "./_slab.ts";
import { Random } from "../../../tests/helpers/chunk_random.ts";

function toArrays(table: HeadTable, id: number) {
  const timestamps = new Float64Array(table.count(id));
  const values = new Float64Array(table.count(id));
  table.copyTo(id, timestamps, values);
  return { timestamps, values };
}

Deno.test("HeadTable returns appended samples to the bit and finds each by timestamp", () => {
  const table = new HeadTable(16);
  for (let seed = 1; seed <= 60; seed++) {
    const random = new Random(seed);
    // Neighbouring indexes hold other chunks, so one chunk's writes cannot spill into another.
    const id = seed * 37;
    table.append(id - 1, 1, seed);
    const expected = new Map<number, number>();
    let ts = 1_700_000_000_000;
    let value = 0;
    for (let i = 0; i < 360; i++) {
      ts += random.chance(0.1) ? random.int(1, 100_000) : 10_000;
      const kind = random.int(0, 6);
      if (kind === 0) value = random.float64Bits();
      else if (kind === 1) value = random.int(-1e6, 1e6) / 100;
      else if (kind === 2) value = random.chance(0.5) ? 0 : -0;
      else if (kind === 3) value = random.int(0, 2 ** 40) * 1024;
      else if (kind === 4) value = random.next() * 100;
      table.append(id, ts, value);
      expected.set(ts, value);
    }
    const sorted = [...expected.entries()].sort((a, b) => a[0] - b[0]);
    const { timestamps, values } = toArrays(table, id);
    assert.deepEqual([...timestamps], sorted.map(([t]) => t), `seed ${seed}`);
    for (let i = 0; i < sorted.length; i++) {
      assert.ok(
        Object.is(values[i], sorted[i][1]),
        `seed ${seed} [${i}] ${values[i]} vs ${sorted[i][1]}`,
      );
      assert.ok(Object.is(table.valueAt(id, sorted[i][0]), sorted[i][1]));
    }
    for (const [at] of sorted.slice(0, -1)) assert.equal(table.valueAt(id, at + 1), undefined);
    assert.equal(table.valueAt(id, sorted[0][0] - 1), undefined);
    const visited: number[] = [];
    table.forEach(id, (at) => visited.push(at));
    assert.deepEqual(visited, [...timestamps]);
    assert.deepEqual([...toArrays(table, id - 1).values], [seed]);
    table.release(id);
    table.release(id - 1);
    assert.equal(table.count(id), 0);
  }
});

Deno.test("HeadTable holds short decimals at regular intervals in about four bytes each", () => {
  const table = new HeadTable();
  const random = new Random(3);
  for (let i = 0; i < 360; i++) {
    table.append(5, 1_700_000_000_000 + i * 10_000, random.int(0, 10_000) / 100);
  }
  assert.ok(table.byteLength(5) <= 360 * 4 * 1.5, `${table.byteLength(5)} bytes`);
  table.release(5);
});

Deno.test("HeadTable refuses more samples than an open chunk holds", () => {
  // Every first-segment length (17–32, by index: 64 indexes cover them all), next to neighbours
  // that must not be touched by a full chunk's segments.
  const table = new HeadTable();
  for (let id = 0; id < 64; id++) {
    const own = 2 * id + 1;
    table.append(own - 1, 1, id);
    table.append(own + 1, 1, -id);
    for (let i = 0; i < HEAD_MAX_SAMPLES; i++) table.append(own, i * 2, i);
    assert.throws(() => table.append(own, HEAD_MAX_SAMPLES * 2, 0), RangeError);
    assert.equal(table.count(own), HEAD_MAX_SAMPLES);
    const { values } = toArrays(table, own);
    assert.deepEqual([...values], Array.from({ length: HEAD_MAX_SAMPLES }, (_, i) => i));
    assert.deepEqual([...toArrays(table, own - 1).values], [id]);
    assert.deepEqual([...toArrays(table, own + 1).values], [-id]);
    for (const release of [own - 1, own, own + 1]) table.release(release);
  }
  assert.ok(HEAD_MAX_SAMPLES >= 360, "an open chunk holds a whole chunk (360 samples)");
});

Deno.test("HeadTable spreads the work of series appended in lockstep over many appends", () => {
  // A fleet's series get a sample each in the same second: their tails must not all be frozen
  // into segments (new slots, an encode each) by the same append.
  // Open chunks of one clock hour have indexes of one parity (`slotOf`): every other index here.
  for (const step of [1, 2]) {
    const table = new HeadTable();
    const ids = Array.from({ length: 1_600 }, (_, i) => i * step);
    const before = new Int32Array(ids.length);
    let most = 0;
    for (let i = 0; i < 100; i++) {
      let changed = 0;
      ids.forEach((id, n) => {
        table.append(id, 1_700_000_000_000 + i * 1_000, (i % 7) / 4);
        const bytes = table.byteLength(id);
        if (i > 0 && bytes !== before[n]) changed++;
        before[n] = bytes;
      });
      most = Math.max(most, changed);
    }
    // 16 first-segment lengths: a sixteenth (100) at a time, give or take a tail that grows.
    assert.ok(most <= ids.length / 12, `step ${step}: ${most} of ${ids.length} grew on one append`);
    for (const id of ids) table.release(id);
  }
});

Deno.test("HeadTable gives its slab slots back for the next open chunk", () => {
  const table = new HeadTable();
  const fill = () => {
    for (let i = 0; i < 200; i++) {
      for (let id = 0; id < 2000; id++) table.append(id, 1_700_000_000_000 + i * 10_000, i / 4);
    }
  };
  fill();
  const held = slabBytes();
  for (let id = 0; id < 2000; id++) table.release(id);
  assert.equal(table.count(0), 0);
  fill();
  assert.equal(slabBytes(), held, "the second hour reuses the first hour's slots");
  assert.equal(toArrays(table, 0).values[199], 49.75);
  for (let id = 0; id < 2000; id++) table.release(id);
});

Deno.test("per-series arrays grow by a quarter, never to twice what they hold", () => {
  let capacity = 0;
  for (let index = 0; index < 1_000_000; index += 997) {
    const next = perSeriesCapacity(capacity, index);
    assert.ok(next > index && next >= capacity, `${next} for ${index}`);
    assert.equal(next % 1024, 0);
    if (next !== capacity) assert.ok(next <= Math.max(1024, (index + 1) * 1.25 + 1024), `${next}`);
    capacity = next;
  }
  // 150k series of a 3,000-agent fleet take 300k open-chunk slots: 524,288 when doubling.
  assert.ok(perSeriesCapacity(0, 300_000) < 380_000);
});
