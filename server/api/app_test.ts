import assert from "node:assert/strict";
import { Hono } from "hono";
import { memoryLogger } from "../../shared/log.ts";
import type { MetricDataPoint } from "../../shared/types.ts";
import { createApiApp, type HealthIssue } from "./app.ts";
import { ApiError, badParameter } from "./errors.ts";
import { DamagedDataError } from "../storage/types.ts";
import { routeApp, type RouteSpec } from "./routes.ts";
import { openTestEnv, START_MS, type TestEnv } from "../../tests/helpers/api_env.ts";

const SYSTEM = {
  hostname: "web-1.example",
  os: "Linux",
  osVersion: "Debian 12",
  arch: "x86_64",
  kernelVersion: "6.1.0",
  cpuCores: 4,
  memoryGb: 15.5,
  diskGb: 200,
};

/** `count` points of one series every 10 s, ending at `endMs`, valued 0, 1, 2, … */
function series(
  agentId: string,
  metricName: string,
  labels: Record<string, string>,
  endMs: number,
  count: number,
): MetricDataPoint[] {
  return Array.from({ length: count }, (_, i) => ({
    agentId,
    metricName,
    labels,
    timestampMs: endMs - (count - 1 - i) * 10_000,
    value: i,
  }));
}

async function withEnv(fn: (env: TestEnv, app: Hono) => Promise<void>, overrides = {}) {
  const env = await openTestEnv(overrides);
  try {
    await fn(env, createApiApp(env.deps));
  } finally {
    await env.close();
  }
}

async function getJson(app: Hono, path: string, status = 200) {
  const response = await app.request(path);
  const body = await response.json();
  assert.equal(response.status, status, JSON.stringify(body));
  assert.match(response.headers.get("content-type") ?? "", /application\/json/);
  return body;
}

async function assertError(app: Hono, path: string, status: number, code: string, pattern: RegExp) {
  const body = await getJson(app, path, status);
  assert.deepEqual(Object.keys(body).sort(), ["code", "error"]);
  assert.equal(body.code, code);
  assert.match(body.error, pattern);
}

Deno.test("health reports version, uptime, agents, storage and ingest counters", async () => {
  await withEnv(async (env, app) => {
    env.ingest(series("web-1", "cpu.usage", {}, START_MS, 3));
    env.ingest(series("db-1", "cpu.usage", {}, START_MS - 60_000, 3));
    const body = await getJson(app, "/api/v1/health");
    const stats = env.store.stats();
    assert.equal(body.status, "ok");
    assert.equal(body.version, "0.0.0-test");
    assert.equal(body.uptime_secs, 90);
    assert.equal(body.started_at, new Date(START_MS - 90_000).toISOString());
    assert.equal(body.time, new Date(START_MS).toISOString());
    assert.equal(body.agent_count, 2);
    assert.equal(body.active_agent_count, 1);
    assert.equal(body.storage_status, "ok");
    assert.equal(body.storage.engine, stats.engine);
    assert.equal(body.storage.series_count, 2);
    assert.equal(body.storage.partition_count, stats.partitions.length);
    assert.equal(body.storage.total_bytes, stats.totalBytes);
    assert.deepEqual(body.ingest, { batches_accepted: 7, batches_rejected: 1 });
  }, { ingestStats: () => ({ batches_accepted: 7, batches_rejected: 1 }) });
});

Deno.test("health answers 503 when storage statistics fail, logging the cause", async () => {
  const log = memoryLogger();
  await withEnv(async (env, app) => {
    env.store.stats = () => {
      throw new Error("disk on fire");
    };
    const body = await getJson(app, "/api/v1/health", 503);
    assert.equal(body.status, "degraded");
    assert.equal(body.storage_status, "error");
    assert.equal(body.storage, null);
    assert.ok(log.lines.some((line) => line.includes("disk on fire")));
  }, { log });
});

