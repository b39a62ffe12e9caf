import assert from "node:assert/strict";
import { memoryLogger } from "../../shared/log.ts";
import type { MetricDataPoint } from "../../shared/types.ts";
import type { AlertRuleConfig } from "./config.ts";
import { openAlertEngine } from "./engine.ts";
import {
  agentAbsent,
  rateOfChange,
  statuses,
  T0,
  threshold,
  trendPrediction,
  withEngine,
} from "../../tests/helpers/alert_harness.ts";

Deno.test("AlertEngine raises a firing series once per silence_secs and resolves it once", async () => {
  await withEngine([threshold()], (h) => {
    h.sample("web-1", "cpu.usage", 95);
    assert.equal(h.events.length, 1);
    const first = h.events[0];
    assert.equal(first.status, "firing");
    assert.equal(first.ruleName, "high-cpu");
    assert.equal(first.ruleType, "threshold");
    assert.equal(first.metricName, "cpu.usage");
    assert.equal(first.severity, "critical");
    assert.equal(first.value, 95);
    assert.equal(first.threshold, 90);
    assert.equal(first.timestampMs, T0);
    assert.equal(first.firingSinceMs, T0);
    assert.equal(first.message, "high-cpu: cpu.usage on web-1 is 95 > 90");

    h.clock.advance(299_999);
    h.sample("web-1", "cpu.usage", 96);
    assert.equal(h.events.length, 1, "still inside silence_secs");
    h.clock.advance(1);
    h.sample("web-1", "cpu.usage", 97);
    assert.equal(h.events.length, 2, "raised again once silence_secs passed");
    assert.equal(h.events[1].status, "firing");
    assert.equal(h.events[1].value, 97);
    assert.equal(h.events[1].firingSinceMs, T0);
    assert.notEqual(h.events[1].id, first.id);

    h.clock.advance(10_000);
    h.sample("web-1", "cpu.usage", 40);
    h.clock.advance(10_000);
    h.sample("web-1", "cpu.usage", 41);
    assert.deepEqual(statuses(h.events), ["firing:web-1", "firing:web-1", "resolved:web-1"]);
    const resolved = h.events[2];
    assert.equal(resolved.value, 40);
    assert.equal(resolved.firingSinceMs, T0);
    assert.equal(resolved.message, "high-cpu resolved: cpu.usage on web-1 is 40");
    assert.deepEqual(h.engine.active(), []);

    h.clock.advance(10_000);
    h.sample("web-1", "cpu.usage", 99);
    assert.equal(h.events.length, 4, "a new episode after a resolve is raised at once");
    assert.equal(h.events[3].firingSinceMs, h.clock.now());
  });
});

Deno.test("An active alert carries its series' current value, not only the one that fired it", async () => {
  await withEngine([threshold()], (h) => {
    h.sample("web-1", "cpu.usage", 95);
    h.clock.advance(10_000);
    h.sample("web-1", "cpu.usage", 97); // still firing, silenced: no new notification
    const [active] = h.engine.active();
    assert.equal(active.value, 95, "the notified value");
    assert.equal(active.currentValue, 97);
    assert.equal(active.currentAtMs, T0 + 10_000);
    h.reopen();
    const [restored] = h.engine.active();
    assert.equal(restored.currentValue, undefined, "unknown until the series reports again");
    h.clock.advance(10_000);
    h.sample("web-1", "cpu.usage", 99);
    assert.equal(h.engine.active()[0].currentValue, 99);
  });
});

Deno.test("AlertEngine evaluates each series on its own", async () => {
  await withEngine([threshold({ metric: "disk.used_percent", value: 80 })], (h) => {
    h.sample("web-1", "disk.used_percent", 85, { mount: "/" });
    h.sample("web-1", "disk.used_percent", 50, { mount: "/data" });
    h.sample("web-2", "disk.used_percent", 85, { mount: "/" });
    assert.equal(h.events.length, 2);
    assert.deepEqual(h.events.map((e) => [e.agentId, e.labels]), [
      ["web-1", { mount: "/" }],
      ["web-2", { mount: "/" }],
    ]);
    assert.equal(
      h.events[0].message,
      'high-cpu: disk.used_percent{mount="/"} on web-1 is 85 > 80',
    );
    h.clock.advance(1000);
    h.sample("web-1", "disk.used_percent", 10, { mount: "/" });
    assert.deepEqual(h.engine.active().map((a) => a.agentId), ["web-2"]);
  });
});

