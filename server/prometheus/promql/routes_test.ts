import assert from "node:assert/strict";
import { ManualClock } from "../../../shared/clock.ts";
import { silentLogger } from "../../../shared/log.ts";
import { openChunkStore } from "../../storage/chunk/engine.ts";
import type { MetricStore } from "../../storage/types.ts";
import { createQueryApiRoutes } from "./routes.ts";

const DAY = 86_400_000;
// deno-lint-ignore no-explicit-any
type Json = any;
const T0 = Date.UTC(2026, 10, 20);
/** The cpu.usage value stored at `ts`. */
const cpu = (ts: number) => (ts / 60_000) % 100;

async function withApi(
  run: (
    ctx: { store: MetricStore; get: (path: string, init?: RequestInit) => Promise<[number, Json]> },
  ) => Promise<void>,
  wrap: (store: MetricStore) => MetricStore = (store) => store,
) {
  const dir = await Deno.makeTempDir();
  const clock = new ManualClock(T0 + 3 * DAY);
  const store = openChunkStore({ dataDir: dir, clock });
  const points = [];
  for (let ts = T0; ts < T0 + 3 * DAY; ts += 60_000) {
    points.push({
      agentId: "web-1",
      metricName: "cpu.usage",
      labels: {},
      timestampMs: ts,
      value: cpu(ts),
    });
    points.push({
      agentId: "web-2",
      metricName: "disk.used_percent",
      labels: { mount: "/" },
      timestampMs: ts,
      value: 50,
    });
  }
  store.write(points);
  const app = createQueryApiRoutes({
    store: wrap(store),
    clock,
    log: silentLogger,
    version: "test",
    lookbackDeltaSecs: 300,
    maxSamples: 1_000_000,
  });
  try {
    await run({
      store,
      get: async (path, init) => {
        const response = await app.request(`/prometheus/api/v1${path}`, init);
        return [response.status, await response.json()];
      },
    });
  } finally {
    store.close();
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("the query API answers instant queries as vector, scalar and raw matrix", async () => {
  await withApi(async ({ get }) => {
    const at = (T0 + DAY) / 1000;
    const [status, vector] = await get(`/query?query=oxmon_cpu_usage_percent&time=${at}`);
    assert.equal(status, 200);
    assert.deepEqual(vector.data, {
      resultType: "vector",
      result: [{
        metric: { __name__: "oxmon_cpu_usage_percent", agent: "web-1" },
        value: [at, String(cpu(at * 1000))],
      }],
    });
    const [, scalar] = await get(`/query?query=${encodeURIComponent("1+1")}&time=${at}`);
    assert.deepEqual(scalar.data, { resultType: "scalar", result: [at, "2"] });
    const [, matrix] = await get(
      `/query?query=${encodeURIComponent("oxmon_cpu_usage_percent[3m]")}&time=${at}`,
    );
    assert.equal(matrix.data.resultType, "matrix");
    assert.deepEqual(matrix.data.result[0].values.map(([ts]: [number]) => ts), [
      at - 180,
      at - 120,
      at - 60,
      at,
    ]);
  });
});

Deno.test("the query API takes Grafana's form-encoded POSTs and lists series, labels and values", async () => {
  await withApi(async ({ get }) => {
    const form = (body: Record<string, string>) => ({
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams(body).toString(),
    });
    const [status, range] = await get(
      "/query_range",
      form({
        query: "avg by (agent) (oxmon_cpu_usage_percent)",
        start: String(T0 / 1000 + 600),
        end: String(T0 / 1000 + 900),
        step: "5m",
      }),
    );
    assert.equal(status, 200);
    assert.deepEqual(range.data.result, [{
      metric: { agent: "web-1" },
      values: [[T0 / 1000 + 600, String(cpu(T0 + 600_000))], [
        T0 / 1000 + 900,
        String(cpu(T0 + 900_000)),
      ]],
    }]);
    const [, series] = await get("/series", form({ "match[]": '{mount="/"}' }));
    assert.deepEqual(series.data, [{
      __name__: "oxmon_disk_used_percent",
      agent: "web-2",
      mount: "/",
    }]);
    const [, labels] = await get("/labels");
    assert.deepEqual(labels.data, ["__name__", "agent", "mount"]);
    const [, names] = await get("/label/__name__/values");
    assert.deepEqual(names.data, ["oxmon_cpu_usage_percent", "oxmon_disk_used_percent"]);
    const [, agents] = await get(
      `/label/agent/values?match[]=${encodeURIComponent("oxmon_cpu_usage_percent")}`,
    );
    assert.deepEqual(agents.data, ["web-1"]);
    const [, build] = await get("/status/buildinfo");
    assert.equal(build.data.version, "2.42.0");
  });
});

Deno.test("the query API applies limit and lookback_delta, and checks timeout", async () => {
  await withApi(async ({ get }) => {
    const [, names] = await get("/label/__name__/values?limit=1");
    assert.deepEqual(names.data, ["oxmon_cpu_usage_percent"]);
    const [, all] = await get("/label/__name__/values?limit=0");
    assert.equal(all.data.length, 2);
    const [, series] = await get(
      `/series?match[]=${encodeURIComponent('{__name__=~".+"}')}&limit=1`,
    );
    assert.equal(series.data.length, 1);
    const [, vector] = await get(
      `/query?query=${encodeURIComponent('{__name__=~"oxmon_.+"}')}&limit=1`,
    );
    assert.equal(vector.data.result.length, 1);
    // Samples are a minute apart: 30 s after one, a 10 s lookback finds none.
    const at = (T0 + DAY + 30_000) / 1000;
    const [, found] = await get(`/query?query=oxmon_cpu_usage_percent&time=${at}`);
    assert.equal(found.data.result.length, 1);
    const [, none] = await get(
      `/query?query=oxmon_cpu_usage_percent&time=${at}&lookback_delta=10s&timeout=30s`,
    );
    assert.deepEqual(none.data.result, []);
    for (
      const [path, message] of [
        ["/query?query=1&timeout=soon", /invalid parameter "timeout"/],
        ["/labels?limit=-1", /invalid parameter "limit"/],
      ] as const
    ) {
      const [status, body] = await get(path);
      assert.equal(status, 400, path);
      assert.match(body.error, message);
    }
  });
});

Deno.test("the query API refuses bad parameters with Prometheus' errors", async () => {
  await withApi(async ({ get }) => {
    const cases: [string, RegExp][] = [
      ["/query_range?query=up&start=x&end=1&step=1", /invalid parameter "start": cannot parse "x"/],
      [
        "/query_range?query=up&start=10&end=1&step=1",
        /end timestamp must not be before start time/,
      ],
      ["/query_range?query=up&start=0&end=10&step=0", /zero or negative query resolution step/],
      [
        "/query_range?query=up&start=0&end=100000&step=1",
        /exceeded maximum resolution of 11,000 points/,
      ],
      ["/query_range?query=up[5m]&start=0&end=10&step=1", /invalid expression type "range vector"/],
      ["/query?query=sum(", /^1:5: parse error/],
      ["/query?query=" + encodeURIComponent('{job=""}'), /at least one non-empty matcher/],
      ["/series", /no match\[\] parameter provided/],
    ];
    for (const [path, message] of cases) {
      const [status, body] = await get(path);
      assert.equal(status, 400, path);
      assert.equal(body.errorType, "bad_data");
      assert.match(body.error, message, path);
    }
    const [status, body] = await get("/rules");
    assert.equal(status, 404);
    assert.equal(body.errorType, "not_found");
  });
});

Deno.test("aggregations over long ranges use chunk statistics instead of decoding every chunk", async () => {
  let decoded = 0;
  let blocks = 0;
  const counting = (store: MetricStore): MetricStore =>
    new Proxy(store, {
      get(target, name) {
        if (name !== "queryBlocks") return Reflect.get(target, name).bind(target);
        return (query: Parameters<MetricStore["queryBlocks"]>[0]) =>
          target.queryBlocks(query).map((series) => ({
            ...series,
            blocks: series.blocks.map((block) => {
              blocks++;
              return { ...block, samples: () => (decoded++, block.samples()) };
            }),
          }));
      },
    });
  await withApi(async ({ get }) => {
    const search = new URLSearchParams({
      query: "max_over_time(oxmon_cpu_usage_percent[1d])",
      start: String((T0 + DAY) / 1000),
      end: String((T0 + 3 * DAY - 60_000) / 1000),
      step: "6h",
    });
    const [status, body] = await get(`/query_range?${search}`);
    assert.equal(status, 200);
    assert.ok(body.data.result[0].values.every(([, v]: [number, string]) => v === "99"));
    assert.ok(blocks >= 60, `${blocks} blocks`);
    assert.ok(decoded <= 20, `${decoded} of ${blocks} blocks decoded`);
  }, counting);
});
