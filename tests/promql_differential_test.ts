/**
 * Differential test of oxmon's PromQL against the real Prometheus 2.42: the same samples are
 * pushed into both over Remote-Write (counters with resets, gauges with a gap, irregular
 * intervals, a range crossing midnight UTC), and `query_range` answers must agree: the same
 * series, the same timestamps, values within 1e-9 relative. Queries outside oxmon's subset are
 * refused with 400 while Prometheus answers them.
 */
import assert from "node:assert/strict";
import { systemClock } from "../shared/clock.ts";
import { silentLogger } from "../shared/log.ts";
import { openAgentRegistry } from "../server/agents/sqlite_registry.ts";
import { DEFAULT_INGEST_LIMITS } from "../server/config.ts";
import { IngestService } from "../server/ingest/service.ts";
import { createQueryApiRoutes } from "../server/prometheus/promql/routes.ts";
import { RemoteWriteReceiver } from "../server/prometheus/remote_write_receiver.ts";
import { type TestSeries, writeRequest } from "./helpers/remote_write_body.ts";
import { openChunkStore } from "../server/storage/chunk/engine.ts";
import { seededRandom } from "./helpers/agent_data.ts";
import { PEERS_AVAILABLE, startPrometheus } from "./helpers/prometheus_peers.ts";

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

/** Samples from 4 h before the last midnight that is at least 2 h ago, to now. */
function dataset(nowMs: number) {
  const midnight = Math.floor((nowMs - 2 * HOUR) / DAY) * DAY;
  const fromMs = midnight - 4 * HOUR;
  const toMs = Math.min(midnight + 4 * HOUR, Math.floor(nowMs / MINUTE) * MINUTE - MINUTE);
  const random = seededRandom(7);
  const series: TestSeries[] = [];
  const gauge = (labels: Record<string, string>, gap?: [number, number], jitter = false) => {
    const samples: [number, number][] = [];
    for (let ts = fromMs; ts <= toMs; ts += 30_000) {
      if (gap && ts >= gap[0] && ts < gap[1]) continue;
      const at = jitter ? ts + Math.round(random() * 6000) - 3000 : ts;
      // Some exact 42s for `==`, short decimals and full-precision values.
      const value = random() < 0.05
        ? 42
        : random() < 0.5
        ? Math.round(random() * 10000) / 100
        : random() * 100;
      samples.push([at, value]);
    }
    series.push({ labels, samples });
  };
  gauge({ __name__: "oxmon_cpu_usage_percent", agent: "a1" }, [
    midnight - 50 * MINUTE,
    midnight - 10 * MINUTE,
  ]);
  gauge({ __name__: "oxmon_cpu_usage_percent", agent: "a2" }, undefined, true);
  for (const agent of ["a1", "a2"]) {
    for (const mount of ["/", "/data"]) {
      gauge({ __name__: "oxmon_disk_used_percent", agent, mount });
    }
  }
  for (const agent of ["a1", "a2"]) {
    for (const code of ["200", "500"]) {
      const samples: [number, number][] = [];
      let value = agent === "a1" ? 1000 : 0;
      for (let ts = fromMs, i = 0; ts <= toMs; ts += 15_000, i++) {
        value += Math.floor(random() * (code === "200" ? 50 : 5));
        // A restart of the process behind the counter, twice.
        if (i === 200 || (code === "500" && i === 1100)) value = Math.floor(random() * 3);
        samples.push([ts, value]);
      }
      series.push({ labels: { __name__: "app_requests_total", agent, code }, samples });
    }
  }
  return { fromMs, toMs, midnight, series };
}

/** WriteRequests of ten minutes of every series each, oldest first (as Prometheus needs). */
function slices(series: readonly TestSeries[], fromMs: number, toMs: number): TestSeries[][] {
  const out: TestSeries[][] = [];
  for (let start = fromMs - 10 * MINUTE; start <= toMs; start += 10 * MINUTE) {
    out.push(
      series.map(({ labels, samples }) => ({
        labels,
        samples: samples.filter(([ts]) => ts >= start && ts < start + 10 * MINUTE),
      })).filter((s) => s.samples.length > 0),
    );
  }
  return out.filter((request) => request.length > 0);
}