Deno.test("AlertEngine applies agent_pattern globs", async (t) => {
  const cases: [string, string[], string[]][] = [
    ["*", ["web-1", "db-1"], []],
    ["web-*", ["web-1", "web-10"], ["db-1", "xweb-1"]],
    ["web-?", ["web-1"], ["web-10", "web-"]],
    ["web-[12]", ["web-1", "web-2"], ["web-3"]],
    ["[!d]*", ["web-1"], ["db-1"]],
  ];
  for (const [pattern, matching, other] of cases) {
    await t.step(pattern, async () => {
      await withEngine([threshold({ agentPattern: pattern })], (h) => {
        for (const agent of [...matching, ...other]) h.sample(agent, "cpu.usage", 99);
        assert.deepEqual(h.events.map((e) => e.agentId).sort(), [...matching].sort());
      });
    });
  }
});

Deno.test("AlertEngine applies a label filter", async () => {
  const rule = threshold({ metric: "disk.used_percent", value: 80, labels: { mount: "/" } });
  await withEngine([rule], (h) => {
    h.sample("web-1", "disk.used_percent", 99, { mount: "/data" });
    h.sample("web-1", "disk.used_percent", 99, {});
    assert.equal(h.events.length, 0);
    h.sample("web-1", "disk.used_percent", 99, { mount: "/", fs: "ext4" });
    assert.equal(h.events.length, 1, "extra labels do not matter");
  });
});

Deno.test("AlertEngine skips late and repeated samples of a series", async () => {
  await withEngine([threshold()], (h) => {
    h.sample("web-1", "cpu.usage", 10);
    const late: MetricDataPoint = {
      agentId: "web-1",
      metricName: "cpu.usage",
      labels: {},
      value: 99,
      timestampMs: T0 - 1,
    };
    h.engine.observe([late, { ...late, timestampMs: T0 }]);
    assert.equal(h.events.length, 0);
  });
});

Deno.test("AlertEngine holds a threshold alert until duration_secs of breaching data", async () => {
  await withEngine([threshold({ durationSecs: 30 })], (h) => {
    for (let i = 0; i < 3; i++) {
      h.sample("web-1", "cpu.usage", 95);
      h.clock.advance(10_000);
    }
    assert.equal(h.events.length, 0, "20 s of breaching data");
    h.sample("web-1", "cpu.usage", 95);
    assert.equal(h.events.length, 1);
    assert.equal(h.events[0].message, "high-cpu: cpu.usage on web-1 is 95 > 90 for 30s");
  });
});

Deno.test("AlertEngine raises rate_of_change and trend_prediction events with their details", async () => {
  const rules: AlertRuleConfig[] = [rateOfChange(), trendPrediction({ minDataPoints: 3 })];
  await withEngine(rules, (h) => {
    h.sample("web-1", "memory.used_percent", 40);
    h.sample("web-1", "disk.used_percent", 50, { mount: "/" });
    h.clock.advance(600_000);
    h.sample("web-1", "memory.used_percent", 50);
    h.sample("web-1", "disk.used_percent", 60, { mount: "/" });
    assert.equal(h.events.length, 0, "the 40 has left the 300 s window; 2 trend samples");
    h.clock.advance(60_000);
    h.sample("web-1", "memory.used_percent", 61);
    h.sample("web-1", "disk.used_percent", 61, { mount: "/" });
    assert.deepEqual(h.events.map((e) => e.ruleName), ["memory-spike", "disk-full-prediction"]);
    const [spike, prediction] = h.events;
    assert.equal(spike.value, 22);
    assert.equal(spike.threshold, 20);
    assert.equal(prediction.threshold, 95);
    // 50, 60, 61 at 0, 600 and 660 s lie on 1 per minute: 95 is reached 34 minutes later.
    assert.equal(prediction.predictedBreachMs, h.clock.now() + 34 * 60_000);
    assert.ok(Math.abs(prediction.rSquared! - 1) < 1e-9);
    const active = h.engine.active();
    assert.deepEqual(active.map((a) => a.ruleName), ["memory-spike", "disk-full-prediction"]);
    assert.equal(active[1].predictedBreachMs, prediction.predictedBreachMs);
  });
});

Deno.test("AlertEngine raises agent_absent on the tick and resolves on the next sample", async () => {
  const rule: AlertRuleConfig = agentAbsent({ agentPattern: "web-*" });
  await withEngine([rule], (h) => {
    h.sample("web-1", "cpu.usage", 1);
    h.sample("db-1", "cpu.usage", 1);
    h.clock.advance(119_999);
    h.engine.tick();
    assert.equal(h.events.length, 0);
    h.clock.advance(1);
    h.engine.tick();
    assert.deepEqual(statuses(h.events), ["firing:web-1"]);
    assert.equal(h.events[0].message, "agent-down: web-1 has not reported for 2m (limit 2m)");
    assert.equal(h.events[0].value, 120);
    assert.equal(h.events[0].threshold, 120);
    h.clock.advance(599_999);
    h.engine.tick();
    assert.equal(h.events.length, 1, "silenced");
    h.clock.advance(1);
    h.engine.tick();
    assert.equal(h.events.length, 2, "raised again after silence_secs");
    h.sample("web-1", "memory.used_percent", 5);
    assert.deepEqual(statuses(h.events), ["firing:web-1", "firing:web-1", "resolved:web-1"]);
    assert.equal(h.events[2].message, "agent-down resolved: web-1 reported again");
  });
});

