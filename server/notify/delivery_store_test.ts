import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import { type NewDeliveryRecord, openDeliveryStore } from "./delivery_store.ts";

function record(overrides: Partial<NewDeliveryRecord> = {}): NewDeliveryRecord {
  return {
    timeMs: 1_000,
    channel: "webhook-0",
    channelType: "webhook",
    eventIds: ["e1"],
    severity: "warning",
    status: "sent",
    attempts: 1,
    error: null,
    ...overrides,
  };
}

Deno.test("DeliveryStore keeps records in a WAL file, newest first, filtered and paged", async () => {
  const dir = await Deno.makeTempDir();
  const path = `${dir}/notify.db`;
  const store = openDeliveryStore(path);
  try {
    store.add(record({ timeMs: 1, eventIds: ["a", "b"] }));
    store.add(record({ timeMs: 2, status: "failed", attempts: 4, error: "HTTP 500" }));
    store.add(record({ timeMs: 3, channel: "email-1", channelType: "email", status: "silenced" }));
    store.add(record({ timeMs: 4 }));

    const all = store.query();
    assert.equal(all.total, 4);
    assert.deepEqual(all.records.map((r) => r.timeMs), [4, 3, 2, 1]);
    assert.deepEqual(all.records[3].eventIds, ["a", "b"]);

    const failed = store.query({ status: "failed" });
    assert.equal(failed.total, 1);
    assert.equal(failed.records[0].error, "HTTP 500");
    assert.equal(failed.records[0].attempts, 4);

    const webhookPage = store.query({ channel: "webhook-0", limit: 2, offset: 1 });
    assert.equal(webhookPage.total, 3);
    assert.deepEqual(webhookPage.records.map((r) => r.timeMs), [2, 1]);

    assert.equal(store.query({ channel: "email-1", status: "sent" }).total, 0);
    assert.equal(store.prune(3), 2);
    assert.equal(store.query().total, 2);
  } finally {
    store.close();
  }
  const db = new DatabaseSync(path);
  try {
    const { journal_mode } = db.prepare("PRAGMA journal_mode").get() as { journal_mode: string };
    assert.equal(journal_mode, "wal");
    // Records survive reopening.
    assert.equal((db.prepare("SELECT COUNT(*) AS n FROM deliveries").get() as { n: number }).n, 2);
  } finally {
    db.close();
    await Deno.remove(dir, { recursive: true });
  }
});
