/**
 * Remote write out against the real Prometheus 2.42 and VictoriaMetrics 1.79: what oxmon
 * committed reads back through their own query APIs, and an outage of the remote store with an
 * oxmon restart in between loses and doubles nothing.
 */
import assert from "node:assert/strict";
import { systemClock } from "../shared/clock.ts";
import { createLogger, silentLogger } from "../shared/log.ts";
import { MetricBatchProto } from "../shared/proto/mod.ts";
import { openAgentRegistry } from "../server/agents/sqlite_registry.ts";
import { DEFAULT_INGEST_LIMITS, parseServerConfig } from "../server/config.ts";
import { IngestService } from "../server/ingest/service.ts";
import { toPromLabels } from "../server/prometheus/naming.ts";
import {
  newestStoredSamples,
  openRemoteWriteForwarder,
} from "../server/prometheus/remote_write.ts";
import { openChunkStore } from "../server/storage/chunk/engine.ts";
import type { RawSeries } from "../server/storage/types.ts";
import { agentBatches } from "./helpers/agent_data.ts";
import {
  flushVictoriaMetrics,
  type Peer,
  PEERS_AVAILABLE,
  startPrometheus,
  startVictoriaMetrics,
} from "./helpers/prometheus_peers.ts";
import { eventually } from "./helpers/server_process.ts";

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;

/** The server's ingest wiring (store, registry, ingest, forwarder) without the gRPC listener. */
function openOxmon(dataDir: string, remoteWriteToml: string) {
  const config = parseServerConfig(`data_dir = ${JSON.stringify(dataDir)}\n${remoteWriteToml}`);
  const store = openChunkStore({ dataDir, clock: systemClock, lateSampleMaxAgeMs: 7 * 86_400_000 });
  const registry = openAgentRegistry(`${dataDir}/agents.db`);
  const forwarder = openRemoteWriteForwarder({
    endpoints: config.remoteWrite,
    dataDir,
    clock: systemClock,
    log: Deno.env.get("DEBUG_RW") ? createLogger({ level: "debug" }) : silentLogger,
    version: "test",
    retry: { minBackoffMs: 50, maxBackoffMs: 200 },
  });
  forwarder.seed(newestStoredSamples(store, registry.list().map((agent) => agent.agentId)));
  const ingest = new IngestService({
    store,
    registry,
    limits: { ...DEFAULT_INGEST_LIMITS, maxPointsPerBatch: 100_000 },
    agentTokens: [],
    retentionDays: 7,
    clock: systemClock,
    log: silentLogger,
    onCommitted: (points) => forwarder.observe(points),
  });
  forwarder.start();
  return {
    store,
    forwarder,
    send(batch: Parameters<typeof MetricBatchProto.encode>[0]) {
      const result = ingest.handle(MetricBatchProto.encode(batch).finish());
      assert.equal(result.code, 0, result.message);
    },
    async close() {
      await forwarder.stop(1000);
      store.close();
      registry.close();
    },
  };
}

function endpointToml(name: string, peer: Peer): string {
  return `
[[remote_write]]
name = "${name}"
url = "${peer.url}/api/v1/write"
max_batch_samples = 5000
flush_interval_secs = 0.05
`;
}

function promSelector(series: RawSeries): string {
  return "{" + toPromLabels(series)
    .map(([name, value]) => `${name}=${JSON.stringify(value)}`).join(",") +
    "}";
}

/** Raw samples of one series from VictoriaMetrics' export API (duplicates would show). */
async function vmExport(vm: Peer, selector: string): Promise<[number, number][]> {
  const response = await fetch(`${vm.url}/api/v1/export?match[]=${encodeURIComponent(selector)}`);
  const lines = (await response.text()).trim().split("\n").filter((line) => line !== "");
  const samples: [number, number][] = [];
  for (const line of lines) {
    const { values, timestamps } = JSON.parse(line);
    timestamps.forEach((ts: number, i: number) => samples.push([ts, values[i]]));
  }
  return samples.sort((a, b) => a[0] - b[0]);
}

/**
 * VictoriaMetrics stores a value as an integer mantissa of 12 significant decimal digits
 * (truncated), so a value comes back within one unit of its 12th digit: under 1e-11 relative,
 * about 1e-12 for most values.
 */
function assertTwelveDigits(actual: number, expected: number, what: string): number {
  if (actual === expected) return 0;
  const unit = 10 ** (Math.floor(Math.log10(Math.abs(expected))) - 11);
  assert.ok(
    Math.abs(actual - expected) <= unit,
    `${what}: got ${actual}, expected ${expected} (12 significant digits)`,
  );
  return Math.abs(actual - expected) / Math.abs(expected);
}

