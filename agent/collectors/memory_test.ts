import assert from "node:assert/strict";
import { byKey, fixtureRoot, FIXTURES } from "../../tests/helpers/proc_fixture.ts";
import { MEMINFO_FIELDS, MemoryCollector, memorySamples, parseMeminfo } from "./memory.ts";

const KIB = 1024;

Deno.test("MemoryCollector reports meminfo in bytes with used = total - available", async () => {
  await using root = await fixtureRoot();
  using collector = new MemoryCollector({ procRoot: root.procRoot });
  const samples = byKey(collector.collect());
  const total = 16314256 * KIB;
  const available = 9841236 * KIB;
  const swapTotal = 4194300 * KIB;
  const swapUsed = (4194300 - 3145724) * KIB;
  assert.deepEqual(samples, {
    "memory.total": total,
    "memory.used": total - available,
    "memory.available": available,
    "memory.used_percent": ((total - available) / total) * 100,
    "memory.swap_total": swapTotal,
    "memory.swap_used": swapUsed,
    "memory.swap_percent": (swapUsed / swapTotal) * 100,
  });
});

Deno.test("memorySamples estimates available memory on kernels without MemAvailable", () => {
  const fields = parseMeminfo(Deno.readTextFileSync(`${FIXTURES}meminfo_no_available`));
  const samples = byKey(memorySamples(fields));
  assert.equal(samples["memory.available"], (512000 + 128000 + 384000) * KIB);
  assert.equal(samples["memory.used_percent"], 50);
  assert.equal(samples["memory.swap_total"], 0);
  assert.equal(samples["memory.swap_percent"], 0, "no swap means 0%, not NaN");
});

Deno.test("parseMeminfo keeps unit-less counts as they are", () => {
  const fields = parseMeminfo("HugePages_Total:      12\nMemTotal: 4 kB\n");
  assert.equal(fields.get("HugePages_Total"), 12);
  assert.equal(fields.get("MemTotal"), 4096);
});

Deno.test("memorySamples without MemTotal is an error naming the field", () => {
  assert.throws(() => memorySamples(parseMeminfo("MemFree: 1 kB\n")), /no MemTotal/);
});

Deno.test("parseMeminfo with names reads those fields as a full parse does", () => {
  const text = Deno.readTextFileSync(`${FIXTURES}proc/meminfo`);
  const all = parseMeminfo(text);
  const some = parseMeminfo(text, [...MEMINFO_FIELDS, "NoSuchField"]);
  assert.deepEqual(
    some,
    new Map(MEMINFO_FIELDS.filter((name) => all.has(name)).map((name) => [name, all.get(name)])),
  );
  assert.ok(some.has("MemTotal") && some.has("SwapFree"));
  assert.equal(parseMeminfo("MemTotal: 4 kB\nMemFree: 1 kB", ["MemFree"]).get("MemFree"), 1024);
  // A name must match a whole field name, not the end of another one.
  assert.deepEqual(parseMeminfo("XMemTotal: 4 kB\n", ["MemTotal"]), new Map());
});
