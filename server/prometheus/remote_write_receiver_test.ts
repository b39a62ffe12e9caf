import assert from "node:assert/strict";
import { ManualClock } from "../../shared/clock.ts";
import { silentLogger } from "../../shared/log.ts";
import type { MetricDataPoint } from "../../shared/types.ts";
import { openAgentRegistry } from "../agents/sqlite_registry.ts";
import { AgentAuthenticator } from "../auth/agent_auth.ts";
import { sha256Hex } from "../auth/tokens.ts";
import { DEFAULT_INGEST_LIMITS } from "../config.ts";
import { IngestService } from "../ingest/service.ts";
import { openChunkStore } from "../storage/chunk/engine.ts";
import { RemoteWriteReceiver } from "./remote_write_receiver.ts";
import { writeRequest } from "../../tests/helpers/remote_write_body.ts";

const NOW = Date.UTC(2026, 10, 27, 12, 0, 0);
const URL = "http://oxmon/api/v1/write";

async function withReceiver(
  options: { tokens?: string[]; defaultAgent?: string; authenticator?: AgentAuthenticator },
  run: (ctx: {
    receiver: RemoteWriteReceiver;
    store: ReturnType<typeof openChunkStore>;
    registry: ReturnType<typeof openAgentRegistry>;
    committed: MetricDataPoint[];
  }) => Promise<void>,
) {
  const dir = await Deno.makeTempDir();
  const clock = new ManualClock(NOW);
  const store = openChunkStore({ dataDir: dir, clock });
  const registry = openAgentRegistry(`${dir}/agents.db`);
  const committed: MetricDataPoint[] = [];
  const ingest = new IngestService({
    store,
    registry,
    limits: { ...DEFAULT_INGEST_LIMITS, maxPointsPerBatch: 3 },
    agentTokens: options.tokens ?? [],
    authenticator: options.authenticator,
    retentionDays: 7,
    clock,
    log: silentLogger,
    onCommitted: (points) => committed.push(...points),
  });
  const receiver = new RemoteWriteReceiver({
    ingest,
    maxBodyBytes: 4096,
    maxUncompressedBytes: 65536,
    maxPointsPerBatch: 3,
    defaultAgent: options.defaultAgent,
    log: silentLogger,
  });
  try {
    await run({ receiver, store, registry, committed });
  } finally {
    store.close();
    registry.close();
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("remote write in stores series under the agent from agent, instance or the default", async () => {
  await withReceiver(
    { defaultAgent: "pushed" },
    async ({ receiver, store, registry, committed }) => {
      const response = await receiver.handle(writeRequest(URL, [
        {
          labels: { __name__: "oxmon_cpu_usage_percent", agent: "web-1" },
          samples: [[NOW - 20_000, 1.5], [NOW - 10_000, 2.5], [NOW, 3.5], [NOW + 1, 4.5]],
        },
        {
          labels: { __name__: "node_load1", instance: "db-1:9100", job: "node" },
          samples: [[NOW, 0.25]],
        },
        { labels: { __name__: "queue_depth", team: "ops" }, samples: [[NOW, 7]] },
      ]));
      assert.equal(response.status, 204);
      const stored = store.queryRaw({ fromMs: NOW - 60_000, toMs: NOW + 60_000 })
        .map((s) => [s.agentId, s.metricName, s.labels, s.samples.map((x) => x.value)]);
      assert.deepEqual(
        stored.sort(),
        [
          ["db-1", "node_load1", { instance: "db-1:9100", job: "node" }, [0.25]],
          ["pushed", "queue_depth", { team: "ops" }, [7]],
          ["web-1", "cpu.usage", {}, [1.5, 2.5, 3.5, 4.5]],
        ].sort(),
      );
      assert.deepEqual(registry.list().map((a) => a.agentId).sort(), ["db-1", "pushed", "web-1"]);
      assert.equal(committed.length, 6, "the alert feed sees every committed sample");
      assert.equal(receiver.stats().samplesAccepted, 6);
    },
  );
});

Deno.test("remote write in skips stale markers and NaN but stores the rest", async () => {
  await withReceiver({}, async ({ receiver, store }) => {
    const response = await receiver.handle(writeRequest(URL, [{
      labels: { __name__: "up", instance: "a:1" },
      samples: [[NOW - 2000, 1], [NOW - 1000, "stale"], [NOW, NaN]],
    }]));
    assert.equal(response.status, 204);
    assert.equal(store.queryRaw({ fromMs: 0, toMs: NOW })[0].samples.length, 1);
    assert.deepEqual(receiver.stats().samplesSkipped, {
      stale_marker: 1,
      non_finite: 1,
      histogram: 0,
    });
  });
});

Deno.test("remote write in refuses bad requests with the status the spec asks for", async (t) => {
  await withReceiver({ tokens: ["s3cret"] }, async ({ receiver, store }) => {
    const auth = { authorization: "Bearer s3cret" };
    const good = [{
      labels: { __name__: "up", agent: "a" },
      samples: [[NOW, 1]] as [number, number][],
    }];
    await t.step("401 without an accepted token", async () => {
      const response = await receiver.handle(writeRequest(URL, good));
      assert.equal(response.status, 401);
      assert.match((await response.json()).error, /authorization/);
      assert.equal(
        (await receiver.handle(writeRequest(URL, good, { authorization: "Bearer x" }))).status,
        401,
      );
    });
    await t.step("400 naming the series and label of an invalid label name", async () => {
      const response = await receiver.handle(writeRequest(URL, [
        ...good,
        { labels: { __name__: "up", agent: "b", __bad: "x" }, samples: [[NOW, 1]] },
      ], auth));
      assert.equal(response.status, 400);
      const { error } = await response.json();
      assert.match(
        error,
        /^timeseries\[1\] \(\{__bad="x", __name__="up", agent="b"\}\)\.labels\["__bad"\]: invalid label name/,
      );
    });
    await t.step("400 naming the sample of a timestamp too far ahead", async () => {
      const response = await receiver.handle(writeRequest(URL, [{
        labels: { __name__: "up", agent: "a" },
        samples: [[NOW, 1], [NOW + 3_600_000, 1]],
      }], auth));
      assert.equal(response.status, 400);
      assert.match(
        (await response.json()).error,
        /^timeseries\[0\] .*\.samples\[1\]\.timestamp: .* ahead of the server clock/,
      );
    });
    await t.step("400 for a series without agent, instance or default", async () => {
      const response = await receiver.handle(
        writeRequest(URL, [{ labels: { __name__: "up" }, samples: [[NOW, 1]] }], auth),
      );
      assert.equal(response.status, 400);
      assert.match(
        (await response.json()).error,
        /timeseries\[0\] \(\{__name__="up"\}\): no "agent" or "instance" label/,
      );
    });
    await t.step("400 for a body that is not snappy protobuf", async () => {
      const response = await receiver.handle(
        new Request(URL, {
          method: "POST",
          headers: { ...auth, "content-type": "application/x-protobuf" },
          body: new TextEncoder().encode("hello"),
        }),
      );
      assert.equal(response.status, 400);
      assert.match((await response.json()).error, /^Cannot decode the WriteRequest/);
    });
    await t.step("415 for another content encoding, 413 for a body above the limit", async () => {
      const gzip = await receiver.handle(
        writeRequest(URL, good, { ...auth, "content-encoding": "gzip" }),
      );
      assert.equal(gzip.status, 415);
      await gzip.body?.cancel();
      const big = await receiver.handle(
        new Request(URL, { method: "POST", headers: auth, body: new Uint8Array(5000) }),
      );
      assert.equal(big.status, 413);
      await big.body?.cancel();
    });
    assert.equal(
      store.queryRaw({ fromMs: 0, toMs: NOW * 2 }).length,
      0,
      "nothing refused was stored",
    );
    assert.equal((await receiver.handle(writeRequest(URL, good, auth))).status, 204);
    assert.deepEqual(receiver.stats().requests, {
      "204": 1,
      "400": 4,
      "401": 2,
      "413": 1,
      "415": 1,
    });
  });
});

Deno.test("remote write in refuses with 403 a token bound to other agents, storing nothing", async () => {
  const authenticator = new AgentAuthenticator({
    tokens: [{ name: "web", sha256: sha256Hex("web-token"), agents: ["web-*"] }],
  });
  await withReceiver({ authenticator }, async ({ receiver, store }) => {
    const auth = { authorization: "Bearer web-token" };
    const series = (agent: string) => ({
      labels: { __name__: "up", agent },
      samples: [[NOW, 1]] as [number, number][],
    });
    const forged = await receiver.handle(
      writeRequest(URL, [series("web-01"), series("db-01")], auth),
    );
    assert.equal(forged.status, 403);
    const body = await forged.json();
    assert.equal(body.code, "forbidden");
    assert.match(body.error, /may not write as "db-01"/);
    assert.equal(store.queryRaw({ fromMs: 0, toMs: NOW * 2 }).length, 0);
    assert.equal((await receiver.handle(writeRequest(URL, [series("web-01")], auth))).status, 204);
  });
});
