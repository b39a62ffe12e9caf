import assert from "node:assert/strict";
import { DEFAULT_INTERFACE_EXCLUDE } from "../config.ts";
import { byKey, fixtureRoot, FIXTURES } from "../../tests/helpers/proc_fixture.ts";
import { NetworkCollector, parseNetDev } from "./network.ts";

Deno.test("parseNetDev reads receive and transmit counters, with or without a space", () => {
  const interfaces = parseNetDev(Deno.readTextFileSync(`${FIXTURES}proc/net/dev`));
  assert.deepEqual(interfaces.map((i) => i.interface), [
    "lo",
    "eth0",
    "docker0",
    "veth3a1b2c",
    "wlan0",
  ]);
  assert.deepEqual(interfaces[1], {
    interface: "eth0",
    bytesRecv: 48211930112,
    packetsRecv: 39120455,
    bytesSent: 9120339221,
    packetsSent: 21877120,
  });
  assert.throws(() => parseNetDev("eth0: 1 2 3\n"), /malformed line "eth0: 1 2 3"/);
});

Deno.test("NetworkCollector reports per-second rates, loopback and virtual interfaces excluded by default", async (t) => {
  await using root = await fixtureRoot();
  using collector = new NetworkCollector({
    procRoot: root.procRoot,
    interfaces: { include: [], exclude: DEFAULT_INTERFACE_EXCLUDE },
  });

  await t.step("the first round emits no rate, not a fake 0", () => {
    assert.deepEqual(collector.collect({ monotonicMs: 500 }), []);
  });

  await t.step("rates over the measured interval", () => {
    root.use("net/dev", "later/net_dev");
    const samples = byKey(collector.collect({ monotonicMs: 10_500 }));
    assert.equal(samples["network.bytes_recv{interface=eth0}"], 1_250_000);
    assert.equal(samples["network.bytes_sent{interface=eth0}"], 250_000);
    assert.equal(samples["network.packets_recv{interface=eth0}"], 900);
    assert.equal(samples["network.packets_sent{interface=eth0}"], 400);
    const interfaces = new Set(
      Object.keys(samples).map((key) => /interface=([^}]+)/.exec(key)![1]),
    );
    assert.deepEqual([...interfaces].sort(), ["eth0", "wlan0"], "not lo, docker0, veth3a1b2c");
    assert.equal(Object.keys(samples).length, 2 * 4);
  });

  await t.step("a wrapped counter has no rate that round; its other counters still do", () => {
    root.use("net/dev", "reset/net_dev");
    const samples = byKey(collector.collect({ monotonicMs: 20_500 }));
    assert.equal(samples["network.bytes_recv{interface=wlan0}"], undefined);
    assert.equal(samples["network.packets_recv{interface=wlan0}"], 10);
    assert.equal(samples["network.bytes_recv{interface=eth0}"], 1_250_000);
  });
});