Deno.test({
  name:
    "a day of agent data remote-written reads back from Prometheus bit for bit and from VictoriaMetrics to 12 significant digits",
  ignore: !PEERS_AVAILABLE,
}, async () => {
  const dir = await Deno.makeTempDir();
  const [prometheus, vm] = await Promise.all([startPrometheus(), startVictoriaMetrics()]);
  const oxmon = openOxmon(dir, endpointToml("prometheus", prometheus) + endpointToml("vm", vm));
  try {
    const toMs = Math.floor(Date.now() / MINUTE) * MINUTE;
    const batches = agentBatches({
      agentId: "web-1",
      fromMs: toMs - 24 * HOUR,
      toMs,
      intervalMs: 10_000,
      roundsPerBatch: 60,
    });
    for (const batch of batches) oxmon.send(batch);
    const stored = oxmon.store.queryRaw({ fromMs: toMs - 25 * HOUR, toMs });
    const total = stored.reduce((sum, s) => sum + s.samples.length, 0);
    assert.equal(total, 8640 * 14);
    await eventually(
      () => oxmon.forwarder.stats().every((s) => s.sentSamples === total && s.pendingSamples === 0),
      "both endpoints to receive every sample",
      60_000,
    ).catch((error) => {
      throw new Error(`${error.message}: ${JSON.stringify(oxmon.forwarder.stats())}`);
    });
    for (const endpoint of oxmon.forwarder.stats()) {
      assert.equal(endpoint.failures, 0, `${endpoint.name}: ${endpoint.lastError}`);
      assert.deepEqual(endpoint.droppedSamples, { rejected: 0, queue_full: 0 });
    }
    await flushVictoriaMetrics(vm);
    let worstVmRelative = 0;
    for (const series of stored) {
      const selector = promSelector(series);
      // An instant query of a range selector answers the raw samples.
      const answer = await prometheus.getJson(
        `/api/v1/query?query=${encodeURIComponent(`${selector}[25h]`)}&time=${toMs / 1000}`,
      ) as { data: { result: { values: [number, string][] }[] } };
      assert.equal(answer.data.result.length, 1, `Prometheus has ${selector}`);
      const fromPrometheus = answer.data.result[0].values;
      assert.equal(fromPrometheus.length, series.samples.length, selector);
      series.samples.forEach((sample, i) => {
        assert.equal(Math.round(fromPrometheus[i][0] * 1000), sample.timestampMs);
        assert.ok(
          Object.is(Number(fromPrometheus[i][1]), sample.value),
          `${selector} at ${sample.timestampMs}: Prometheus ${
            fromPrometheus[i][1]
          }, oxmon ${sample.value}`,
        );
      });
      const fromVm = await vmExport(vm, selector);
      assert.equal(fromVm.length, series.samples.length, selector);
      series.samples.forEach((sample, i) => {
        assert.equal(fromVm[i][0], sample.timestampMs);
        const relative = assertTwelveDigits(
          fromVm[i][1],
          sample.value,
          `${selector} at ${sample.timestampMs}`,
        );
        worstVmRelative = Math.max(worstVmRelative, relative);
      });
    }
    assert.ok(
      worstVmRelative < 1e-11,
      `worst relative error from VictoriaMetrics: ${worstVmRelative}`,
    );
  } finally {
    await oxmon.close();
    await Promise.all([prometheus.stop(), vm.stop()]);
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test({
  name: "remote store outage with an oxmon restart in between: nothing missing, nothing doubled",
  ignore: !PEERS_AVAILABLE,
}, async () => {
  const dir = await Deno.makeTempDir();
  const vm = await startVictoriaMetrics();
  const toml = endpointToml("vm", vm);
  const toMs = Math.floor(Date.now() / MINUTE) * MINUTE;
  const batches = agentBatches({
    agentId: "db-1",
    fromMs: toMs - 3 * HOUR,
    toMs,
    intervalMs: 10_000,
    roundsPerBatch: 30,
  });
  const third = Math.floor(batches.length / 3);
  let oxmon = openOxmon(dir, toml);
  try {
    const firstPart = batches.slice(0, third);
    for (const batch of firstPart) oxmon.send(batch);
    const firstSamples = firstPart.reduce((sum, batch) => sum + batch.dataPoints!.length, 0);
    await eventually(
      () => oxmon.forwarder.stats()[0].sentSamples === firstSamples,
      "first part delivered",
    );

    await vm.kill();
    for (const batch of batches.slice(third, 2 * third)) oxmon.send(batch);
    await eventually(() => oxmon.forwarder.stats()[0].failures >= 2, "failed attempts");
    const during = oxmon.forwarder.stats()[0];
    assert.ok(during.pendingSamples > 0 && during.lastError !== null);

    // Restart oxmon while the remote store is down; the agent then retries its last batch,
    // which was committed before the restart.
    await oxmon.close();
    const beforeRestart = oxmon.forwarder.stats()[0];
    oxmon = openOxmon(dir, toml);
    assert.equal(oxmon.forwarder.stats()[0].pendingSamples, beforeRestart.pendingSamples);
    assert.equal(beforeRestart.pendingSamples, third * 30 * 14, "the whole second part waits");
    oxmon.send(batches[2 * third - 1]);
    for (const batch of batches.slice(2 * third)) oxmon.send(batch);

    await vm.restart();
    await eventually(
      () => oxmon.forwarder.stats()[0].pendingSamples === 0,
      "the queue to drain after the outage",
      30_000,
    );
    await flushVictoriaMetrics(vm);
    const stored = oxmon.store.queryRaw({ fromMs: 0, toMs });
    assert.equal(stored.length, 14);
    for (const series of stored) {
      const fromVm = await vmExport(vm, promSelector(series));
      assert.deepEqual(
        fromVm.map(([ts]) => ts),
        series.samples.map((s) => s.timestampMs),
        `${promSelector(series)}: every sample once`,
      );
    }
  } finally {
    await oxmon.close();
    await vm.stop();
    await Deno.remove(dir, { recursive: true });
  }
});