Deno.test("health is degraded but 200 while issues are reported, listing each", async () => {
  const issues: HealthIssue[] = [];
  await withEnv(async (_env, app) => {
    assert.deepEqual((await getJson(app, "/api/v1/health")).issues, []);
    issues.push({
      kind: "quarantined",
      message: "damaged; moved aside",
      file: "/data/agents.db.damaged-20260115T115900Z",
      sinceMs: START_MS - 60_000,
    }, { kind: "writes_refused", message: "no space left on device", sinceMs: START_MS });
    const body = await getJson(app, "/api/v1/health");
    assert.equal(body.status, "degraded");
    assert.equal(body.storage_status, "degraded");
    assert.deepEqual(body.issues, [{
      kind: "quarantined",
      message: "damaged; moved aside",
      file: "/data/agents.db.damaged-20260115T115900Z",
      since: "2026-01-15T11:59:00.000Z",
    }, {
      kind: "writes_refused",
      message: "no space left on device",
      since: "2026-01-15T12:00:00.000Z",
    }]);
    issues.length = 0;
    assert.equal(
      (await getJson(app, "/api/v1/health")).status,
      "ok",
      "back to ok once they are gone",
    );
  }, { issues: () => issues });
});

Deno.test("a query that meets damaged stored data is a 500 naming the file, not a bare internal error", async () => {
  await withEnv(async (env, app) => {
    env.ingest(series("web-1", "cpu.usage", {}, START_MS - 60_000, 3));
    env.store.queryRaw = () => {
      throw new DamagedDataError(
        "2026-01-15.db",
        "chunk of series 1 in 2026-01-15.db: checksum mismatch",
      );
    };
    const response = await app.request("/api/v1/metrics?agent=web-1");
    assert.equal(response.status, 500);
    assert.deepEqual(await response.json(), {
      code: "internal",
      error: "Stored data is damaged: chunk of series 1 in 2026-01-15.db: checksum mismatch",
    });
  });
});

Deno.test("agents are listed with RFC 3339 times, system info and liveness", async (t) => {
  await withEnv(async (env, app) => {
    env.ingest(series("web-1", "cpu.usage", {}, START_MS - 60_000, 1), SYSTEM);
    env.ingest(series("web-1", "cpu.usage", {}, START_MS - 5_000, 1));
    env.ingest(series("db-1", "cpu.usage", {}, START_MS - 30_000, 1));
    await t.step("fields", async () => {
      const { agents } = await getJson(app, "/api/v1/agents");
      assert.deepEqual(agents.map((a: { agent_id: string }) => a.agent_id), ["db-1", "web-1"]);
      assert.deepEqual(agents[1], {
        agent_id: "web-1",
        first_seen: new Date(START_MS - 60_000).toISOString(),
        last_seen: new Date(START_MS - 5_000).toISOString(),
        status: "active",
        system_info: {
          hostname: "web-1.example",
          os: "Linux",
          os_version: "Debian 12",
          arch: "x86_64",
          kernel_version: "6.1.0",
          cpu_cores: 4,
          memory_gb: 15.5,
          disk_gb: 200,
        },
      });
      assert.equal(agents[0].system_info, null);
    });
    await t.step("inactive exactly 3 intervals after last seen, not before", async () => {
      // db-1 was last seen 30 s ago with a 10 s interval.
      env.clock.set(START_MS - 1);
      assert.equal((await getJson(app, "/api/v1/agents/db-1")).status, "active");
      env.clock.set(START_MS);
      assert.equal((await getJson(app, "/api/v1/agents/db-1")).status, "inactive");
    });
    await t.step("an unknown agent is a 404", async () => {
      await assertError(app, "/api/v1/agents/nope", 404, "not_found", /agent "nope"/);
    });
  });
});

