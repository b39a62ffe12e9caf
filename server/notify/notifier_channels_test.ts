import assert from "node:assert/strict";
import { loadConfigText } from "../../shared/config/mod.ts";
import { ManualClock } from "../../shared/clock.ts";
import { memoryLogger } from "../../shared/log.ts";
import type { AlertEvent } from "../../shared/types.ts";
import { alertEvent } from "../../tests/helpers/alert_harness.ts";
import { startHttpSink } from "../../tests/helpers/http_sink.ts";
import { startSmtpSink } from "../../tests/helpers/smtp_sink.ts";
import { readNotificationConfig } from "./config.ts";
import { openNotifier } from "./notifier.ts";

Deno.test("a TOML configuration delivers to real mail, webhook and SMS peers", async () => {
  const smtp = await startSmtpSink({ auth: { user: "alerts", pass: "pw" } });
  const http = await startHttpSink();
  const dir = await Deno.makeTempDir();
  const config = loadConfigText(
    `
aggregation_window_secs = 0

[[notification.channels]]
type = "email"
min_severity = "warning"
smtp_host = "127.0.0.1"
smtp_port = ${smtp.port}
smtp_tls = "none"
smtp_username = "alerts"
smtp_password = "pw"
from = "oxmon@example.com"
recipients = ["ops@example.com"]

[[notification.channels]]
type = "webhook"
min_severity = "info"
url = "${http.url}/hook"
body_template = '{"text": "[{{severity}}] {{agent_id}}: {{message}}"}'

[[notification.channels]]
type = "sms"
min_severity = "critical"
gateway_url = "${http.url}/sms"
api_key = "key"
phone_numbers = ["+8613800138000"]
`,
    "test.toml",
    (root) => {
      root.accept("aggregation_window_secs");
      return readNotificationConfig(root.table("notification"), 0);
    },
  );
  const log = memoryLogger();
  const notifier = openNotifier({
    config,
    deliveryStorePath: `${dir}/notify.db`,
    clock: new ManualClock(Date.UTC(2026, 0, 2, 12)),
    log,
  });
  try {
    const fire: AlertEvent = alertEvent({ id: "fire-1", message: 'CPU "hot"', value: 99 });
    notifier.dispatch(fire);
    notifier.dispatch({ ...fire, id: "info-1", severity: "info", message: "just so you know" });
    await notifier.idle();

    assert.equal(smtp.mails.length, 1);
    assert.deepEqual(smtp.mails[0].recipients, ["ops@example.com"]);
    assert.match(smtp.mails[0].subject, /CRITICAL high-cpu on web-1: CPU "hot"/);
    const hooks = http.requests.filter((r) => r.path === "/hook").map((r) => JSON.parse(r.body));
    assert.deepEqual(hooks.map((h) => h.text).sort(), [
      '[critical] web-1: CPU "hot"',
      "[info] web-1: just so you know",
    ]);
    const sms = http.requests.filter((r) => r.path === "/sms");
    assert.equal(sms.length, 1);
    assert.equal(JSON.parse(sms[0].body).to, "+8613800138000");

    const records = notifier.deliveries().records;
    assert.deepEqual(
      records.map((r) => `${r.channel}:${r.eventIds.join()}:${r.status}`).sort(),
      [
        "email-0:fire-1:sent",
        "sms-2:fire-1:sent",
        "webhook-1:fire-1:sent",
        "webhook-1:info-1:sent",
      ],
    );
    assert.equal(log.lines.filter((line) => line.includes("notification sent")).length, 4);
  } finally {
    await notifier.close();
    await smtp.close();
    await http.close();
    await Deno.remove(dir, { recursive: true });
  }
});
