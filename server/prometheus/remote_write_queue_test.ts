import assert from "node:assert/strict";
import { memoryLogger, silentLogger } from "../../shared/log.ts";
import { DiskQueue } from "./remote_write_queue.ts";

function record(marker: number, size = 40): Uint8Array {
  return new Uint8Array(size).fill(marker);
}

async function withDir(run: (dir: string) => void | Promise<void>) {
  const dir = await Deno.makeTempDir();
  try {
    await run(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("DiskQueue resumes after a reopen where delivery stopped", () =>
  withDir((dir) => {
    let queue = new DiskQueue({ dir, maxBytes: 1 << 20, log: silentLogger });
    for (let i = 1; i <= 3; i++) queue.append(record(i), 10, 1000 * i);
    const first = queue.peek(20)!;
    assert.equal(first.samples, 20);
    assert.equal(first.records, 2);
    assert.equal(first.oldestMs, 1000);
    queue.commit(first.end);
    queue.close();

    queue = new DiskQueue({ dir, maxBytes: 1 << 20, log: silentLogger });
    assert.deepEqual(queue.stats(), { pendingBytes: 56, pendingSamples: 10, droppedSamples: 0 });
    queue.append(record(4), 10, 4000);
    const rest = queue.peek(100)!;
    assert.equal(rest.records, 2);
    assert.deepEqual([rest.payload[0], rest.payload[40]], [3, 4]);
    queue.commit(rest.end);
    assert.equal(queue.empty, true);
    queue.close();
    assert.deepEqual(
      [...Deno.readDirSync(dir)].map((e) => e.name).filter((n) => n.endsWith(".seg")).length,
      1,
    );
  }));

Deno.test("DiskQueue drops the oldest data past maxBytes, counts and logs it", () =>
  withDir((dir) => {
    const log = memoryLogger();
    const queue = new DiskQueue({ dir, maxBytes: 1024, segmentBytes: 256, log });
    const inFlight = { segment: 0, offset: 56 };
    for (let i = 0; i < 40; i++) queue.append(record(i % 250), 5, i);
    const stats = queue.stats();
    assert.ok(stats.pendingBytes <= 1024, `pending ${stats.pendingBytes}`);
    assert.equal(stats.pendingSamples + stats.droppedSamples, 200);
    assert.ok(stats.droppedSamples > 0);
    assert.ok(log.lines.some((line) => line.includes("remote-write queue full")));
    // A batch read before the drop commits nothing it should not.
    queue.commit(inFlight);
    assert.equal(queue.stats().pendingSamples, stats.pendingSamples);
    const oldest = queue.peek(5)!;
    assert.ok(oldest.payload[0] > 0, "the newest records are kept");
    queue.close();
  }));

Deno.test("DiskQueue cuts off a torn record at the end of a segment", () =>
  withDir((dir) => {
    let queue = new DiskQueue({ dir, maxBytes: 1 << 20, log: silentLogger });
    queue.append(record(1), 1, 1);
    queue.append(record(2), 1, 2);
    queue.close();
    const segment = `${dir}/000000000000.seg`;
    Deno.truncateSync(segment, Deno.statSync(segment).size - 3);
    const log = memoryLogger();
    queue = new DiskQueue({ dir, maxBytes: 1 << 20, log });
    assert.equal(queue.stats().pendingSamples, 1);
    assert.ok(log.lines.some((line) => line.includes("torn record")));
    queue.append(record(3), 1, 3);
    const all = queue.peek(10)!;
    assert.deepEqual([all.records, all.payload[0], all.payload[40]], [2, 1, 3]);
    queue.close();
  }));
