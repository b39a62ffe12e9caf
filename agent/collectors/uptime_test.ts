import assert from "node:assert/strict";
import { fixtureRoot } from "../../tests/helpers/proc_fixture.ts";
import { parseUptime, UptimeCollector } from "./uptime.ts";

Deno.test("parseUptime reads seconds since boot", () => {
  assert.equal(parseUptime("351735.47 1387563.68\n"), 351735.47);
  assert.equal(parseUptime("12"), 12);
  assert.throws(() => parseUptime(""), /Cannot parse \/proc\/uptime/);
});

Deno.test("UptimeCollector emits system.uptime", async () => {
  await using root = await fixtureRoot();
  using collector = new UptimeCollector({ procRoot: root.procRoot });
  assert.deepEqual(collector.collect(), [
    { name: "system.uptime", value: 351735.47 },
  ]);
});
