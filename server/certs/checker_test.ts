import assert from "node:assert/strict";
import { join } from "node:path";
import { ManualClock } from "../../shared/clock.ts";
import { silentLogger } from "../../shared/log.ts";
import { MS_PER_DAY } from "../../shared/time.ts";
import type { MetricDataPoint } from "../../shared/types.ts";
import { type CertPair, makeTestPki } from "../../tests/helpers/pki.ts";
import { CERT_AGENT_ID, CertChecker } from "./checker.ts";
import type { CertCheckConfig } from "./config.ts";
import { openCertStore } from "./store.ts";

const CONFIG: CertCheckConfig = {
  enabled: true,
  defaultIntervalSecs: 86_400,
  tickSecs: 60,
  connectTimeoutSecs: 2,
  maxConcurrent: 3,
  domains: [],
};

function serveTls(pair: CertPair) {
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, cert: pair.cert, key: pair.key, onListen() {} },
    () => new Response("ok"),
  );
  return { port: server.addr.port, stop: () => server.shutdown() };
}

Deno.test("each kind of certificate is stored with why it is (not) valid, its details and the original's samples", async () => {
  const pki = await makeTestPki();
  const dir = await Deno.makeTempDir({ prefix: "oxmon-certs-" });
  const store = openCertStore(join(dir, "certs.db"));
  const servers = {
    valid: serveTls(pki.valid),
    expired: serveTls(pki.expired),
    soon: serveTls(pki.expiresIn5Days),
    wrongHost: serveTls(pki.wrongHost),
    selfSigned: serveTls(pki.selfSigned),
    incomplete: serveTls(pki.incompleteChain),
    fullChain: serveTls(pki.fullChain),
  };
  const closed = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const closedPort = closed.addr.port;
  closed.close();
  const nowMs = Date.now();
  const clock = new ManualClock(nowMs);
  const committed: MetricDataPoint[] = [];
  const checker = new CertChecker({
    store,
    config: CONFIG,
    clock,
    log: silentLogger,
    commit: (points) => committed.push(...points),
    extraCaCerts: [pki.caPem],
  });
  try {
    const ports = Object.fromEntries(Object.entries(servers).map(([k, s]) => [k, s.port]));
    store.addDomains(
      [...Object.values(ports), closedPort].map((port) => ({
        domain: "localhost",
        port,
        checkIntervalSecs: null,
        note: null,
      })),
      nowMs,
    );
    assert.equal(await checker.tick(nowMs), 8, "every new domain is due");
    const byPort = new Map(store.latestResults().map((r) => [r.port, r]));
    const result = (name: keyof typeof servers) => byPort.get(ports[name])!;

    const valid = result("valid");
    assert.deepEqual(
      [valid.isValid, valid.chainValid, valid.error, valid.daysUntilExpiry],
      [true, true, null, 89],
    );
    const cert = valid.certificate!;
    assert.equal(cert.subject, "CN=localhost");
    assert.equal(cert.issuer, "CN=oxmon Test Root, O=oxmon tests");
    assert.deepEqual(cert.subjectAltNames, ["localhost", "127.0.0.1"]);
    assert.equal(cert.notAfterMs, pki.valid.notAfterMs);
    assert.equal(cert.keyType, "ec");
    assert.equal(cert.keyBits, 256);
    assert.match(cert.fingerprintSha256, /^([0-9A-F]{2}:){31}[0-9A-F]{2}$/);
    assert.match(cert.serialNumber, /^[0-9A-F]+$/);
    assert.equal(cert.tlsVersion, "TLSv1.3");
    assert.ok(cert.resolvedAddresses.includes("127.0.0.1"));
    assert.deepEqual(cert.chain, ["CN=localhost", "CN=oxmon Test Root, O=oxmon tests"]);

    const expired = result("expired");
    assert.deepEqual([expired.isValid, expired.daysUntilExpiry], [false, -2]);
    assert.match(expired.error!, /^certificate expired 2 days ago/);

    const soon = result("soon");
    assert.deepEqual([soon.isValid, soon.daysUntilExpiry], [true, 5]);

    const wrongHost = result("wrongHost");
    assert.deepEqual([wrongHost.isValid, wrongHost.chainValid], [false, true]);
    assert.equal(wrongHost.certificate!.hostnameValid, false);
    assert.match(
      wrongHost.error!,
      /host name does not match the certificate \(DNS:other\.example\)/,
    );

    const selfSigned = result("selfSigned");
    assert.deepEqual([selfSigned.isValid, selfSigned.chainValid], [false, false]);
    assert.match(selfSigned.error!, /^self-signed certificate/);
    assert.deepEqual([selfSigned.certificate!.keyType, selfSigned.certificate!.keyBits], [
      "rsa",
      2048,
    ]);

    const incomplete = result("incomplete");
    assert.deepEqual([incomplete.isValid, incomplete.chainValid], [false, false]);
    assert.match(
      incomplete.error!,
      /incomplete or untrusted chain: nothing trusted issued "CN=oxmon Test Intermediate"/,
    );
    const full = result("fullChain");
    assert.deepEqual([full.isValid, full.certificate!.chain.length], [true, 3]);

    const refused = byPort.get(closedPort)!;
    assert.deepEqual([refused.isValid, refused.daysUntilExpiry, refused.certificate], [
      false,
      null,
      null,
    ]);
    assert.match(refused.error!, /connection refused/);

    // The original's samples: agent cert-checker, label domain (+ port, not being 443).
    const days = committed.filter((p) => p.metricName === "certificate.days_until_expiry");
    const valids = committed.filter((p) => p.metricName === "certificate.is_valid");
    assert.equal(valids.length, 8);
    assert.equal(days.length, 7, "no days without a certificate");
    assert.ok(committed.every((p) => p.agentId === CERT_AGENT_ID && p.timestampMs === nowMs));
    assert.deepEqual(
      days.find((p) => p.labels.port === String(ports.soon)),
      {
        agentId: "cert-checker",
        metricName: "certificate.days_until_expiry",
        labels: { domain: "localhost", port: String(ports.soon) },
        timestampMs: nowMs,
        value: 5,
      },
    );
    assert.equal(valids.find((p) => p.labels.port === String(ports.wrongHost))!.value, 0);

    // Not due again until the interval has passed; then a second result joins the history.
    assert.equal(await checker.tick(nowMs + 1000), 0);
    clock.set(nowMs + MS_PER_DAY);
    const soonDomain = store.domainsNamed("localhost").find((d) => d.port === ports.soon)!;
    assert.equal(await checker.tick(nowMs + MS_PER_DAY), 8);
    const history = store.history(soonDomain.id, 10, 0);
    assert.equal(history.total, 2);
    assert.deepEqual(history.results.map((r) => r.daysUntilExpiry), [4, 5], "newest first");
  } finally {
    await checker.stop();
    store.close();
    for (const server of Object.values(servers)) await server.stop();
    await pki.remove();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a handshake that never completes fails with a timeout, and max_concurrent bounds the handshakes", async () => {
  const dir = await Deno.makeTempDir({ prefix: "oxmon-certs-" });
  const store = openCertStore(join(dir, "certs.db"));
  // Three ports that accept TCP connections and never answer the TLS client hello.
  const held: Deno.Conn[] = [];
  const silent = [0, 1, 2].map(() => Deno.listen({ hostname: "127.0.0.1", port: 0 }));
  const accepting = silent.map(async (listener) => {
    for await (const conn of listener) held.push(conn);
  });
  const checker = new CertChecker({
    store,
    config: { ...CONFIG, connectTimeoutSecs: 1, maxConcurrent: 2 },
    clock: new ManualClock(Date.now()),
    log: silentLogger,
    commit: () => {},
  });
  try {
    const domains = store.addDomains(
      silent.map((listener) => ({
        domain: "localhost",
        port: listener.addr.port,
        checkIntervalSecs: null,
        note: null,
      })),
      Date.now(),
    );
    const started = performance.now();
    const results = await checker.checkMany(domains);
    const ms = performance.now() - started;
    for (const result of results) {
      assert.match(result.error!, /TLS handshake with localhost:\d+ timed out after 1000 ms/);
      assert.equal(result.isValid, false);
    }
    assert.ok(ms >= 1_900 && ms < 3_000, `3 handshakes, 2 at a time, 1 s each: ${ms} ms`);
  } finally {
    await checker.stop();
    for (const listener of silent) listener.close();
    await Promise.allSettled(accepting);
    for (const conn of held) conn.close();
    store.close();
    await Deno.remove(dir, { recursive: true });
  }
});
