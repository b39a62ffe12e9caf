/**
 * End to end through the real server: `[cert_check]` watches a local HTTPS server whose
 * certificate expires in 5 days, `[[checks]]` probe that server, a TCP port and wait for a
 * heartbeat; every result lands in storage as samples, rules on them fire and their webhooks
 * arrive at a real HTTP server; then the targets recover and the resolved notices arrive.
 */
import assert from "node:assert/strict";
import { makeTestPki } from "./helpers/pki.ts";
import { startHttpSink } from "./helpers/http_sink.ts";
import { eventually, startTestServer } from "./helpers/server_process.ts";
import { listenTcp, serveHttps } from "./helpers/check_targets.ts";

interface Hook {
  rule: string;
  status: string;
  severity: string;
  labels: string;
  value: number;
}

Deno.test("certificates, checks and heartbeats run by the server fire rules whose webhooks arrive, then resolve", async () => {
  const dir = await Deno.makeTempDir({ prefix: "oxmon-checks-e2e-" });
  const pki = await makeTestPki();
  const webhook = await startHttpSink();
  let https = serveHttps(pki.expiresIn5Days);
  const tcp = listenTcp();
  let tcpAgain: ReturnType<typeof listenTcp> | undefined;
  const token = "backup-0123456789abcdef";
  const server = await startTestServer(
    `${dir}/data`,
    `
[cert_check]
tick_secs = 1
connect_timeout_secs = 2
ca_file = "${pki.caFile}"

[[cert_check.domains]]
domain = "localhost"
port = ${https.port}

[[checks]]
name = "web"
type = "http"
url = "https://localhost:${https.port}/health"
tls_ca_file = "${pki.caFile}"
body_contains = "ok"
interval_secs = 1

[[checks]]
name = "db"
type = "tcp"
host = "127.0.0.1"
port = ${tcp.port}
interval_secs = 1

[[checks]]
name = "backup"
type = "heartbeat"
token = "${token}"
interval_secs = 1
grace_secs = 1

[[alert.rules]]
name = "cert-expiry"
type = "cert_expiration"
agent_pattern = "cert-checker"
warning_days = 30
critical_days = 7

[[alert.rules]]
name = "check-down"
type = "check_failed"
consecutive_failures = 2
silence_secs = 3600

[[notification.channels]]
type = "webhook"
url = "${webhook.url}/hook"
body_template = '{"rule": "{{rule}}", "status": "{{status}}", "severity": "{{severity}}", "labels": "{{labels}}", "value": {{value}}}'
`,
  );
  const hooks = () => webhook.requests.map((request) => JSON.parse(request.body) as Hook);
  const hookArrived = (rule: string, status: string, labels: string) =>
    eventually(
      () =>
        hooks().some((h) => h.rule === rule && h.status === status && h.labels.includes(labels)),
      `${rule} ${status} ${labels}`,
    );
  const ping = async (path = "") => {
    const response = await fetch(`${server.apiUrl}/api/v1/heartbeat/${token}${path}`, {
      method: "POST",
    });
    return { status: response.status, body: await response.json() };
  };
  try {
    // The certificate expires in 5 days: critical.
    await hookArrived("cert-expiry", "firing", `domain=localhost`);
    const certHook = hooks().find((h) => h.rule === "cert-expiry")!;
    assert.deepEqual([certHook.severity, certHook.value], ["critical", 5]);
    assert.equal(certHook.labels, `domain=localhost,port=${https.port}`);
    const status = await server.getJson("/api/v1/certs/status");
    const [cert] = status.body.results as Record<string, unknown>[];
    assert.deepEqual([cert.domain, cert.days_until_expiry, cert.is_valid, cert.error], [
      "localhost",
      5,
      true,
      null,
    ]);
    assert.equal(cert.issuer, "CN=oxmon Test Root, O=oxmon tests");

    assert.deepEqual(await ping(), { status: 200, body: { ok: true, check: "backup", up: true } });
    assert.equal((await ping("/../nope")).status, 404);

    // The http check's samples: up, status 200, the certificate's days left.
    await eventually(async () => {
      const latest = await server.getJson(
        "/api/v1/metrics?agent=oxmon-server&label.check=web&from=0",
      );
      if (latest.status !== 200) return false;
      const names = (latest.body.series as { metric: string }[]).map((s) => s.metric).sort();
      return names.join() ===
        "check.certificate_days_until_expiry,check.duration_seconds,check.status_code,check.up";
    }, "the web check's samples");
    const web = await server.getJson("/api/v1/metrics?agent=oxmon-server&label.check=web&from=0");
    const value = (metric: string) =>
      (web.body.series as {
        metric: string;
        labels: Record<string, string>;
        points: { value: number }[];
      }[])
        .find((s) => s.metric === metric)!;
    assert.deepEqual(value("check.up").labels, {
      check: "web",
      target: `https://localhost:${https.port}/health`,
    });
    assert.equal(value("check.up").points.at(-1)!.value, 1);
    assert.equal(value("check.status_code").points.at(-1)!.value, 200);
    assert.equal(value("check.certificate_days_until_expiry").points.at(-1)!.value, 5);

    // The TCP port closes and the heartbeat stops: both checks fail and page.
    await tcp.close();
    await hookArrived("check-down", "firing", "check=db");
    await hookArrived("check-down", "firing", "check=backup");
    const checks = await server.getJson("/api/v1/checks");
    const byName = new Map((checks.body.checks as { name: string }[]).map((c) => [c.name, c]));
    assert.match(JSON.stringify(byName.get("db")), /"up":false.*"message":"connection refused"/);
    assert.match(JSON.stringify(byName.get("backup")), /"message":"no ping since/);

    // Both come back; the certificate is renewed and checked on request.
    tcpAgain = listenTcp(tcp.port);
    assert.equal((await ping()).body.up, true);
    await hookArrived("check-down", "resolved", "check=db");
    await hookArrived("check-down", "resolved", "check=backup");
    await https.stop();
    https = serveHttps(pki.valid, https.port);
    const domains = await server.getJson("/api/v1/certs/domains");
    const [domain] = domains.body.domains as { id: string }[];
    const checked = await fetch(`${server.apiUrl}/api/v1/certs/domains/${domain.id}/check`, {
      method: "POST",
    });
    assert.equal((await checked.json()).days_until_expiry, 89);
    await hookArrived("cert-expiry", "resolved", "domain=localhost");
  } finally {
    await server.stop();
    await https.stop();
    await tcp.close();
    await tcpAgain?.close();
    await webhook.close();
    await pki.remove();
    await Deno.remove(dir, { recursive: true });
  }
});
