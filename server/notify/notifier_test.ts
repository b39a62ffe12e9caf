import assert from "node:assert/strict";
import { ManualClock } from "../../shared/clock.ts";
import { memoryLogger, silentLogger } from "../../shared/log.ts";
import type { AlertEvent, Severity } from "../../shared/types.ts";
import { alertEvent } from "../../tests/helpers/alert_harness.ts";
import { type HttpSink, startHttpSink } from "../../tests/helpers/http_sink.ts";
import type { NotificationConfig, SilenceWindowConfig, WebhookChannelConfig } from "./config.ts";
import { openDeliveryStore } from "./delivery_store.ts";
import { type Notifier, type NotifierOptions, openNotifier } from "./notifier.ts";

let nextId = 0;
function event(severity: Severity = "critical", overrides: Partial<AlertEvent> = {}): AlertEvent {
  nextId += 1;
  return alertEvent({
    id: `ev-${nextId}`,
    severity,
    message: `CPU high #${nextId}`,
    timestampMs: 1_767_225_600_000,
    ...overrides,
  });
}

function webhook(
  name: string,
  url: string,
  extra: Partial<WebhookChannelConfig> = {},
): WebhookChannelConfig {
  return {
    name,
    type: "webhook",
    minSeverity: "info",
    aggregationWindowSecs: 0,
    url,
    method: "POST",
    headers: {},
    ...extra,
  };
}

function config(
  channels: WebhookChannelConfig[],
  silenceWindows: SilenceWindowConfig[] = [],
): NotificationConfig {
  return { channels, silenceWindows, aggregationWindowSecs: 0 };
}

/** Runs `body` with a notifier on a temp delivery store; closes and cleans up afterwards. */
async function withNotifier(
  options: Omit<NotifierOptions, "deliveryStorePath">,
  body: (notifier: Notifier) => Promise<void>,
): Promise<void> {
  const dir = await Deno.makeTempDir();
  const notifier = openNotifier({
    log: silentLogger,
    retry: { baseDelayMs: 100, maxDelayMs: 1_000, attemptTimeoutMs: 5_000 },
    sleep: () => Promise.resolve(),
    ...options,
    deliveryStorePath: `${dir}/notify.db`,
  });
  try {
    await body(notifier);
  } finally {
    await notifier.close(1_000);
    await Deno.remove(dir, { recursive: true });
  }
}

async function withSink(
  respond: Parameters<typeof startHttpSink>[0],
  body: (sink: HttpSink) => Promise<void>,
): Promise<void> {
  const sink = await startHttpSink(respond);
  try {
    await body(sink);
  } finally {
    await sink.close();
  }
}

Deno.test("events are routed to the channels whose min_severity they reach", async () => {
  await withSink({}, async (sink) => {
    const channels = (["info", "warning", "critical"] as const).map((min) =>
      webhook(min, `${sink.url}/${min}`, { minSeverity: min })
    );
    await withNotifier({ config: config(channels) }, async (notifier) => {
      notifier.dispatch(event("info"));
      notifier.dispatch(event("warning"));
      notifier.dispatch(event("critical", { status: "resolved" }));
      await notifier.idle();
      const count = (path: string) => sink.requests.filter((r) => r.path === path).length;
      assert.deepEqual([count("/info"), count("/warning"), count("/critical")], [3, 2, 1]);
      assert.equal(notifier.deliveries({ status: "sent" }).total, 6);
      const critical = notifier.deliveries({ channel: "critical" }).records;
      assert.equal(critical[0].severity, "critical");
    });
  });
});

Deno.test("events within the aggregation window go out as one notification", async () => {
  await withSink({}, async (sink) => {
    const clock = new ManualClock(1_000_000);
    const channels = [
      webhook("batched", `${sink.url}/batched`, { aggregationWindowSecs: 60 }),
      webhook("direct", `${sink.url}/direct`),
    ];
    await withNotifier({ config: config(channels), clock }, async (notifier) => {
      const first = event("warning");
      const second = event("critical", { agentId: "web-2" });
      notifier.dispatch(first);
      clock.advance(30_000);
      notifier.dispatch(second);
      clock.advance(29_999);
      notifier.tick();
      await notifier.idle();
      assert.deepEqual(sink.requests.map((r) => r.path), ["/direct", "/direct"]);

      clock.advance(1);
      notifier.tick();
      await notifier.idle();
      const batched = sink.requests.filter((r) => r.path === "/batched");
      assert.equal(batched.length, 1);
      const body = JSON.parse(batched[0].body);
      assert.equal(body.count, 2);
      assert.equal(body.severity, "critical");
      assert.deepEqual(body.events.map((e: { id: string }) => e.id), [first.id, second.id]);
      assert.match(body.message, /web-1.*\n.*web-2/);
      const [record] = notifier.deliveries({ channel: "batched" }).records;
      assert.deepEqual(record.eventIds, [first.id, second.id]);

      // A later event opens a new window.
      clock.advance(5_000);
      const third = event("info");
      notifier.dispatch(third);
      notifier.tick(clock.now() + 59_999);
      await notifier.idle();
      assert.equal(sink.requests.filter((r) => r.path === "/batched").length, 1);
      notifier.tick(clock.now() + 60_000);
      await notifier.idle();
      const last = sink.requests.filter((r) => r.path === "/batched")[1];
      assert.equal(JSON.parse(last.body).id, third.id);
    });
  });
});

