import assert from "node:assert/strict";
import { ManualClock } from "../shared/clock.ts";
import { memoryLogger } from "../shared/log.ts";
import { Collection, wireValue } from "./collect.ts";
import type { Collector, Sample } from "./collectors/types.ts";
import type { MetricBatch, MetricDataPoint } from "../shared/types.ts";

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

Deno.test("with selfMetrics every round reports each collector's success and duration", async () => {
  let releaseSlow: (samples: Sample[]) => void = () => {};
  const collectors: Collector[] = [
    steady,
    { name: "broken", collect: () => Promise.reject(new Error("cannot read /proc/broken")) },
    { name: "slow", collect: () => new Promise((resolve) => (releaseSlow = resolve)) },
  ];
  const buffer = { size: 3, dropped: 7 };
  const collection = new Collection({
    agentId: "a",
    collectors,
    clock: new ManualClock(),
    log: memoryLogger(),
    collectorTimeoutMs: 20,
    selfMetrics: { buffer },
  });
  const self = (batch: MetricBatch) =>
    batch.dataPoints.filter((point) => point.metricName.startsWith("agent."));
  const valueOf = (points: MetricDataPoint[], metricName: string, collector?: string) =>
    points.find((point) => point.metricName === metricName && point.labels.collector === collector)
      ?.value;

  const first = await collection.collect();
  assert.equal(first.dataPoints[0].metricName, "system.uptime", "the collectors' samples first");
  const round1 = self(first);
  assert.equal(valueOf(round1, "agent.collector_success", "steady"), 1);
  assert.equal(valueOf(round1, "agent.collector_success", "broken"), 0);
  assert.equal(valueOf(round1, "agent.collector_success", "slow"), 0, "overran its limit");
  const slowSeconds = valueOf(round1, "agent.collector_duration_seconds", "slow")!;
  assert.ok(slowSeconds >= 0.02 && slowSeconds < 5, `waited its limit, got ${slowSeconds} s`);
  assert.ok(valueOf(round1, "agent.collector_duration_seconds", "steady")! < 1);
  assert.equal(valueOf(round1, "agent.buffer_batches"), 3);
  assert.equal(valueOf(round1, "agent.dropped_batches_total"), 7);

  buffer.size = 0;
  const round2 = self(await collection.collect());
  assert.equal(valueOf(round2, "agent.collector_success", "slow"), 0, "still busy, sat out");
  assert.equal(
    valueOf(round2, "agent.collector_duration_seconds", "slow"),
    undefined,
    "no duration for a collector that was not called",
  );
  assert.equal(valueOf(round2, "agent.buffer_batches"), 0);

  releaseSlow([{ name: "system.load_5", value: 5 }]);
  await new Promise((resolve) => setTimeout(resolve, 0));
  const round3 = self(await collection.collect());
  assert.equal(valueOf(round3, "agent.collector_success", "slow"), 0, "called again, overran");
  assert.deepEqual(
    round3.map((point) => [point.metricName, point.labels.collector]),
    [
      ["agent.collector_success", "steady"],
      ["agent.collector_duration_seconds", "steady"],
      ["agent.collector_success", "broken"],
      ["agent.collector_duration_seconds", "broken"],
      ["agent.collector_success", "slow"],
      ["agent.collector_duration_seconds", "slow"],
      ["agent.buffer_batches", undefined],
      ["agent.dropped_batches_total", undefined],
    ],
  );
});

Deno.test("without selfMetrics a round carries only the collectors' samples", async () => {
  const collection = new Collection({
    agentId: "a",
    collectors: [steady],
    clock: new ManualClock(),
    log: memoryLogger(),
  });
  assert.deepEqual((await collection.collect()).dataPoints.map((p) => p.metricName), [
    "system.uptime",
  ]);
});