Deno.test("AlertEngine agent_absent with a metric and labels watches only that series", async () => {
  const rule: AlertRuleConfig = agentAbsent({
    name: "root-disk-silent",
    metric: "disk.used_percent",
    labels: { mount: "/" },
    severity: "warning",
    absentSecs: 60,
  });
  await withEngine([rule], (h) => {
    h.sample("web-1", "disk.used_percent", 1, { mount: "/" });
    h.clock.advance(60_000);
    h.sample("web-1", "cpu.usage", 1);
    h.sample("web-1", "disk.used_percent", 1, { mount: "/data" });
    h.engine.tick();
    assert.equal(h.events.length, 1);
    assert.equal(
      h.events[0].message,
      "root-disk-silent: web-1 has not reported disk.used_percent for 1m (limit 1m)",
    );
  });
});

Deno.test("AlertEngine cert_expiration escalates at once and resolves", async () => {
  const rule: AlertRuleConfig = {
    name: "cert-expiry",
    type: "cert_expiration",
    metric: "certificate.days_until_expiry",
    agentPattern: "cert-checker",
    labels: {},
    severity: "critical",
    silenceSecs: 86_400,
    warningDays: 30,
    criticalDays: 7,
  };
  await withEngine([rule], (h) => {
    const days = (value: number) => {
      h.clock.advance(60_000);
      h.sample("cert-checker", "certificate.days_until_expiry", value, { domain: "a.example" });
    };
    days(31);
    assert.equal(h.events.length, 0);
    days(30);
    days(20);
    assert.deepEqual(h.events.map((e) => [e.severity, e.threshold]), [["warning", 30]]);
    days(7);
    days(6);
    assert.deepEqual(h.events.map((e) => e.severity), ["warning", "critical"]);
    days(90);
    assert.deepEqual(h.events.map((e) => e.status), ["firing", "firing", "resolved"]);
    assert.equal(h.events[2].severity, "critical");
  });
});

Deno.test("AlertEngine resolves an alert whose series stopped reporting", async () => {
  await withEngine([threshold()], (h) => {
    h.sample("web-1", "cpu.usage", 95);
    h.clock.advance(60_000);
    h.engine.tick();
    assert.equal(h.events.length, 1);
    h.clock.advance(60_001);
    h.engine.tick();
    assert.deepEqual(statuses(h.events), ["firing:web-1", "resolved:web-1"]);
    assert.equal(
      h.events[1].message,
      "high-cpu resolved: cpu.usage on web-1 has had no data for 2m",
    );
    assert.equal(h.events[1].value, 95);
  }, { staleAfterMs: 120_000 });
});