Deno.test("inside a silence window nothing is sent and the events are recorded as silenced", async () => {
  await withSink({}, async (sink) => {
    const clock = new ManualClock(Date.parse("2026-01-02T02:30:00Z"));
    const night: SilenceWindowConfig = {
      startTime: "02:00",
      endTime: "04:00",
      startMinute: 120,
      endMinute: 240,
      recurrence: "daily",
      days: [],
      timezone: "UTC",
    };
    const log = memoryLogger();
    await withNotifier(
      { config: config([webhook("hook", sink.url)], [night]), clock, log },
      async (notifier) => {
        const held = event();
        notifier.dispatch(held);
        await notifier.idle();
        assert.equal(sink.requests.length, 0);
        const [record] = notifier.deliveries().records;
        assert.equal(record.status, "silenced");
        assert.deepEqual(record.eventIds, [held.id]);
        assert.equal(record.attempts, 0);
        assert.match(record.error ?? "", /02:00-04:00 daily/);
        assert.ok(log.lines.some((line) => line.includes("notification silenced")));

        clock.set(Date.parse("2026-01-02T04:00:00Z"));
        notifier.dispatch(event());
        await notifier.idle();
        assert.equal(sink.requests.length, 1);
        assert.equal(notifier.deliveries({ status: "sent" }).total, 1);
      },
    );
  });
});

Deno.test("a failing endpoint is retried with exponential backoff until it answers", async () => {
  const respond = (_: unknown, index: number) =>
    index < 2 ? new Response("busy", { status: 500 }) : new Response("ok");
  await withSink({ respond }, async (sink) => {
    const waits: number[] = [];
    await withNotifier({
      config: config([webhook("hook", sink.url)]),
      sleep: (ms) => {
        waits.push(ms);
        return Promise.resolve();
      },
    }, async (notifier) => {
      notifier.dispatch(event());
      await notifier.idle();
      assert.equal(sink.requests.length, 3);
      const [record] = notifier.deliveries().records;
      assert.equal(record.status, "sent");
      assert.equal(record.attempts, 3);
      // 100 ms then 200 ms, each with ±20 % jitter.
      assert.equal(waits.length, 2);
      assert.ok(waits[0] >= 80 && waits[0] <= 120, `first wait ${waits[0]}`);
      assert.ok(waits[1] >= 160 && waits[1] <= 240, `second wait ${waits[1]}`);
    });
  });
});

Deno.test("an endpoint that stays down ends in a failed record after 3 retries", async (t) => {
  await t.step("HTTP errors", async () => {
    await withSink({ respond: () => new Response("down", { status: 503 }) }, async (sink) => {
      const log = memoryLogger();
      await withNotifier({ config: config([webhook("hook", sink.url)]), log }, async (notifier) => {
        const lost = event();
        notifier.dispatch(lost);
        await notifier.idle();
        assert.equal(sink.requests.length, 4);
        const [record] = notifier.deliveries().records;
        assert.equal(record.status, "failed");
        assert.equal(record.attempts, 4);
        assert.equal(record.error, "HTTP 503: down");
        assert.deepEqual(record.eventIds, [lost.id]);
        assert.equal(log.lines.filter((l) => l.includes("retrying")).length, 3);
        assert.ok(log.lines.some((l) => l.includes("ERROR notification failed")));
      });
    });
  });
  await t.step("connection refused", async () => {
    const sink = await startHttpSink();
    await sink.close();
    await withNotifier({ config: config([webhook("hook", sink.url)]) }, async (notifier) => {
      notifier.dispatch(event());
      await notifier.idle();
      const [record] = notifier.deliveries().records;
      assert.equal(record.status, "failed");
      assert.equal(record.attempts, 4);
      assert.ok(record.error);
    });
  });
});

