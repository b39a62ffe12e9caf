import assert from "node:assert/strict";
import { startDnsmasq } from "../../tests/helpers/dnsmasq.ts";
import { runDnsCheck } from "./dns.ts";
import type { DnsCheckSpec, TcpCheckSpec } from "./spec.ts";
import { runTcpCheck } from "./tcp.ts";

const base = { name: "t", intervalSecs: 60, timeoutSecs: 5 };
const signal = new AbortController().signal;

Deno.test("tcp check: up while the port listens, down with 'connection refused' once it closes", async () => {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const spec: TcpCheckSpec = { ...base, type: "tcp", host: "127.0.0.1", port: listener.addr.port };
  const accepted = listener.accept().then((conn) => conn.close());
  const up = await runTcpCheck(spec, { signal });
  await accepted;
  assert.equal(up.up, true);
  assert.ok(up.durationMs >= 0 && up.durationMs < 1_000);
  listener.close();
  const down = await runTcpCheck(spec, { signal });
  assert.deepEqual([down.up, down.message], [false, "connection refused"]);
});

Deno.test("dns check against dnsmasq: answers, expected values, missing names", async () => {
  const dns = await startDnsmasq({
    hosts: { "app.test": "10.1.2.3", "v6.test": "fd00::5" },
    txt: { "app.test": "v=spf1 -all" },
    mx: { "app.test": ["mail.app.test", 10] },
    cname: { "www.app.test": "app.test" },
  });
  const check = (overrides: Partial<DnsCheckSpec>) =>
    runDnsCheck({
      ...base,
      type: "dns",
      queryName: "app.test",
      recordType: "A",
      resolver: { ipAddr: "127.0.0.1", port: dns.port },
      expected: [],
      ...overrides,
    }, { signal });
  try {
    const a = await check({ expected: ["10.1.2.3"] });
    assert.deepEqual([a.up, a.answers, a.message], [true, ["10.1.2.3"], "10.1.2.3"]);
    assert.ok(a.durationMs < 1_000);

    const wrong = await check({ expected: ["10.9.9.9"] });
    assert.equal(wrong.up, false);
    assert.equal(wrong.message, 'expected "10.9.9.9" among the answers, got "10.1.2.3"');

    const aaaa = await check({ queryName: "v6.test", recordType: "AAAA", expected: ["fd00::5"] });
    assert.equal(aaaa.up, true);
    const mx = await check({ recordType: "MX", expected: ["10 mail.app.test"] });
    assert.deepEqual([mx.up, mx.answers], [true, ["10 mail.app.test."]]);
    const txt = await check({ recordType: "TXT", expected: ["v=spf1 -all"] });
    assert.equal(txt.up, true);
    const cname = await check({
      queryName: "www.app.test",
      recordType: "CNAME",
      expected: ["APP.test."],
    });
    assert.equal(cname.up, true, "names compare without case or final dot");

    const missing = await check({ queryName: "nothing.test" });
    assert.deepEqual([missing.up, missing.message], [false, "no A records for nothing.test"]);
  } finally {
    await dns.stop();
  }
  const gone = await runDnsCheck({
    ...base,
    timeoutSecs: 1,
    type: "dns",
    queryName: "app.test",
    recordType: "A",
    resolver: { ipAddr: "127.0.0.1", port: dns.port },
    expected: [],
  }, { signal: AbortSignal.timeout(300) });
  assert.equal(gone.up, false, "a resolver that stopped answering fails the check");
});
