/** The checks page's rows (dashboard/checks_model.ts), without a browser. */
import assert from "node:assert/strict";
import {
  certRows,
  checkRows,
  type CheckSources,
  expiryThresholds,
  sameRuns,
  typeOfTarget,
} from "../dashboard/checks_model.ts";
import type { CertDomain, CertResult, LatestAnswer, ServerCheck } from "../dashboard/types.ts";

const T = Date.UTC(2026, 10, 30, 12);
const iso = (ms: number) => new Date(ms).toISOString();

function sample(
  agent: string,
  metric: string,
  check: string,
  target: string,
  value: number,
  atMs = T,
): LatestAnswer["series"][number] {
  return {
    agent_id: agent,
    metric,
    labels: { check, target },
    unit: "",
    timestamp: iso(atMs),
    value,
  };
}

function serverCheck(name: string, target: string, last: ServerCheck["last_result"]): ServerCheck {
  return {
    name,
    type: typeOfTarget(target),
    target,
    from: "server",
    interval_secs: 30,
    next_run_at: iso(T + 30_000),
    up: last?.up ?? null,
    last_result: last,
  };
}

const none = { up: [], duration: [], statusCode: [], certificateDays: [] };

Deno.test("checkRows: down first, then stale, waiting and up; each from its best source", () => {
  const sources: CheckSources = {
    serverChecks: [
      serverCheck("web", "https://web.example/", {
        check: "web",
        type: "http",
        target: "https://web.example/",
        up: true,
        message: "200 OK",
        duration_ms: 12,
        status_code: 200,
        certificate_days_left: 40,
        answers: null,
        at: iso(T),
      }),
      // Not run since the server started: its last result comes from storage.
      serverCheck("db", "10.0.0.5:5432", null),
      serverCheck("new", "10.0.0.6:22", null),
    ],
    latest: {
      ...none,
      up: [
        sample("oxmon-server", "check.up", "web", "https://web.example/", 1),
        sample("oxmon-server", "check.up", "db", "10.0.0.5:5432", 0, T - 60_000),
        sample("oxmon-server", "check.up", "gone", "10.0.0.9:80", 1),
        sample("web-1", "check.up", "api", "http://127.0.0.1/health", 1),
        sample("web-2", "check.up", "mx", "example.com MX @10.0.0.53:53", 1),
      ],
      duration: [
        sample("oxmon-server", "check.duration_seconds", "db", "10.0.0.5:5432", 0.5, T - 60_000),
        // An older run's duration is not the last run's.
        sample("web-1", "check.duration_seconds", "api", "http://127.0.0.1/health", 0.2, T - 1),
      ],
      statusCode: [sample("web-1", "check.status_code", "api", "http://127.0.0.1/health", 204)],
    },
    agents: [{ agent_id: "web-1", status: "active" }, { agent_id: "web-2", status: "inactive" }],
  };
  const rows = checkRows(sources);
  assert.deepEqual(
    rows.map((row) => [row.name, row.agentId, row.type, row.state]),
    [
      ["db", "oxmon-server", "tcp", "down"],
      ["gone", "oxmon-server", "tcp", "stale"],
      ["mx", "web-2", "dns", "stale"],
      ["new", "oxmon-server", "tcp", "waiting"],
      ["api", "web-1", "http", "up"],
      ["web", "oxmon-server", "http", "up"],
    ],
  );
  const row = (name: string) => rows.find((one) => one.name === name)!;
  assert.deepEqual(
    [row("db").durationSecs, row("db").lastAtMs, row("db").message],
    [0.5, T - 60_000, "the last result from before the server started"],
  );
  assert.equal(row("gone").message, "no longer in the server's config");
  assert.equal(row("mx").message, "the agent is inactive: no newer results");
  assert.deepEqual([row("api").statusCode, row("api").durationSecs], [204, null]);
  assert.deepEqual(
    [row("web").statusCode, row("web").durationSecs, row("web").certificateDays],
    [200, 0.012, 40],
  );
  assert.equal(row("new").nextAtMs, T + 30_000);
  // Without the server's list, its stored checks are shown as they last were.
  const withoutServer = checkRows({ ...sources, serverChecks: undefined });
  assert.equal(withoutServer.find((one) => one.name === "gone")!.state, "up");
});

Deno.test("sameRuns: two readings of check.up agree only when no check ran in between", () => {
  const api = (atMs: number) =>
    sample("web-1", "check.up", "api", "http://127.0.0.1/health", 1, atMs);
  const db = sample("oxmon-server", "check.up", "db", "10.0.0.5:5432", 0);
  assert.ok(sameRuns([db, api(T)], [api(T), db]), "the same runs, in another order");
  assert.ok(!sameRuns([db, api(T)], [db, api(T + 1_000)]), "api ran again");
  assert.ok(!sameRuns([db], [db, api(T)]), "api's first run");
  assert.ok(
    !sameRuns([db, api(T)], [db, { ...api(T), labels: { check: "api", target: "http://x/" } }]),
    "api's target changed: another row",
  );
  assert.ok(sameRuns([], []));
});

function domain(id: string, port: number, enabled = true): CertDomain {
  return {
    id,
    domain: "example.com",
    port,
    enabled,
    check_interval_secs: null,
    note: null,
    source: "config",
    last_checked_at: null,
    created_at: iso(T),
    updated_at: iso(T),
  };
}

function result(domainId: string, days: number | null, valid: boolean, error: string | null) {
  return { domain_id: domainId, days_until_expiry: days, is_valid: valid, error } as CertResult;
}

Deno.test("certRows: invalid, expiring soonest, unchecked, valid, disabled", () => {
  const thresholds = expiryThresholds([
    { name: "cert", type: "cert_expiration", severity: "warning", warning_days: 21 },
    { name: "cert-2", type: "cert_expiration", severity: "warning", critical_days: 3 },
    { name: "cpu", type: "threshold", severity: "critical", warning_days: 99 },
  ]);
  assert.deepEqual(thresholds, { warningDays: 30, criticalDays: 7 });
  const rows = certRows(
    [
      domain("a", 443),
      domain("b", 8443),
      domain("c", 9443),
      domain("d", 10443),
      domain("e", 11443, false),
      domain("f", 12443),
    ],
    [
      result("a", 80, true, null),
      result("b", 20, true, null),
      result("c", -2, false, "certificate expired 2 days ago"),
      result("d", 5, true, null),
      result("e", 1, false, "self-signed certificate"),
    ],
    thresholds,
  );
  assert.deepEqual(
    rows.map((row) => [row.domain.id, row.state, row.urgency, row.reason]),
    [
      ["c", "invalid", "critical", "certificate expired 2 days ago"],
      ["d", "expiring", "critical", "expires in 5 days"],
      ["b", "expiring", "warning", "expires in 20 days"],
      ["f", "unchecked", null, "not checked yet"],
      ["a", "valid", null, ""],
      ["e", "disabled", null, "checks are disabled"],
    ],
  );
  assert.deepEqual(expiryThresholds([]), { warningDays: 30, criticalDays: 7 });
});
