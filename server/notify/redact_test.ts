import assert from "node:assert/strict";
import { Hono } from "hono";
import { loadConfigText } from "../../shared/config/mod.ts";
import { ManualClock } from "../../shared/clock.ts";
import { memoryLogger } from "../../shared/log.ts";
import type { AlertEvent } from "../../shared/types.ts";
import { alertEvent } from "../../tests/helpers/alert_harness.ts";
import { startHttpSink } from "../../tests/helpers/http_sink.ts";
import { readNotificationConfig } from "./config.ts";
import { openNotifier } from "./notifier.ts";
import { createRedactor, MAX_ERROR_TEXT, REDACTED } from "./redact.ts";
import { createNotificationRoutes } from "./routes.ts";

const API_KEY = "sk_live_4eC39HqLyjWDarjtT1zdp7dc";
const URL_SECRET = "T000000/B000000/XXXXXXXXXXXXXXXXXXXXXXXX";
const HEADER_SECRET = "hdr-secret-5f8a9b1c2d";
const QUERY_SECRET = "qs-9d8c7b6a5f4e";
const USER_PASSWORD = "pw-url-credential-77";

Deno.test("createRedactor removes known secrets in any encoding and anything shaped like a secret", () => {
  const redact = createRedactor([API_KEY, "Bearer hdr-token-123456"]);
  const text = redact(
    `HTTP 401: {"api_key":"${API_KEY}","echo":"${encodeURIComponent(API_KEY)}",` +
      `"url":"https://bob:hunter22@gw.example/send?token=abc123&to=%2B1","auth":"Bearer zz9-tok-xyz",` +
      `"hdr":"hdr-token-123456","password":"p4ss-w0rd"}`,
  );
  for (
    const secret of [API_KEY, "hunter22", "abc123", "zz9-tok-xyz", "hdr-token-123456", "p4ss-w0rd"]
  ) {
    assert.ok(!text.includes(secret), `${secret} left in ${text}`);
  }
  assert.ok(text.includes(REDACTED));
  assert.ok(text.includes("to=%2B1"), "an ordinary parameter stays readable");
  assert.ok(redact("x".repeat(10_000)).length <= MAX_ERROR_TEXT + 1);
});

Deno.test("a gateway that echoes its request leaves no secret in the log, the delivery record or the deliveries API", async () => {
  // The echo gateway: answers 500 with everything it was sent.
  const gateway = await startHttpSink({
    respond: (request) => {
      const headers = [...request.headers].map(([name, value]) => `${name}: ${value}`).join("\n");
      return new Response(
        `bad request ${request.method} ${request.path}?${request.query}\n${headers}\n${request.body}`,
        { status: 500 },
      );
    },
  });
  const port = new URL(gateway.url).port;
  const dir = await Deno.makeTempDir();
  const config = loadConfigText(
    `
[[notification.channels]]
type = "sms"
name = "sms"
gateway_url = "http://127.0.0.1:${port}/send?account=7&key=${QUERY_SECRET}"
api_key = "${API_KEY}"
phone_numbers = ["+15550100"]
body_template = '{"to": "{{to}}", "text": "{{text}}", "key": "{{api_key}}"}'

[[notification.channels]]
type = "webhook"
name = "hook"
url = "http://ops:${USER_PASSWORD}@127.0.0.1:${port}/services/${URL_SECRET}"
headers = { "X-Signature" = "${HEADER_SECRET}" }
`,
    "test.toml",
    (root) => readNotificationConfig(root.table("notification"), 0),
  );
  const log = memoryLogger();
  const notifier = openNotifier({
    config,
    deliveryStorePath: `${dir}/notify.db`,
    clock: new ManualClock(Date.UTC(2026, 0, 2, 12)),
    log,
    retry: { retries: 1, baseDelayMs: 1, maxDelayMs: 1, attemptTimeoutMs: 5_000 },
  });
  try {
    const event: AlertEvent = alertEvent({ id: "fire-1", value: 99 });
    notifier.dispatch(event);
    await notifier.idle();
    assert.ok(gateway.requests.length >= 4, "both channels tried twice");
    // The gateway really did echo the secrets.
    const echoed = gateway.requests.map((r) => r.body + [...r.headers].join()).join();
    assert.ok(echoed.includes(API_KEY) && echoed.includes(HEADER_SECRET));

    const app = new Hono().route(
      "/",
      createNotificationRoutes({ deliveries: (query) => notifier.deliveries(query) }),
    );
    const answer = await (await app.request("/deliveries")).text();
    const record = JSON.stringify(notifier.deliveries({ limit: 100, offset: 0 }));
    assert.match(answer, /"status":"failed"/);
    assert.match(answer, /HTTP 500/);
    const secrets = [API_KEY, URL_SECRET, HEADER_SECRET, QUERY_SECRET, USER_PASSWORD];
    for (
      const [where, text] of [["log", log.lines.join("\n")], ["record", record], ["api", answer]]
    ) {
      for (const secret of secrets) {
        assert.ok(!text.includes(secret), `${secret} leaked into the ${where}: ${text}`);
      }
    }
  } finally {
    await notifier.close(0);
    await gateway.close();
    await Deno.remove(dir, { recursive: true });
  }
});
