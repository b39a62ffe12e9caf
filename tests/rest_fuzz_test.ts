/**
 * REST fuzz: ten thousand random query strings against every `/api/v1` route of the real server.
 * Each is answered 200, 400 or 404 (401 where a route needs an admin token) with the JSON error
 * format — never a 500 — a parameter a
 * route does not take or one given twice is always a 400 naming it, the server stays up, and
 * what was stored before reads back the same afterwards.
 */
import assert from "node:assert/strict";
import { reportMetrics, withClient } from "./helpers/grpc_client.ts";
import {
  parameterFaults,
  Random,
  randomPath,
  randomQuery,
  routesFromOpenApi,
} from "./helpers/rest_queries.ts";
import { startTestServer } from "./helpers/server_process.ts";

const QUERIES = 10_000;
const WORKERS = 8;
const AGENT = "fuzz-01";
const SEED = Number(Deno.env.get("OXMON_FUZZ_SEED") ?? 10);
/** The error `code` of each refusal status. */
const CODES: Record<number, string> = {
  400: "bad_request",
  401: "unauthorized",
  403: "forbidden",
  404: "not_found",
};

Deno.test("every REST route answers 10,000 random query strings with 200, 400 or 404, never 500", async () => {
  const dir = await Deno.makeTempDir({ prefix: "oxmon-rest-fuzz-" });
  const server = await startTestServer(
    `${dir}/data`,
    `
[[alert.rules]]
name = "high-cpu"
type = "threshold"
metric = "cpu.usage"
operator = "greater_than"
value = 50.0
severity = "critical"
`,
  );
  try {
    // Two hours of two series, so queries find data to bucket and the alert history has events.
    const nowMs = Date.now();
    const fromMs = nowMs - 2 * 3_600_000;
    await withClient(server.grpcPort, async (client) => {
      for (let t = fromMs; t < nowMs; t += 60_000 * 10) {
        const dataPoints = [];
        for (let i = 0; i < 10; i++) {
          const timestampMs = t + i * 60_000;
          dataPoints.push(
            { agentId: AGENT, metricName: "cpu.usage", timestampMs, value: (i * 17) % 100 },
            {
              agentId: AGENT,
              metricName: "disk.used_percent",
              timestampMs,
              value: 40 + i,
              labels: { mount: "/" },
            },
          );
        }
        await reportMetrics(client, { agentId: AGENT, timestampMs: t, dataPoints });
      }
    });
    const snapshot = async () => {
      const range = `from=${fromMs}&to=${nowMs}`;
      const raw = await server.getJson(`/api/v1/metrics?agent=${AGENT}&${range}`);
      const buckets = await server.getJson(`/api/v1/metrics?agent=${AGENT}&${range}&step=5m`);
      const latest = await server.getJson(`/api/v1/agents/${AGENT}/latest`);
      const history = await server.getJson("/api/v1/alerts/history?limit=1000");
      return { raw, buckets, latest, history };
    };
    const before = await snapshot();
    assert.equal(before.raw.status, 200);
    assert.equal((before.raw.body.series as unknown[]).length, 2);

    // Every GET route the app declares, with the parameters each declares.
    const ROUTES = routesFromOpenApi(
      (await server.getJson("/api/v1/openapi.json")).body as {
        paths: Record<string, Record<string, unknown>>;
      },
    );
    assert.ok(ROUTES.length >= 20, `${ROUTES.length} routes`);
    const rng = new Random(SEED);
    const cases = Array.from({ length: QUERIES }, () => {
      const route = rng.pick(ROUTES);
      return { route, path: randomPath(rng, route, AGENT), query: randomQuery(rng, route) };
    });
    const statuses = new Map<number, number>();
    let faulty = 0;
    let next = 0;
    const worker = async () => {
      while (next < cases.length) {
        const { route, path, query } = cases[next++];
        const url = `${server.apiUrl}/api/v1${path}${query ? `?${query}` : ""}`;
        const response = await fetch(url);
        const text = await response.text();
        const what = `GET ${url.slice(0, 300)} answered ${response.status}: ${text.slice(0, 300)}`;
        statuses.set(response.status, (statuses.get(response.status) ?? 0) + 1);
        assert.ok([200, 400, 401, 403, 404].includes(response.status), what);
        const body = JSON.parse(text);
        if (response.status !== 200) {
          assert.equal(typeof body.error, "string", what);
          assert.equal(body.code, CODES[response.status], what);
        }
        // A path that matches no route is a 404 before any parameter is read.
        if (body.error?.startsWith("No route")) continue;
        // Routes that need an admin token say so before they look at parameters.
        if (response.status === 401 || response.status === 403) continue;
        const params = new URL(url).searchParams;
        const faults = parameterFaults(params, route);
        if (faults.size > 0) {
          faulty++;
          assert.equal(response.status, 400, what);
          assert.ok([...faults].some((name) => body.error.includes(`"${name}"`)), what);
        } else if (response.status === 400) {
          // Any other 400 names the parameter it is about, or says the answer would be too big.
          const named = /^Invalid query parameter "(.*?)": /s.exec(body.error)?.[1];
          assert.ok(
            (named !== undefined && params.has(named)) || /matches more than/.test(body.error),
            what,
          );
        }
      }
    };
    await Promise.all(Array.from({ length: WORKERS }, worker));

    const counts = Object.fromEntries([...statuses].sort(([a], [b]) => a - b));
    console.log(
      `REST fuzz (seed ${SEED}): ${QUERIES} query strings over ${ROUTES.length} routes: ` +
        `${JSON.stringify(counts)}; ${faulty} with an unknown or repeated parameter, all 400`,
    );
    // Each kind of answer must occur often, or the fuzz proves less than it says.
    assert.ok((statuses.get(200) ?? 0) > 1_000, JSON.stringify(counts));
    assert.ok((statuses.get(400) ?? 0) > 3_000, JSON.stringify(counts));
    assert.ok((statuses.get(404) ?? 0) > 100, JSON.stringify(counts));

    const health = await server.getJson("/api/v1/health");
    assert.equal(health.status, 200);
    const after = await snapshot();
    assert.deepEqual(after.raw, before.raw);
    assert.deepEqual(after.buckets, before.buckets);
    assert.deepEqual(after.latest, before.latest);
    assert.deepEqual(after.history, before.history);
  } finally {
    await server.stop();
    await Deno.remove(dir, { recursive: true });
  }
});
