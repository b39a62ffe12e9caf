import assert from "node:assert/strict";
import { canonicalLabelsJson, seriesIdentity, seriesIdentityOf } from "./series.ts";
import type { Labels } from "./types.ts";

Deno.test("canonicalLabelsJson gives the same text whatever order the keys were set in", () => {
  assert.equal(canonicalLabelsJson({ b: "2", a: "1", "10": "x" }), '{"10":"x","a":"1","b":"2"}');
  assert.equal(
    canonicalLabelsJson({ a: "1", b: "2", "10": "x" }),
    canonicalLabelsJson({ "10": "x", b: "2", a: "1" }),
  );
  assert.equal(canonicalLabelsJson({}), "{}");
  assert.deepEqual(JSON.parse(canonicalLabelsJson({ mount: "/\u0000\u001f" })), {
    mount: "/\u0000\u001f",
  });
});

Deno.test("seriesIdentity never gives two different series the same identity", () => {
  // Parts built to collide under any scheme that joins them with a separator character.
  const texts = ["", "a", "a\u001fb", "\u001f", "\u001e", '"', '""', "\\", "a\u0000", "{}", ":"];
  const labelSets: Labels[] = [
    {},
    { mount: "/" },
    { mount: "/", z: "q" },
    { mount: "/\u001fz\u001eq" },
    { mount: '/","z":"q' },
    { "mount\u001e/": "" },
    { a: "" },
    { "": "a" },
  ];
  const seen = new Map<string, string>();
  for (const agentId of texts) {
    for (const metricName of texts) {
      for (const labels of labelSets) {
        const identity = seriesIdentityOf(agentId, metricName, labels);
        const series = JSON.stringify([agentId, metricName, labels]);
        assert.equal(seen.get(identity) ?? series, series, `two series share ${identity}`);
        seen.set(identity, series);
        assert.ok(!identity.includes("\u0000"), "SQLite text cuts short at NUL");
      }
    }
  }
  assert.equal(seen.size, texts.length * texts.length * labelSets.length);
});

Deno.test("seriesIdentityOf is seriesIdentity over the canonical labels", () => {
  const labels = { mount: "/", device: "sda" };
  assert.equal(
    seriesIdentityOf("web-1", "disk.used_percent", labels),
    seriesIdentity("web-1", "disk.used_percent", canonicalLabelsJson(labels)),
  );
  assert.equal(seriesIdentityOf("web-1", "cpu.usage", {}), '"web-1""cpu.usage"{}');
});
