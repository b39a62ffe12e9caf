import assert from "node:assert/strict";
import { systemClock } from "../../shared/clock.ts";
import { silentLogger } from "../../shared/log.ts";
import type { MetricDataPoint } from "../../shared/types.ts";
import { startHttpSink } from "../../tests/helpers/http_sink.ts";
import { eventually } from "../../tests/helpers/server_process.ts";
import { parseServerConfig } from "../config.ts";
import { openRemoteWriteForwarder } from "./remote_write.ts";

function forwarder(dir: string, toml: string) {
  const config = parseServerConfig(toml);
  return openRemoteWriteForwarder({
    endpoints: config.remoteWrite,
    dataDir: dir,
    clock: systemClock,
    log: silentLogger,
    version: "test",
    retry: { minBackoffMs: 10, maxBackoffMs: 40 },
  });
}

function points(fromMs: number, count: number): MetricDataPoint[] {
  return Array.from({ length: count }, (_, i) => ({
    agentId: "web-1",
    metricName: "cpu.usage",
    labels: {},
    timestampMs: fromMs + i * 1000,
    value: i,
  }));
}

Deno.test("remote write retries 5xx and 429 with the same request and sends the spec's headers", async () => {
  const dir = await Deno.makeTempDir();
  const statuses = [503, 429, 204];
  const sink = await startHttpSink({
    respond: (_, index) => new Response(null, { status: statuses[index] ?? 204 }),
  });
  const rw = forwarder(
    dir,
    `[[remote_write]]
url = "${sink.url}/write"
bearer_token = "tok"
headers = { "X-Scope-OrgID" = "team-a" }
flush_interval_secs = 0.01
external_labels = { cluster = "eu" }`,
  );
  try {
    rw.start();
    rw.observe(points(1_000_000, 3));
    await sink.waitFor(3);
    await eventually(() => rw.stats()[0].sentSamples === 3, "delivery");
    const [first, , last] = sink.requests;
    assert.equal(first.body, last.body, "a retry sends the same bytes");
    assert.equal(last.headers.get("content-encoding"), "snappy");
    assert.equal(last.headers.get("content-type"), "application/x-protobuf");
    assert.equal(last.headers.get("x-prometheus-remote-write-version"), "0.1.0");
    assert.equal(last.headers.get("authorization"), "Bearer tok");
    assert.equal(last.headers.get("x-scope-orgid"), "team-a");
    const stats = rw.stats()[0];
    assert.equal(stats.failures, 2);
    assert.equal(stats.sentRequests, 1);
    assert.equal(stats.lastError, null);
    assert.ok(stats.lastSuccessMs !== null);
  } finally {
    await rw.stop(100);
    await sink.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("remote write drops a batch the endpoint refuses with 4xx, counts it and goes on", async () => {
  const dir = await Deno.makeTempDir();
  const sink = await startHttpSink({
    respond: (_, index) =>
      new Response(index === 0 ? "out of bounds" : null, { status: index === 0 ? 400 : 204 }),
  });
  const rw = forwarder(
    dir,
    `[[remote_write]]\nurl = "${sink.url}/write"\nflush_interval_secs = 0.01`,
  );
  try {
    rw.start();
    rw.observe(points(1_000_000, 4));
    await sink.waitFor(1);
    rw.observe(points(2_000_000, 2));
    await eventually(() => rw.stats()[0].sentSamples === 2, "the next batch");
    const stats = rw.stats()[0];
    assert.deepEqual(stats.droppedSamples, { rejected: 4, queue_full: 0 });
    assert.equal(stats.failures, 0);
    assert.equal(stats.pendingSamples, 0);
  } finally {
    await rw.stop(100);
    await sink.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("remote write endpoints are independent: a dead one does not hold up the other", async () => {
  const dir = await Deno.makeTempDir();
  const sink = await startHttpSink();
  const dead = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const deadPort = (dead.addr as Deno.NetAddr).port;
  dead.close();
  const rw = forwarder(
    dir,
    `[[remote_write]]
name = "alive"
url = "${sink.url}/write"
flush_interval_secs = 0.01
[[remote_write]]
name = "dead"
url = "http://127.0.0.1:${deadPort}/write"
flush_interval_secs = 0.01`,
  );
  try {
    rw.start();
    rw.observe(points(1_000_000, 5));
    rw.observe(points(1_000_000, 5)); // the same samples again: forwarded once
    await eventually(() => rw.stats()[0].sentSamples === 5, "the live endpoint");
    await eventually(() => rw.stats()[1].failures >= 2, "retries on the dead endpoint");
    const [alive, deadStats] = rw.stats();
    assert.equal(alive.pendingSamples, 0);
    assert.equal(deadStats.pendingSamples, 5);
    assert.equal(deadStats.sentSamples, 0);
    assert.match(deadStats.lastError ?? "", /refused|connect/i);
    assert.equal(rw.skippedLate, 5);
  } finally {
    await rw.stop(100);
    await sink.close();
    await Deno.remove(dir, { recursive: true });
  }
});
