import assert from "node:assert/strict";
import { byKey, fixtureRoot } from "../../tests/helpers/proc_fixture.ts";
import { LoadCollector, parseLoadavg } from "./load.ts";

Deno.test("parseLoadavg reads the three averages, task counts and the last PID", () => {
  assert.deepEqual(parseLoadavg("0.00 0.05 0.03 1/94 5740\n"), {
    load1: 0,
    load5: 0.05,
    load15: 0.03,
    running: 1,
    total: 94,
    lastPid: 5740,
  });
  assert.throws(() => parseLoadavg("garbage"), /Cannot parse \/proc\/loadavg: got "garbage"/);
});

Deno.test("LoadCollector emits system.load_1/5/15", async () => {
  await using root = await fixtureRoot();
  using collector = new LoadCollector({ procRoot: root.procRoot });
  assert.deepEqual(byKey(collector.collect()), {
    "system.load_1": 0.52,
    "system.load_5": 0.58,
    "system.load_15": 0.59,
  });
});
