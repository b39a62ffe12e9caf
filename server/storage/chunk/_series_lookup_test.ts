import assert from "node:assert/strict";
import { SeriesLookup } from "./_series_lookup.ts";

Deno.test("SeriesLookup finds a series only by its exact agent, metric and label pairs", () => {
  const lookup = new SeriesLookup();
  lookup.remember("a", "cpu.usage", {}, 1);
  lookup.remember("a", "disk.used", { mount: "/" }, 2);
  lookup.remember("a", "disk.used", { mount: "/", device: "sda" }, 3);
  lookup.remember("b", "cpu.usage", {}, 4);
  assert.equal(lookup.find("a", "cpu.usage", {}), 1);
  assert.equal(lookup.find("b", "cpu.usage", {}), 4);
  assert.equal(lookup.find("a", "disk.used", { mount: "/" }), 2);
  assert.equal(lookup.find("a", "disk.used", { mount: "/", device: "sda" }), 3);
  assert.equal(lookup.find("a", "disk.used", {}), -1, "a prefix of a path is no series");
  assert.equal(lookup.find("a", "disk.used", { mount: "/var" }), -1);
  assert.equal(lookup.find("a", "disk.used", { mount: "/", device: "sdb" }), -1);
  assert.equal(lookup.find("a", "cpu.usage", { core: "0" }), -1);
  assert.equal(lookup.find("c", "cpu.usage", {}), -1);
  assert.equal(lookup.find("a", "disk.used", { device: "sda", mount: "/" }), -1, "other order");
  lookup.remember("a", "disk.used", { device: "sda", mount: "/" }, 3);
  assert.equal(lookup.find("a", "disk.used", { device: "sda", mount: "/" }), 3);
  lookup.clear();
  assert.equal(lookup.find("a", "cpu.usage", {}), -1);
});
