import assert from "node:assert/strict";
import type { AlertEvent } from "../../../shared/types.ts";
import { startHttpSink } from "../../../tests/helpers/http_sink.ts";
import type { WebhookChannelConfig } from "../config.ts";
import { createWebhookSender } from "./webhook.ts";

const HOSTILE = 'he said "stop" \\ C:\\temp\nnext line "} , "injected": true {';

const event: AlertEvent = {
  id: "ev-1",
  ruleName: "disk-full",
  ruleType: "trend_prediction",
  agentId: "db-1",
  metricName: "disk.used_percent",
  labels: { mount: "/" },
  severity: "warning",
  status: "firing",
  message: HOSTILE,
  value: 91.234,
  threshold: 95,
  timestampMs: Date.UTC(2026, 0, 2, 3, 4, 5),
  predictedBreachMs: Date.UTC(2026, 0, 3),
  rSquared: 0.97,
};

function channel(url: string, extra: Partial<WebhookChannelConfig> = {}): WebhookChannelConfig {
  return {
    name: "hook",
    type: "webhook",
    minSeverity: "info",
    aggregationWindowSecs: 0,
    url,
    method: "POST",
    headers: {},
    ...extra,
  };
}

Deno.test("webhook posts the event as JSON when no template is set", async () => {
  const sink = await startHttpSink();
  try {
    const sender = createWebhookSender(channel(`${sink.url}/hook`));
    await sender.compose([event])(new AbortController().signal);
    const [request] = sink.requests;
    assert.equal(request.method, "POST");
    assert.equal(request.path, "/hook");
    assert.equal(request.headers.get("content-type"), "application/json");
    assert.deepEqual(JSON.parse(request.body), {
      id: "ev-1",
      alert_id: "ev-1",
      rule_name: "disk-full",
      rule_type: "trend_prediction",
      agent_id: "db-1",
      metric: "disk.used_percent",
      labels: { mount: "/" },
      severity: "warning",
      status: "firing",
      message: HOSTILE,
      value: 91.234,
      threshold: 95,
      timestamp: "2026-01-02T03:04:05.000Z",
      predicted_breach: "2026-01-03T00:00:00.000Z",
      r_squared: 0.97,
    });
    await sender.close();
  } finally {
    await sink.close();
  }
});

Deno.test("webhook fills the body template with escaped values and sends the headers", async () => {
  const sink = await startHttpSink();
  try {
    const sender = createWebhookSender(channel(sink.url, {
      method: "PUT",
      headers: { Authorization: "Bearer t0ken", "X-Source": "oxmon" },
      bodyTemplate: '{"text": "[{{severity}}] {{agent_id}} {{metric}}={{value}}: {{message}}", ' +
        '"value": {{value}}, "breach": "{{predicted_breach}}", "labels": "{{labels}}"}',
    }));
    await sender.compose([event])(new AbortController().signal);
    const [request] = sink.requests;
    assert.equal(request.method, "PUT");
    assert.equal(request.headers.get("authorization"), "Bearer t0ken");
    assert.equal(request.headers.get("x-source"), "oxmon");
    assert.equal(request.headers.get("content-type"), "application/json");
    const body = JSON.parse(request.body);
    assert.deepEqual(Object.keys(body), ["text", "value", "breach", "labels"]);
    assert.equal(body.text, `[warning] db-1 disk.used_percent=91.23: ${HOSTILE}`);
    assert.equal(body.value, 91.234);
    assert.equal(body.breach, "2026-01-03T00:00:00.000Z");
    assert.equal(body.labels, "mount=/");
  } finally {
    await sink.close();
  }
});

Deno.test("webhook sends a text template as text/plain, unescaped", async () => {
  const sink = await startHttpSink();
  try {
    const sender = createWebhookSender(channel(sink.url, {
      bodyTemplate: "{{severity}} on {{agent_id}}: {{message}}",
    }));
    await sender.compose([event])(new AbortController().signal);
    const [request] = sink.requests;
    assert.equal(request.headers.get("content-type"), "text/plain; charset=utf-8");
    assert.equal(request.body, `warning on db-1: ${HOSTILE}`);
  } finally {
    await sink.close();
  }
});

Deno.test("webhook reports a non-2xx answer as an error with its status", async () => {
  const sink = await startHttpSink({ respond: () => new Response("nope", { status: 418 }) });
  try {
    const attempt = createWebhookSender(channel(sink.url)).compose([event]);
    await assert.rejects(attempt(new AbortController().signal), { message: "HTTP 418: nope" });
  } finally {
    await sink.close();
  }
});
