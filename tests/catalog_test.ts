/**
 * The metric catalogue against what really writes samples: the checks' result points and the
 * certificate checker's points must name catalogue metrics with the catalogue's labels, and
 * every check metric of the catalogue must be written by one of them. (The host half is held
 * against the agent's metric set by tests/bench/synthetic_test.ts.)
 */
import assert from "node:assert/strict";
import { AGENT_METRICS, CHECK_METRICS, HOST_METRICS, METRIC_CATALOG } from "../shared/catalog.ts";
import { type CheckResult, checkResultPoints } from "../shared/checks/mod.ts";
import type { MetricDataPoint } from "../shared/types.ts";
import { certPoints } from "../server/certs/checker.ts";
import { formatValue } from "../dashboard/format.ts";

function assertCatalogued(points: MetricDataPoint[]) {
  for (const point of points) {
    const info = CHECK_METRICS[point.metricName];
    assert.ok(info, `${point.metricName} is in CHECK_METRICS`);
    const names = Object.keys(point.labels);
    for (const label of info.labels) {
      assert.ok(names.includes(label), `${point.metricName} ${label}`);
    }
    const allowed = [...info.labels, ...info.optionalLabels ?? []];
    for (const name of names) {
      assert.ok(allowed.includes(name), `${point.metricName} carries an uncatalogued ${name}`);
    }
  }
}

Deno.test("every sample checks and the certificate checker write is a catalogued check metric", () => {
  const http: CheckResult = {
    name: "api",
    type: "http",
    target: "https://api.example/health",
    timestampMs: 1_700_000_000_000,
    up: true,
    durationMs: 12.5,
    message: "200 OK",
    statusCode: 200,
    certificateDaysLeft: 40,
  };
  const heartbeat: CheckResult = {
    name: "backup",
    type: "heartbeat",
    target: "heartbeat",
    timestampMs: 1_700_000_000_000,
    up: false,
    durationMs: 0,
    message: "late",
  };
  const cert = (port: number) => ({
    domainId: "d1",
    domain: "example.com",
    port,
    checkedMs: 1_700_000_000_000,
    durationMs: 30,
    isValid: false,
    chainValid: true,
    daysUntilExpiry: -2,
    error: "expired",
    certificate: null,
  });
  const points = [
    ...checkResultPoints(http, "oxmon-server"),
    ...checkResultPoints(heartbeat, "web-1"),
    ...certPoints(cert(443)),
    ...certPoints(cert(8443)),
  ];
  assertCatalogued(points);
  assert.deepEqual(
    new Set(points.map((point) => point.metricName)),
    new Set(Object.keys(CHECK_METRICS)),
    "no check metric in the catalogue is left unwritten",
  );
});

Deno.test("host, agent and check metrics are apart, and each has a unit the dashboard formats", () => {
  for (const name of Object.keys(HOST_METRICS)) {
    assert.ok(!/^(check|certificate|agent)\./.test(name), `${name} is a host metric`);
    assert.equal(CHECK_METRICS[name], undefined, name);
    assert.equal(AGENT_METRICS[name], undefined, name);
  }
  for (const name of Object.keys(AGENT_METRICS)) assert.match(name, /^agent\./);
  assert.equal(
    Object.keys(METRIC_CATALOG).length,
    Object.keys(HOST_METRICS).length + Object.keys(AGENT_METRICS).length +
      Object.keys(CHECK_METRICS).length,
  );
  for (const [name, { unit }] of Object.entries(METRIC_CATALOG)) {
    if (unit === "") continue;
    assert.notEqual(formatValue(1, unit), formatValue(1, ""), `the dashboard shows ${name}'s unit`);
  }
  assert.equal(METRIC_CATALOG["check.up"].unit, "boolean");
  assert.equal(METRIC_CATALOG["agent.collector_success"].unit, "boolean");
  assert.equal(METRIC_CATALOG["agent.collector_duration_seconds"].unit, "seconds");
  assert.equal(METRIC_CATALOG["check.duration_seconds"].unit, "seconds");
  assert.equal(METRIC_CATALOG["certificate.days_until_expiry"].unit, "days");
});