Deno.test("latest returns the newest value of every series of an agent, with labels", async () => {
  await withEnv(async (env, app) => {
    env.ingest([
      ...series("web-1", "disk.used_percent", { mount: "/" }, START_MS - 10_000, 3),
      ...series("web-1", "disk.used_percent", { mount: "/home" }, START_MS, 5),
      ...series("web-1", "cpu.usage", {}, START_MS, 2),
      ...series("db-1", "cpu.usage", {}, START_MS, 9),
    ]);
    const body = await getJson(app, "/api/v1/agents/web-1/latest");
    assert.deepEqual(body, {
      agent_id: "web-1",
      series: [
        {
          metric: "cpu.usage",
          labels: {},
          unit: "percent",
          timestamp: new Date(START_MS).toISOString(),
          value: 1,
        },
        {
          metric: "disk.used_percent",
          labels: { mount: "/" },
          unit: "percent",
          timestamp: new Date(START_MS - 10_000).toISOString(),
          value: 2,
        },
        {
          metric: "disk.used_percent",
          labels: { mount: "/home" },
          unit: "percent",
          timestamp: new Date(START_MS).toISOString(),
          value: 4,
        },
      ],
    });
    await assertError(app, "/api/v1/agents/ghost/latest", 404, "not_found", /ghost/);
    // Agent ids travel percent-encoded in the path.
    env.ingest(series("rack 4/web 1", "cpu.usage", {}, START_MS, 1));
    const odd = await getJson(app, `/api/v1/agents/${encodeURIComponent("rack 4/web 1")}/latest`);
    assert.equal(odd.agent_id, "rack 4/web 1");
    assert.equal(odd.series.length, 1);
  });
});

Deno.test("metrics returns raw points of every matching series over the last hour by default", async (t) => {
  await withEnv(async (env, app) => {
    // 2 h of data at 10 s: the default hour holds 361 points (both ends inclusive).
    env.ingest([
      ...series("web-1", "disk.used_percent", { mount: "/" }, START_MS, 721),
      ...series("web-1", "disk.used_percent", { mount: "/home" }, START_MS, 721),
      ...series("web-1", "cpu.usage", {}, START_MS, 721),
    ]);
    await t.step("default range", async () => {
      const body = await getJson(app, "/api/v1/metrics?agent=web-1&metric=disk.used_percent");
      assert.equal(body.from, new Date(START_MS - 3_600_000).toISOString());
      assert.equal(body.to, new Date(START_MS).toISOString());
      assert.equal(body.step_secs, null);
      assert.deepEqual(body.series.map((s: { labels: unknown }) => s.labels), [{ mount: "/" }, {
        mount: "/home",
      }]);
      const first = body.series[0];
      assert.equal(first.agent_id, "web-1");
      assert.equal(first.metric, "disk.used_percent");
      assert.equal(first.unit, "percent");
      assert.equal(first.points.length, 361);
      assert.deepEqual(first.points[0], {
        timestamp: new Date(START_MS - 3_600_000).toISOString(),
        value: 360,
      });
      assert.deepEqual(first.points.at(-1), {
        timestamp: new Date(START_MS).toISOString(),
        value: 720,
      });
    });
    await t.step("label filter", async () => {
      const body = await getJson(app, "/api/v1/metrics?metric=disk.used_percent&label.mount=/home");
      assert.deepEqual(body.series.map((s: { labels: unknown }) => s.labels), [{ mount: "/home" }]);
    });
    await t.step("a label filter matches series with more labels, each once", async () => {
      env.ingest(series("web-1", "disk.used_percent", { mount: "/", device: "sda1" }, START_MS, 2));
      const body = await getJson(app, "/api/v1/metrics?metric=disk.used_percent&label.mount=/");
      assert.deepEqual(
        body.series.map((s: { labels: unknown; points: unknown[] }) => [s.labels, s.points.length]),
        [[{ device: "sda1", mount: "/" }, 2], [{ mount: "/" }, 361]],
      );
    });
    await t.step("from and to in RFC 3339 with an offset, and in Unix ms", async () => {
      const from = "2026-01-15T12:29:30+01:00"; // 11:29:30Z, 30 s before START_MS - 30 min
      const viaRfc = await getJson(
        app,
        `/api/v1/metrics?metric=cpu.usage&from=${encodeURIComponent(from)}&to=${
          START_MS - 1_800_000
        }`,
      );
      assert.deepEqual(viaRfc.series[0].points.map((p: { value: number }) => p.value), [
        537,
        538,
        539,
        540,
      ]);
      assert.equal(viaRfc.from, "2026-01-15T11:29:30.000Z");
    });
    await t.step("a range without samples gives no series", async () => {
      const body = await getJson(app, "/api/v1/metrics?metric=cpu.usage&from=0&to=1000");
      assert.deepEqual(body.series, []);
      // The widest range RFC 3339 can write still answers, with every sample of the series.
      const all = await getJson(app, "/api/v1/metrics?metric=cpu.usage&from=0&to=253402300799999");
      assert.equal(all.series[0].points.length, 721);
    });
  });
});