const QUERIES = [
  "oxmon_cpu_usage_percent",
  'oxmon_cpu_usage_percent{agent="a1"}',
  'oxmon_cpu_usage_percent{agent!="a1"}',
  'oxmon_disk_used_percent{mount=~"/d.*"}',
  'oxmon_disk_used_percent{mount!~"/d.*"}',
  '{__name__=~"oxmon_.*", agent="a2"}',
  "rate(app_requests_total[5m])",
  'rate(app_requests_total{code="500"}[2m])',
  "rate(app_requests_total[90s])",
  "irate(app_requests_total[5m])",
  "increase(app_requests_total[10m])",
  "increase(app_requests_total[1h])",
  "avg_over_time(oxmon_cpu_usage_percent[10m])",
  "min_over_time(oxmon_cpu_usage_percent[30m])",
  "max_over_time(oxmon_disk_used_percent[2h])",
  "sum_over_time(oxmon_cpu_usage_percent[3h])",
  "count_over_time(oxmon_cpu_usage_percent[15m])",
  "last_over_time(oxmon_cpu_usage_percent[20m])",
  "max_over_time(oxmon_cpu_usage_percent[5h])",
  "avg_over_time(oxmon_cpu_usage_percent[1d])",
  "sum(rate(app_requests_total[5m]))",
  "sum by (code) (rate(app_requests_total[5m]))",
  "sum without (code) (increase(app_requests_total[10m]))",
  "avg by (agent) (oxmon_cpu_usage_percent)",
  "max(oxmon_disk_used_percent) by (mount)",
  "min without (agent) (oxmon_disk_used_percent)",
  "count(oxmon_cpu_usage_percent)",
  'count by (agent) ({__name__=~"oxmon_.*"})',
  "sum(avg_over_time(oxmon_cpu_usage_percent[1h])) by (agent)",
  "oxmon_cpu_usage_percent * 2 + 1",
  "100 - oxmon_disk_used_percent",
  "oxmon_cpu_usage_percent > 50",
  "oxmon_cpu_usage_percent > bool 50",
  "50 < oxmon_cpu_usage_percent",
  "oxmon_cpu_usage_percent == 42",
  "oxmon_cpu_usage_percent / 0",
  "-oxmon_cpu_usage_percent",
  "oxmon_cpu_usage_percent % 7",
  "oxmon_cpu_usage_percent ^ 2",
  "1 + 1",
  "(2 * 3) > bool 5",
];

const UNSUPPORTED = [
  "topk(2, oxmon_cpu_usage_percent)",
  "oxmon_cpu_usage_percent offset 5m",
  "max_over_time(oxmon_cpu_usage_percent[10m:1m])",
  "oxmon_cpu_usage_percent + oxmon_disk_used_percent",
  "abs(oxmon_cpu_usage_percent)",
  "stddev(oxmon_cpu_usage_percent)",
  "quantile_over_time(0.5, oxmon_cpu_usage_percent[5m])",
  "oxmon_cpu_usage_percent and app_requests_total",
  'label_replace(oxmon_cpu_usage_percent, "x", "$1", "agent", "(.*)")',
  "delta(oxmon_cpu_usage_percent[5m])",
];

interface Matrix {
  status: string;
  data: {
    resultType: string;
    result: { metric: Record<string, string>; values: [number, string][] }[];
  };
}

function same(a: string, b: string): boolean {
  if (a === b) return true;
  const x = Number(a);
  const y = Number(b);
  if (Number.isNaN(x) && Number.isNaN(y)) return true;
  return Math.abs(x - y) <= 1e-9 * Math.max(Math.abs(x), Math.abs(y));
}

