import assert from "node:assert/strict";
import { memoryLogger } from "../shared/log.ts";
import { BatchBuffer, type DropReason } from "./buffer.ts";
import { Spool } from "./spool.ts";

/** A request of `bytes` bytes whose first byte is `n`. */
const request = (n: number, bytes = 10) => new Uint8Array(bytes).fill(n);
const push = (buffer: BatchBuffer, n: number, bytes = 10) =>
  buffer.push(request(n, bytes), { timestampMs: n, points: 1 });

const drain = (buffer: BatchBuffer) => {
  const out: number[] = [];
  for (let b = buffer.shift(); b; b = buffer.shift()) {
    const request = buffer.requestOf(b);
    if (request === undefined) continue; // damaged: dropped by the buffer
    out.push(request[0]);
    buffer.ack(b);
  }
  return out;
};

Deno.test("BatchBuffer drops the oldest batch when full and counts every drop", async () => {
  const dropped: [number, DropReason, number][] = [];
  const buffer = new BatchBuffer({
    maxBatches: 3,
    onDrop: (b, reason, total) => dropped.push([b.timestampMs, reason, total]),
  });
  for (let n = 1; n <= 5; n++) await push(buffer, n);
  assert.equal(buffer.size, 3);
  assert.equal(buffer.dropped, 2);
  assert.deepEqual(dropped, [[1, "full", 1], [2, "full", 2]]);
  assert.deepEqual(drain(buffer), [3, 4, 5]);
});

Deno.test("BatchBuffer is bounded in bytes too: past maxMemoryBytes the oldest go", async () => {
  const buffer = new BatchBuffer({ maxBatches: 100, maxMemoryBytes: 250 });
  for (let n = 1; n <= 5; n++) await push(buffer, n, 100);
  assert.equal(buffer.size, 2);
  assert.equal(buffer.memoryBytes, 200);
  assert.equal(buffer.dropped, 3);
  assert.deepEqual(drain(buffer), [4, 5]);
  assert.equal(buffer.memoryBytes, 0);
});

Deno.test("BatchBuffer keeps order when an unsent batch is returned to the front", async (t) => {
  const buffer = new BatchBuffer({ maxBatches: 3 });
  for (let n = 1; n <= 3; n++) await push(buffer, n);
  await t.step("returned while there is room: it leaves first again", () => {
    const first = buffer.shift()!;
    buffer.returnFront(first);
    assert.equal(buffer.dropped, 0);
    assert.equal(buffer.memoryBytes, 30);
  });
  await t.step(
    "returned after newer batches filled the buffer: it is the one dropped",
    async () => {
      const first = buffer.shift()!;
      await push(buffer, 4);
      buffer.returnFront(first);
      assert.equal(buffer.dropped, 1);
      assert.deepEqual(drain(buffer), [2, 3, 4]);
    },
  );
});

Deno.test("BatchBuffer rejects a size below one, naming it", () => {
  assert.throws(() => new BatchBuffer({ maxBatches: 0 }), /expected a positive size, got 0/);
});

Deno.test("BatchBuffer.waitForBatch wakes on a push or an abort", async () => {
  const buffer = new BatchBuffer({ maxBatches: 2 });
  const controller = new AbortController();
  const waiting = buffer.waitForBatch(controller.signal);
  await push(buffer, 1);
  await waiting;
  buffer.shift();
  const aborted = buffer.waitForBatch(controller.signal);
  controller.abort();
  await aborted;
  assert.equal(buffer.size, 0);
});

Deno.test("BatchBuffer with a spool keeps batches on disk, in order, across a new buffer", async () => {
  const dir = await Deno.makeTempDir({ prefix: "oxmon-spool-buffer-" });
  const log = memoryLogger();
  try {
    let opened = Spool.open(dir, log);
    let buffer = new BatchBuffer({ maxBatches: 10, spool: opened.spool, spooled: opened.entries });
    for (let n = 1; n <= 4; n++) await push(buffer, n, 1_000);
    assert.equal(buffer.memoryBytes, 0, "only headers in memory");
    assert.ok(buffer.spoolBytes > 4_000);
    const first = buffer.shift()!;
    assert.equal(buffer.requestOf(first)![0], 1);
    buffer.ack(first); // sent
    const second = buffer.shift()!;
    buffer.returnFront(second); // failed, then the agent "crashes"

    opened = Spool.open(dir, log);
    buffer = new BatchBuffer({ maxBatches: 10, spool: opened.spool, spooled: opened.entries });
    assert.equal(buffer.size, 3);
    await push(buffer, 5, 1_000); // ids go on after the old ones
    assert.deepEqual(drain(buffer), [2, 3, 4, 5]);
    assert.deepEqual([...Deno.readDirSync(dir)], [], "sent batches leave the spool");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("BatchBuffer with a spool drops the oldest past maxSpoolBytes, removing its file", async () => {
  const dir = await Deno.makeTempDir({ prefix: "oxmon-spool-bound-" });
  try {
    const { spool } = Spool.open(dir, memoryLogger());
    const buffer = new BatchBuffer({ maxBatches: 100, spool, maxSpoolBytes: 3_500 });
    for (let n = 1; n <= 6; n++) await push(buffer, n, 1_000);
    assert.equal(buffer.size, 3);
    assert.equal(buffer.dropped, 3);
    assert.equal([...Deno.readDirSync(dir)].length, 3);
    assert.deepEqual(drain(buffer), [4, 5, 6]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("BatchBuffer skips a damaged spool entry with a warning and sends the rest", async () => {
  const dir = await Deno.makeTempDir({ prefix: "oxmon-spool-damaged-" });
  const log = memoryLogger();
  try {
    const { spool } = Spool.open(dir, log);
    const dropped: DropReason[] = [];
    const buffer = new BatchBuffer({
      maxBatches: 10,
      spool,
      log,
      onDrop: (_, reason) => dropped.push(reason),
    });
    for (let n = 1; n <= 3; n++) await push(buffer, n, 100);
    const [, second] = [...Deno.readDirSync(dir)].map((entry) => entry.name).sort();
    const bytes = Deno.readFileSync(`${dir}/${second}`);
    bytes[40] ^= 0xff; // one flipped byte inside the request
    Deno.writeFileSync(`${dir}/${second}`, bytes);
    assert.deepEqual(drain(buffer), [1, 3]);
    assert.deepEqual(dropped, ["damaged"]);
    assert.equal(buffer.damaged, 1);
    assert.match(log.lines.join("\n"), /spool entry is damaged; skipped .*checksum mismatch/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("BatchBuffer keeps a batch in memory when the spool cannot take it", async () => {
  const dir = await Deno.makeTempDir({ prefix: "oxmon-spool-gone-" });
  const log = memoryLogger();
  const { spool } = Spool.open(`${dir}/spool`, log);
  const buffer = new BatchBuffer({ maxBatches: 10, spool, log });
  await push(buffer, 1);
  await Deno.remove(dir, { recursive: true }); // the spool folder is gone
  await push(buffer, 2);
  assert.equal(buffer.size, 2);
  assert.equal(buffer.memoryBytes, 10);
  assert.match(log.lines.join("\n"), /cannot write to the spool; keeping batches in memory/);
  const first = buffer.shift()!;
  assert.equal(buffer.requestOf(first), undefined, "its file went with the folder");
  assert.equal(buffer.damaged, 1);
  const second = buffer.shift()!;
  assert.equal(buffer.requestOf(second)![0], 2);
});