Deno.test("metrics with step returns avg, min and max per bucket", async (t) => {
  await withEnv(async (env, app) => {
    env.ingest(series("web-1", "cpu.usage", {}, START_MS, 361)); // values 0..360 over the hour
    for (const step of ["600", "10m"]) {
      await t.step(`step=${step}`, async () => {
        const body = await getJson(
          app,
          `/api/v1/metrics?agent=web-1&metric=cpu.usage&step=${step}`,
        );
        assert.equal(body.step_secs, 600);
        const points = body.series[0].points;
        assert.equal(points.length, 7); // six full buckets and the inclusive end
        assert.deepEqual(points[0], {
          timestamp: new Date(START_MS - 3_600_000).toISOString(),
          avg: 29.5,
          min: 0,
          max: 59,
          count: 60,
        });
        assert.deepEqual(points[6], {
          timestamp: new Date(START_MS).toISOString(),
          avg: 360,
          min: 360,
          max: 360,
          count: 1,
        });
      });
    }
  });
});

Deno.test("metrics buckets start at multiples of the step whatever from is", async () => {
  await withEnv(async (env, app) => {
    env.ingest(series("web-1", "cpu.usage", {}, START_MS, 361));
    for (const offsetMs of [0, 7_000, 59_000]) {
      const from = START_MS - 30 * 60_000 + offsetMs;
      const body = await getJson(
        app,
        `/api/v1/metrics?agent=web-1&metric=cpu.usage&step=1m&from=${from}&to=${START_MS}`,
      );
      assert.equal(body.from, new Date(START_MS - 30 * 60_000).toISOString());
      const stamps = body.series[0].points.map((p: { timestamp: string }) =>
        Date.parse(p.timestamp)
      );
      assert.equal(stamps.length, 31);
      assert.ok(stamps.every((ms: number) => ms % 60_000 === 0), String(stamps));
      assert.equal(body.series[0].points[0].count, 6, "the first bucket is whole");
    }
  });
});

Deno.test("metrics rounds a step up to the finest rollup when from is older than raw data", async () => {
  await withEnv(async (env, app) => {
    env.ingest(series("web-1", "cpu.usage", {}, START_MS, 361));
    const ask = async (from: number, step: string) =>
      (await getJson(app, `/api/v1/metrics?agent=web-1&from=${from}&step=${step}`)).step_secs;
    const old = START_MS - 20 * 86_400_000;
    assert.equal(await ask(old, "7m"), 600, "7 min beyond raw retention: 10 min");
    assert.equal(await ask(old, "15m"), 900, "a multiple of 5 min stays");
    assert.equal(await ask(START_MS - 3_600_000, "7m"), 420, "within raw retention it stays");
  }, { rollups: { rawRetentionDays: 15, finestMs: 300_000 } });
});

Deno.test("metrics refuses bad parameters with a 400 naming them", async (t) => {
  await withEnv(async (env, app) => {
    env.ingest(series("web-1", "cpu.usage", {}, START_MS, 10));
    const cases: [string, RegExp][] = [
      [
        "agnet=web-1",
        /"agnet": unknown parameter "agnet"; expected agent, metric, from, to, step, label\.<name>/,
      ],
      ["mount=/", /"mount": unknown parameter/],
      ["agent=web-1&agent=db-1", /"agent": given more than once/],
      ["agent=", /"agent": must not be empty/],
      ["from=yesterday", /"from": expected RFC 3339/],
      ["to=2026-13-01T00:00:00Z", /"to": expected RFC 3339/],
      [`from=${START_MS}&to=${START_MS - 1}`, /"from": must not be after "to"/],
      ["step=abc", /"step": expected a duration/],
      ["step=-5", /"step":/],
      ["step=1s&from=0", /"step": 1s makes \d+ buckets .* limit of 10000/],
      ["label.=x", /"label\.":/],
    ];
    for (const [query, pattern] of cases) {
      await t.step(
        query,
        () => assertError(app, `/api/v1/metrics?${query}`, 400, "bad_request", pattern),
      );
    }
    await t.step("an unknown agent is a 404", async () => {
      await assertError(app, "/api/v1/metrics?agent=ghost", 404, "not_found", /agent "ghost"/);
    });
  });
});

