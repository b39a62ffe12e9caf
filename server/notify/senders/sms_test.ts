import assert from "node:assert/strict";
import type { AlertEvent } from "../../../shared/types.ts";
import { alertEvent } from "../../../tests/helpers/alert_harness.ts";
import { startHttpSink } from "../../../tests/helpers/http_sink.ts";
import type { SmsChannelConfig } from "../config.ts";
import { createSmsSender } from "./sms.ts";

const event: AlertEvent = alertEvent({ id: "ev-9", message: 'CPU "95%" & rising', timestampMs: 0 });

function channel(url: string, extra: Partial<SmsChannelConfig> = {}): SmsChannelConfig {
  return {
    name: "sms",
    type: "sms",
    minSeverity: "critical",
    aggregationWindowSecs: 0,
    gatewayUrl: url,
    apiKey: "k3y",
    method: "POST",
    headers: {},
    recipients: ["+8613800138000", "+15550100"],
    perRecipient: true,
    ...extra,
  };
}

const signal = () => new AbortController().signal;

Deno.test("SMS speaks the original generic gateway protocol by default", async () => {
  const sink = await startHttpSink();
  try {
    await createSmsSender(channel(`${sink.url}/send`)).compose([event])(signal());
    assert.equal(sink.requests.length, 2);
    for (const [index, request] of sink.requests.entries()) {
      assert.equal(request.method, "POST");
      assert.equal(request.path, "/send");
      assert.equal(request.headers.get("authorization"), "Bearer k3y");
      assert.equal(request.headers.get("content-type"), "application/json");
      assert.deepEqual(JSON.parse(request.body), {
        to: ["+8613800138000", "+15550100"][index],
        message: '[oxmon][critical] high-cpu web-1: CPU "95%" & rising',
      });
    }
  } finally {
    await sink.close();
  }
});

Deno.test("SMS can send one request for all numbers with a body template", async () => {
  const sink = await startHttpSink();
  try {
    await createSmsSender(channel(sink.url, {
      perRecipient: false,
      headers: { "X-Api-Key": "abc" },
      bodyTemplate: '{"numbers": "{{to}}", "text": "{{text}}", "sev": "{{severity}}"}',
    })).compose([event])(signal());
    assert.equal(sink.requests.length, 1);
    const [request] = sink.requests;
    assert.equal(request.headers.get("x-api-key"), "abc");
    assert.deepEqual(JSON.parse(request.body), {
      numbers: "+8613800138000,+15550100",
      text: '[oxmon][critical] high-cpu web-1: CPU "95%" & rising',
      sev: "critical",
    });
  } finally {
    await sink.close();
  }
});

Deno.test("SMS by GET puts percent-encoded values in the query", async () => {
  const sink = await startHttpSink();
  try {
    await createSmsSender(channel(`${sink.url}/api?account=7`, {
      method: "GET",
      queryTemplate: "to={{to}}&msg={{message}}&key={{api_key}}",
    })).compose([event])(signal());
    assert.equal(sink.requests.length, 2);
    const [first] = sink.requests;
    assert.equal(first.method, "GET");
    assert.equal(first.body, "");
    assert.equal(first.query.get("account"), "7");
    assert.equal(first.query.get("to"), "+8613800138000");
    assert.equal(first.query.get("msg"), 'CPU "95%" & rising');
    assert.equal(first.query.get("key"), "k3y");
  } finally {
    await sink.close();
  }
});

Deno.test("an SMS retry goes only to the numbers that failed", async () => {
  // The gateway fails the second number once.
  let failed = false;
  const sink = await startHttpSink({
    respond: (request) => {
      if (JSON.parse(request.body).to === "+15550100" && !failed) {
        failed = true;
        return new Response("quota", { status: 429 });
      }
      return new Response("ok");
    },
  });
  try {
    const attempt = createSmsSender(channel(sink.url)).compose([event]);
    await assert.rejects(attempt(signal()), { message: "+15550100: HTTP 429: quota" });
    await attempt(signal());
    assert.deepEqual(sink.requests.map((r) => JSON.parse(r.body).to), [
      "+8613800138000",
      "+15550100",
      "+15550100",
    ]);
  } finally {
    await sink.close();
  }
});