Deno.test("AlertEngine state survives a restart", async (t) => {
  await t.step(
    "a still-firing series in silence is not raised again, and resolves once",
    async () => {
      await withEngine([threshold({ durationSecs: 20 })], (h) => {
        for (let i = 0; i < 3; i++) {
          h.sample("web-1", "cpu.usage", 95);
          h.clock.advance(10_000);
        }
        assert.equal(h.events.length, 1);
        const firedAt = h.events[0].timestampMs;
        h.reopen();
        assert.deepEqual(h.engine.active().map((a) => [a.agentId, a.sinceMs]), [[
          "web-1",
          firedAt,
        ]]);
        for (let i = 0; i < 5; i++) {
          h.sample("web-1", "cpu.usage", 95);
          h.clock.advance(10_000);
        }
        assert.equal(h.events.length, 1, "not raised again inside silence_secs");
        h.sample("web-1", "cpu.usage", 20);
        assert.deepEqual(statuses(h.events), ["firing:web-1", "resolved:web-1"]);
        assert.equal(h.events[1].firingSinceMs, firedAt);
        const history = h.engine.history();
        assert.equal(history.total, 2);
        assert.deepEqual(history.events.map((e) => e.id), [h.events[1].id, h.events[0].id]);
      });
    },
  );

  await t.step("a restored series is raised again after silence_secs once confirmed", async () => {
    await withEngine([threshold({ durationSecs: 20 })], (h) => {
      for (let i = 0; i < 3; i++) {
        h.sample("web-1", "cpu.usage", 95);
        h.clock.advance(10_000);
      }
      h.reopen();
      h.clock.advance(600_000);
      h.sample("web-1", "cpu.usage", 95);
      h.clock.advance(10_000);
      h.sample("web-1", "cpu.usage", 95);
      assert.equal(h.events.length, 1, "20 s of data not yet seen since the restart");
      h.clock.advance(10_000);
      h.sample("web-1", "cpu.usage", 95);
      assert.deepEqual(statuses(h.events), ["firing:web-1", "firing:web-1"]);
      assert.equal(h.events[1].firingSinceMs, h.events[0].timestampMs);
    });
  });

  await t.step("a restored series that never reports again resolves for lack of data", async () => {
    await withEngine([threshold()], (h) => {
      h.sample("web-1", "cpu.usage", 95);
      h.reopen();
      h.clock.advance(900_000);
      h.engine.tick();
      assert.equal(h.events.length, 1);
      h.clock.advance(1);
      h.engine.tick();
      assert.deepEqual(statuses(h.events), ["firing:web-1", "resolved:web-1"]);
    });
  });

  await t.step(
    "an agent that went silent before the restart is reported absent_secs after start-up",
    async () => {
      const rule: AlertRuleConfig = agentAbsent();
      await withEngine([rule], (h) => {
        h.sample("web-1", "cpu.usage", 1);
        h.clock.advance(10_000);
        h.engine.tick();
        // The server is down for an hour: no page at start-up for an agent it could not watch.
        h.clock.advance(3_600_000);
        h.reopen();
        h.engine.tick();
        assert.deepEqual(h.events, []);
        h.clock.advance(119_000);
        h.engine.tick();
        assert.deepEqual(h.events, []);
        h.clock.advance(1_000);
        h.engine.tick();
        assert.deepEqual(statuses(h.events), ["firing:web-1"]);
        h.reopen();
        h.engine.tick();
        assert.equal(h.events.length, 1, "firing and silenced across the restart");
        h.sample("web-1", "cpu.usage", 1);
        assert.deepEqual(statuses(h.events), ["firing:web-1", "resolved:web-1"]);
      });
    },
  );

  await t.step("state of a rule removed from the config is dropped", async () => {
    const log = memoryLogger();
    await withEngine([threshold()], (h) => {
      h.sample("web-1", "cpu.usage", 95);
      h.engine.close();
      h.engine = openAlertEngine({
        rules: [threshold({ name: "other" })],
        statePath: h.statePath,
        clock: h.clock,
        log,
      });
      assert.deepEqual(h.engine.active(), []);
    });
    assert.ok(log.lines.some((line) => line.includes("dropped alert state")), log.lines.join("\n"));
  });
});

Deno.test("AlertEngine keeps evaluating when the event sink throws", async () => {
  const log = memoryLogger();
  await withEngine([threshold()], (h) => {
    h.sample("web-1", "cpu.usage", 95);
    h.sample("web-2", "cpu.usage", 95);
    assert.equal(h.engine.active().length, 2);
    assert.equal(h.engine.history().total, 2);
  }, {
    log,
    onEvent: () => {
      throw new Error("sink down");
    },
  });
  assert.equal(log.lines.filter((line) => line.includes("alert event sink failed")).length, 2);
});

Deno.test("AlertEngine.observe logs a malformed point and judges the rest of the batch", async () => {
  const log = memoryLogger();
  await withEngine([threshold()], (h) => {
    const bad = { agentId: "web-1", metricName: "cpu.usage", value: 99, timestampMs: T0 };
    const good = { ...bad, agentId: "web-2", labels: {} };
    h.engine.observe([bad as unknown as MetricDataPoint, good]);
    assert.deepEqual(statuses(h.events), ["firing:web-2"]);
  }, { log });
  assert.ok(
    log.lines.some((line) => line.includes("alert evaluation failed")),
    log.lines.join("\n"),
  );
});

Deno.test("AlertEngine never lets two series share alert state, whatever their labels hold", async () => {
  // Label text that spells another label set under a join with control characters.
  const tricky = { mount: "/\u001fz\u001eq" };
  const plain = { mount: "/", z: "q" };
  await withEngine([threshold({ metric: "disk.used_percent", value: 80 })], (h) => {
    h.sample("web-1", "disk.used_percent", 99, tricky);
    h.clock.advance(1000);
    h.sample("web-1", "disk.used_percent", 10, plain);
    assert.deepEqual(h.events.map((e) => [e.status, e.labels]), [["firing", tricky]]);
    h.clock.advance(1000);
    h.sample("web-1", "disk.used_percent", 99, plain);
    assert.deepEqual(h.events.map((e) => [e.status, e.labels]), [
      ["firing", tricky],
      ["firing", plain],
    ]);
    h.reopen();
    assert.deepEqual(h.engine.active().map((a) => a.labels), [tricky, plain]);
    h.clock.advance(1000);
    h.sample("web-1", "disk.used_percent", 10, plain);
    assert.deepEqual(h.engine.active().map((a) => a.labels), [tricky]);
  });
});