Deno.test("metrics refuses answers above the point limit instead of truncating them", async () => {
  await withEnv(async (env, app) => {
    env.ingest(["a", "b", "c"].flatMap((agent) => series(agent, "cpu.usage", {}, START_MS, 30)));
    await getJson(app, "/api/v1/metrics?agent=a");
    let seriesQueried = 0;
    const queryRaw = env.store.queryRaw.bind(env.store);
    env.store.queryRaw = (query) => {
      seriesQueried++;
      return queryRaw(query);
    };
    await assertError(
      app,
      "/api/v1/metrics",
      400,
      "bad_request",
      /more than 50 points \(the limit\) in 3 series/,
    );
    assert.equal(seriesQueried, 2, "stops reading at the series that crosses the limit");
    await getJson(app, "/api/v1/metrics?step=60");
  }, { limits: { maxPoints: 50 } });
});

Deno.test("metrics/series and metrics/names list what is known for an agent", async () => {
  await withEnv(async (env, app) => {
    env.ingest([
      ...series("web-1", "disk.used_percent", { mount: "/" }, START_MS, 1),
      ...series("web-1", "cpu.usage", {}, START_MS, 1),
      ...series("db-1", "memory.used", {}, START_MS, 1),
    ]);
    assert.deepEqual(await getJson(app, "/api/v1/metrics/names?agent=web-1"), {
      names: ["cpu.usage", "disk.used_percent"],
    });
    assert.deepEqual(await getJson(app, "/api/v1/metrics/series?metric=disk.used_percent"), {
      total: 1,
      limit: 1000,
      offset: 0,
      series: [{
        agent_id: "web-1",
        metric: "disk.used_percent",
        labels: { mount: "/" },
        unit: "percent",
      }],
    });
    assert.equal((await getJson(app, "/api/v1/metrics/series")).series.length, 3);
    // Pages: no answer grows with the number of series.
    const page = await getJson(app, "/api/v1/metrics/series?limit=2&offset=1");
    assert.deepEqual([page.total, page.series.length], [3, 2]);
    await assertError(app, "/api/v1/metrics/names?agent=ghost", 404, "not_found", /ghost/);
    await assertError(app, "/api/v1/metrics/names?metric=x", 400, "bad_request", /"metric"/);
  });
});

Deno.test("metrics/latest answers the newest sample of every matching series across agents", async () => {
  await withEnv(async (env, app) => {
    const check = (name: string) => ({ check: name, target: `127.0.0.1:${name.length}` });
    env.ingest([
      ...series("oxmon-server", "check.up", check("db"), START_MS - 20_000, 3),
      ...series("oxmon-server", "check.up", check("web"), START_MS, 2),
      ...series("oxmon-server", "check.duration_seconds", check("web"), START_MS, 2),
      ...series("web-1", "check.up", check("api"), START_MS - 5_000, 4),
      ...series("web-1", "cpu.usage", {}, START_MS, 3),
    ]);
    const body = await getJson(app, "/api/v1/metrics/latest?metric=check.up");
    assert.deepEqual(body.series, [
      {
        agent_id: "oxmon-server",
        metric: "check.up",
        labels: check("db"),
        unit: "boolean",
        timestamp: new Date(START_MS - 20_000).toISOString(),
        value: 2,
      },
      {
        agent_id: "oxmon-server",
        metric: "check.up",
        labels: check("web"),
        unit: "boolean",
        timestamp: new Date(START_MS).toISOString(),
        value: 1,
      },
      {
        agent_id: "web-1",
        metric: "check.up",
        labels: check("api"),
        unit: "boolean",
        timestamp: new Date(START_MS - 5_000).toISOString(),
        value: 3,
      },
    ]);
    const one = await getJson(app, "/api/v1/metrics/latest?agent=oxmon-server&label.check=web");
    assert.deepEqual(
      one.series.map((s: { metric: string; unit: string }) => [s.metric, s.unit]),
      [["check.duration_seconds", "seconds"], ["check.up", "boolean"]],
    );
    assert.deepEqual((await getJson(app, "/api/v1/metrics/latest?metric=nope")).series, []);
    await assertError(app, "/api/v1/metrics/latest?agent=ghost", 404, "not_found", /ghost/);
    await assertError(app, "/api/v1/metrics/latest?step=1", 400, "bad_request", /"step"/);
  });
});