Deno.test({
  name: "query_range answers of oxmon and Prometheus 2.42 agree on the same samples",
  ignore: !PEERS_AVAILABLE,
}, async (t) => {
  const dir = await Deno.makeTempDir();
  const prometheus = await startPrometheus();
  const store = openChunkStore({ dataDir: dir, clock: systemClock });
  const registry = openAgentRegistry(`${dir}/agents.db`);
  const ingest = new IngestService({
    store,
    registry,
    limits: DEFAULT_INGEST_LIMITS,
    agentTokens: [],
    retentionDays: 7,
    clock: systemClock,
    log: silentLogger,
  });
  const receiver = new RemoteWriteReceiver({
    ingest,
    maxBodyBytes: 4 << 20,
    maxUncompressedBytes: 32 << 20,
    maxPointsPerBatch: 10_000,
    log: silentLogger,
  });
  const api = createQueryApiRoutes({
    store,
    clock: systemClock,
    log: silentLogger,
    version: "test",
    lookbackDeltaSecs: 300,
    maxSamples: 50_000_000,
  });
  try {
    const { fromMs, toMs, midnight, series } = dataset(Date.now());
    for (const request of slices(series, fromMs, toMs)) {
      const toPrometheus = await fetch(writeRequest(`${prometheus.url}/api/v1/write`, request));
      assert.equal(toPrometheus.status, 204, await toPrometheus.text());
      const toOxmon = await receiver.handle(writeRequest("http://oxmon/api/v1/write", request));
      assert.equal(toOxmon.status, 204, await toOxmon.text());
    }
    const total = series.reduce((sum, s) => sum + s.samples.length, 0);
    assert.equal(receiver.stats().samplesAccepted, total);
    // Ranges cross midnight; one step is not a divisor of the sample interval.
    const ranges = [
      { start: fromMs + 30 * MINUTE, end: toMs, step: 60 },
      { start: midnight - 95 * MINUTE + 7_000, end: midnight + 95 * MINUTE, step: 45 },
    ];
    let compared = 0;
    let comparedPoints = 0;
    for (const query of QUERIES) {
      await t.step(query, async () => {
        for (const { start, end, step } of ranges) {
          const search = new URLSearchParams({
            query,
            start: String(start / 1000),
            end: String(end / 1000),
            step: String(step),
          });
          const expected = await prometheus.getJson(
            `/api/v1/query_range?${search}`,
          ) as unknown as Matrix;
          const response = await api.request(`/prometheus/api/v1/query_range?${search}`);
          const actual = await response.json() as Matrix;
          assert.equal(response.status, 200, JSON.stringify(actual));
          assert.equal(actual.data.resultType, expected.data.resultType);
          const key = (metric: Record<string, string>) =>
            JSON.stringify(Object.entries(metric).sort());
          const expectedSeries = new Map(
            expected.data.result.map((s) => [key(s.metric), s.values]),
          );
          assert.deepEqual(
            actual.data.result.map((s) => key(s.metric)).sort(),
            [...expectedSeries.keys()].sort(),
            "the same series",
          );
          const points = expected.data.result.reduce((sum, s) => sum + s.values.length, 0);
          assert.ok(points > 0, `Prometheus answers ${query} with data`);
          comparedPoints += points;
          for (const { metric, values } of actual.data.result) {
            const want = expectedSeries.get(key(metric))!;
            assert.deepEqual(
              values.map(([ts]) => ts),
              want.map(([ts]) => ts),
              `timestamps of ${key(metric)}`,
            );
            values.forEach(([ts, value], i) => {
              assert.ok(
                same(value, want[i][1]),
                `${key(metric)} at ${ts}: oxmon ${value}, Prometheus ${want[i][1]}`,
              );
            });
          }
          compared++;
        }
      });
    }
    assert.equal(compared, QUERIES.length * ranges.length);
    assert.ok(comparedPoints > 50_000, `compared ${comparedPoints} points`);
    console.log(`compared ${comparedPoints} points`);
    await t.step(
      "unsupported queries are refused with 400 naming what is not supported",
      async () => {
        for (const query of UNSUPPORTED) {
          const search = new URLSearchParams({
            query,
            start: String(ranges[0].start / 1000),
            end: String(ranges[0].end / 1000),
            step: "60",
          });
          const valid = await fetch(`${prometheus.url}/api/v1/query_range?${search}`);
          assert.equal(valid.status, 200, `Prometheus accepts ${query}`);
          await valid.body?.cancel();
          const response = await api.request(`/prometheus/api/v1/query_range?${search}`);
          const body = await response.json();
          assert.equal(response.status, 400, query);
          assert.equal(body.status, "error");
          assert.equal(body.errorType, "bad_data");
          assert.match(body.error, /not supported by oxmon/, query);
        }
      },
    );
  } finally {
    store.close();
    registry.close();
    await prometheus.stop();
    await Deno.remove(dir, { recursive: true });
  }
});
