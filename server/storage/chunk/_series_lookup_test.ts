import assert from "node:assert/strict";
import { MAX_PATHS_PER_SERIES, SeriesLookup } from "./_series_lookup.ts";

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

Deno.test("SeriesLookup keeps a bounded number of label orders per series", () => {
  // Four labels have 24 orders; a client whose map order varies per message sends them all.
  const names = ["a", "b", "c", "d"];
  const orders: string[][] = [];
  const permute = (rest: string[], prefix: string[]) => {
    if (rest.length === 0) orders.push(prefix);
    rest.forEach((name, i) => permute(rest.filter((_, j) => j !== i), [...prefix, name]));
  };
  permute(names, []);
  const labelsIn = (order: string[]) => Object.fromEntries(order.map((name) => [name, "1"]));
  const lookup = new SeriesLookup();
  for (const order of orders) {
    if (lookup.find("a", "m", labelsIn(order)) < 0) lookup.remember("a", "m", labelsIn(order), 7);
  }
  const found = orders.filter((order) => lookup.find("a", "m", labelsIn(order)) === 7);
  assert.equal(found.length, MAX_PATHS_PER_SERIES);
  assert.deepEqual(found, orders.slice(0, MAX_PATHS_PER_SERIES), "the first orders seen");
  lookup.remember("a", "m", {}, 8);
  assert.equal(lookup.find("a", "m", {}), 8, "other series are not affected");
  lookup.clear();
  lookup.remember("a", "m", labelsIn(orders[23]), 7);
  assert.equal(lookup.find("a", "m", labelsIn(orders[23])), 7, "clear() resets the counts");
});