Deno.test("unknown routes and methods get a JSON 404; API answers are not cached", async () => {
  await withEnv(async (_env, app) => {
    await assertError(app, "/api/v1/nope", 404, "not_found", /GET \/api\/v1\/nope/);
    await assertError(app, "/api/v2/health", 404, "not_found", /\/api\/v2\/health/);
    const post = await app.request("/api/v1/health", { method: "POST" });
    assert.equal(post.status, 404);
    assert.equal((await post.json()).code, "not_found");
    const ok = await app.request("/api/v1/agents");
    await ok.body?.cancel();
    assert.equal(ok.headers.get("cache-control"), "no-store");
  });
});

Deno.test("an unexpected failure is a 500 without internals, logged with its cause", async () => {
  const log = memoryLogger();
  await withEnv(async (env, app) => {
    env.ingest(series("web-1", "cpu.usage", {}, START_MS, 1));
    env.store.queryRaw = () => {
      throw new Error("SQLITE_CORRUPT: database disk image is malformed at /secret/path");
    };
    const body = await getJson(app, "/api/v1/metrics?agent=web-1", 500);
    assert.deepEqual(body, { error: "Internal server error", code: "internal" });
    const line = log.lines.find((l) => l.includes("api request failed"));
    assert.ok(
      line?.includes("SQLITE_CORRUPT") && line.includes("path=/api/v1/metrics"),
      String(line),
    );
  }, { log });
});

Deno.test("mounted sub-apps live under /api/v1/<key> and share the error format", async (t) => {
  const get = (path: string, handler: RouteSpec["handler"]): RouteSpec => ({
    method: "get",
    path,
    summary: path,
    responses: { 200: "ok" },
    handler,
  });
  const alerts = routeApp([
    get("/active", (c) => c.json({ active: [] })),
    get("/history", () => {
      throw badParameter("limit", 'expected an integer from 1 to 1000, got "x"');
    }),
    get("/gone", () => {
      throw new ApiError("not_found", 'Unknown alert "x"');
    }),
  ]);
  await withEnv(async (_env, app) => {
    assert.deepEqual(await getJson(app, "/api/v1/alerts/active"), { active: [] });
    await assertError(app, "/api/v1/alerts/history?limit=x", 400, "bad_request", /"limit"/);
    await assertError(app, "/api/v1/alerts/gone", 404, "not_found", /alert "x"/);
    await assertError(app, "/api/v1/alerts/nope", 404, "not_found", /alerts\/nope/);
  }, { mounts: { alerts } });
  await t.step("a mount may not shadow a built-in route or be oddly named", async () => {
    const env = await openTestEnv();
    for (const key of ["metrics", "Alerts", "a/b", ""]) {
      assert.throws(() => createApiApp({ ...env.deps, mounts: { [key]: new Hono() } }), TypeError);
    }
    await env.close();
  });
  await t.step("a sub-app of undeclared routes is refused, naming them", async () => {
    const env = await openTestEnv();
    const undeclared = new Hono().get("/x", (c) => c.text("x"));
    assert.throws(
      () => createApiApp({ ...env.deps, mounts: { extra: undeclared } }),
      /routeApp\(\).*not declared: GET \/api\/v1\/extra\/x/,
    );
    await env.close();
  });
});
