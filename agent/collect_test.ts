import assert from "node:assert/strict";
import { ManualClock } from "../shared/clock.ts";
import { memoryLogger } from "../shared/log.ts";
import { Collection, wireValue } from "./collect.ts";
import type { Collector, Sample } from "./collectors/types.ts";

const steady: Collector = {
  name: "steady",
  collect: () => [{ name: "system.uptime", value: 42 }],
};

Deno.test("a collection round stamps every point with the agent id and round time", async () => {
  const clock = new ManualClock(1_764_000_000_000);
  const collection = new Collection({
    agentId: "web-01",
    collectors: [steady, {
      name: "labelled",
      collect: () => Promise.resolve([{ name: "disk.total", value: 1, labels: { mount: "/" } }]),
    }],
    clock,
    log: memoryLogger(),
  });
  assert.deepEqual(await collection.collect(), {
    agentId: "web-01",
    timestampMs: 1_764_000_000_000,
    dataPoints: [
      {
        timestampMs: 1_764_000_000_000,
        agentId: "web-01",
        metricName: "system.uptime",
        value: 42,
        labels: {},
      },
      {
        timestampMs: 1_764_000_000_000,
        agentId: "web-01",
        metricName: "disk.total",
        value: 1,
        labels: { mount: "/" },
      },
    ],
  });
});

Deno.test("a failing collector never fails the round and is retried next round", async () => {
  const log = memoryLogger();
  let calls = 0;
  const flaky: Collector = {
    name: "flaky",
    collect: () => {
      calls++;
      if (calls <= 2) throw new Error("cannot read /proc/flaky");
      return [{ name: "system.load_1", value: 1 }];
    },
  };
  const rejecting: Collector = {
    name: "rejecting",
    collect: () => Promise.reject(new Error("boom")),
  };
  const collection = new Collection({
    agentId: "a",
    collectors: [flaky, steady, rejecting],
    clock: new ManualClock(),
    log,
  });
  const names = async () => (await collection.collect()).dataPoints.map((p) => p.metricName);
  assert.deepEqual(await names(), ["system.uptime"]);
  assert.deepEqual(await names(), ["system.uptime"]);
  assert.deepEqual(await names(), ["system.load_1", "system.uptime"]);
  const failures = log.lines.filter((line) => line.includes("collector=flaky"));
  assert.match(failures[0], /WARN .*collector failed.*cannot read \/proc\/flaky/);
  assert.match(failures[1], /DEBUG .*collector failed/, "a repeated failure is not re-warned");
  assert.ok(failures.some((line) => /INFO .*collector recovered/.test(line)));
  assert.equal(log.lines.filter((line) => /WARN .*collector=rejecting/.test(line)).length, 1);
});

Deno.test("a collector that overruns its time limit is cut off and skipped while busy", async () => {
  const log = memoryLogger();
  let release: (samples: Sample[]) => void = () => {};
  const slow: Collector = {
    name: "slow",
    collect: () => new Promise((resolve) => (release = resolve)),
  };
  const collection = new Collection({
    agentId: "a",
    collectors: [slow, steady],
    clock: new ManualClock(),
    log,
    collectorTimeoutMs: 10,
  });
  assert.equal((await collection.collect()).dataPoints.length, 1);
  assert.ok(log.lines.some((line) => /collector=slow .*took longer than 10 ms/.test(line)));
  assert.equal((await collection.collect()).dataPoints.length, 1);
  assert.ok(log.lines.some((line) => /still busy.*collector=slow/.test(line)));
  release([{ name: "system.load_5", value: 5 }]);
  await Promise.resolve();
  await Promise.resolve();
  const third = await collection.collect();
  assert.equal(third.dataPoints.length, 1, "a new call is made once the old one settled");
});

Deno.test("non-finite samples are dropped, not sent", async () => {
  const collection = new Collection({
    agentId: "a",
    collectors: [{
      name: "odd",
      collect: () => [{ name: "cpu.usage", value: NaN }, { name: "cpu.usage", value: Infinity }],
    }],
    clock: new ManualClock(),
    log: memoryLogger(),
  });
  assert.deepEqual((await collection.collect()).dataPoints, []);
});

Deno.test("percentages and rates are sent with two decimals, other values unchanged", () => {
  assert.equal(wireValue("cpu.usage", 51.28205128205128), 51.28);
  assert.equal(wireValue("memory.used_percent", 93.75), 93.75);
  assert.equal(wireValue("network.bytes_recv", 1234.5678), 1234.57);
  assert.equal(wireValue("disk.read_ops_per_sec", 0.004), 0);
  assert.equal(wireValue("memory.total", 16_705_798_144), 16_705_798_144);
  assert.equal(wireValue("system.uptime", 12345.678), 12345.678);
});