Deno.test("an attempt that takes too long fails on its timeout", async () => {
  let release = () => {};
  const gate = new Promise<void>((resolve) => release = resolve);
  await withSink({ respond: () => gate.then(() => new Response("late")) }, async (sink) => {
    await withNotifier({
      config: config([webhook("hook", sink.url)]),
      retry: { retries: 1, attemptTimeoutMs: 50 },
    }, async (notifier) => {
      notifier.dispatch(event());
      await notifier.idle();
      const [record] = notifier.deliveries().records;
      assert.equal(record.status, "failed");
      assert.equal(record.attempts, 2);
      assert.equal(record.error, "timed out after 50 ms");
    });
    release();
  });
});

Deno.test("a slow channel delays neither another channel nor the caller", async () => {
  let release = () => {};
  const gate = new Promise<void>((resolve) => release = resolve);
  const slow = await startHttpSink({ respond: () => gate.then(() => new Response("late")) });
  const fast = await startHttpSink();
  const dir = await Deno.makeTempDir();
  const path = `${dir}/notify.db`;
  const notifier = openNotifier({
    config: config([webhook("slow", slow.url), webhook("fast", fast.url)]),
    deliveryStorePath: path,
  });
  try {
    const started = performance.now();
    for (let i = 0; i < 20; i++) notifier.dispatch(event());
    const dispatchMs = performance.now() - started;
    assert.ok(dispatchMs < 50, `dispatch took ${dispatchMs} ms`);
    await fast.waitFor(20);
    await slow.waitFor(1);
    assert.equal(slow.requests.length, 1, "the slow channel is still on its first send");

    // Shutdown gives up on the slow channel after its grace and records what it held.
    await notifier.close(100);
    const store = openDeliveryStore(path);
    try {
      assert.equal(store.query({ channel: "fast", status: "sent" }).total, 20);
      const slowRecords = store.query({ channel: "slow", limit: 100 }).records;
      assert.equal(slowRecords.length, 20);
      assert.ok(slowRecords.every((r) => r.status === "failed"));
      assert.equal(slowRecords.filter((r) => r.error === "not sent: notifier closed").length, 19);
      assert.equal(slowRecords.filter((r) => r.attempts === 1).length, 1);
    } finally {
      store.close();
    }
  } finally {
    await notifier.close();
    release();
    await slow.close();
    await fast.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a full queue drops its oldest notification and records it", async () => {
  await withSink({}, async (sink) => {
    const log = memoryLogger();
    await withNotifier(
      { config: config([webhook("hook", sink.url)]), queueCapacity: 2, log },
      async (notifier) => {
        const events = [event(), event(), event(), event()];
        // dispatch() is synchronous, so all four are queued before the first send starts.
        for (const e of events) notifier.dispatch(e);
        await notifier.idle();
        const dropped = notifier.deliveries({ status: "dropped" }).records;
        assert.deepEqual(dropped.map((r) => r.eventIds[0]).sort(), [events[0].id, events[1].id]);
        assert.deepEqual(
          sink.requests.map((r) => JSON.parse(r.body).id),
          [events[2].id, events[3].id],
        );
        assert.equal(log.lines.filter((l) => l.includes("notification dropped")).length, 2);
      },
    );
  });
});

Deno.test("close sends what is still being aggregated, and later events are ignored", async () => {
  await withSink({}, async (sink) => {
    const dir = await Deno.makeTempDir();
    const log = memoryLogger();
    const notifier = openNotifier({
      config: config([webhook("hook", sink.url, { aggregationWindowSecs: 3600 })]),
      deliveryStorePath: `${dir}/notify.db`,
      clock: new ManualClock(0),
      log,
    });
    try {
      notifier.dispatch(event());
      notifier.dispatch(event());
      await notifier.close(1_000);
      assert.equal(sink.requests.length, 1);
      assert.equal(JSON.parse(sink.requests[0].body).count, 2);
      notifier.dispatch(event());
      assert.ok(log.lines.some((line) => line.includes("notifier closed")));
    } finally {
      await notifier.close();
      await Deno.remove(dir, { recursive: true });
    }
  });
});

Deno.test("tick removes delivery records older than the retention", async () => {
  await withSink({}, async (sink) => {
    const clock = new ManualClock(0);
    await withNotifier(
      { config: config([webhook("hook", sink.url)]), clock, deliveryRetentionDays: 30 },
      async (notifier) => {
        notifier.dispatch(event());
        await notifier.idle();
        clock.set(30 * 86_400_000);
        notifier.tick();
        assert.equal(notifier.deliveries().total, 1, "exactly 30 days old is kept");
        clock.advance(3_600_000);
        notifier.tick();
        assert.equal(notifier.deliveries().total, 0);
      },
    );
  });
});
