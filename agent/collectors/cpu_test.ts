import assert from "node:assert/strict";
import { byKey, fixtureRoot, FIXTURES } from "../../tests/helpers/proc_fixture.ts";
import { busyPercent, CpuCollector, parseProcStat } from "./cpu.ts";

Deno.test("parseProcStat reads the aggregate line and every online core", () => {
  const stat = parseProcStat(Deno.readTextFileSync(`${FIXTURES}proc/stat`));
  assert.equal(stat.cores.size, 4);
  // user+nice+system+idle+iowait+irq+softirq+steal; guest is already inside user.
  assert.deepEqual(stat.all, {
    total: 4705356 + 1529 + 1305893 + 81239850 + 49211 + 0 + 24317 + 1210,
    idle: 81239850 + 49211,
  });
});

Deno.test("parseProcStat rejects a malformed cpu line, naming it", () => {
  assert.throws(() => parseProcStat("cpu  1 2 x 4\n"), /malformed line "cpu {2}1 2 x 4"/);
  assert.throws(() => parseProcStat("intr 1 2\n"), /no aggregate cpu line/);
});

Deno.test("busyPercent is the busy share of the elapsed jiffies", () => {
  assert.equal(busyPercent({ total: 100, idle: 50 }, { total: 200, idle: 125 }), 25);
  assert.equal(busyPercent({ total: 100, idle: 50 }, { total: 100, idle: 50 }), undefined);
  assert.equal(busyPercent({ total: 100, idle: 50 }, { total: 90, idle: 40 }), undefined);
});

Deno.test("CpuCollector emits no usage on the first round, then usage from jiffy deltas", async (t) => {
  await using root = await fixtureRoot();
  using collector = new CpuCollector({ procRoot: root.procRoot });
  assert.deepEqual(collector.collect({ monotonicMs: 0 }), []);

  await t.step("second round: aggregate and per-core usage", () => {
    root.use("stat", "later/stat");
    assert.deepEqual(byKey(collector.collect({ monotonicMs: 10_000 })), {
      "cpu.usage": 37.5,
      "cpu.core_usage{core=0}": 40,
      "cpu.core_usage{core=1}": 30,
      "cpu.core_usage{core=2}": 50,
      "cpu.core_usage{core=3}": 30,
    });
  });

  await t.step("counters that went backwards or a core that went offline emit nothing", () => {
    // reset/stat: cpu2 restarted from low counters, cpu3 is gone, so the aggregate shrank.
    root.use("stat", "reset/stat");
    assert.deepEqual(byKey(collector.collect({ monotonicMs: 20_000 })), {
      "cpu.core_usage{core=0}": 20,
      "cpu.core_usage{core=1}": 10,
    });
  });
});
