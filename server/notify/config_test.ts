import assert from "node:assert/strict";
import { ConfigError, loadConfigText } from "../../shared/config/mod.ts";
import { parseServerConfig } from "../config.ts";
import { type NotificationConfig, readNotificationConfig } from "./config.ts";

/** Reads `[notification]` the way server/config.ts does, without the rest of the server keys. */
function load(text: string): Readonly<NotificationConfig> {
  return loadConfigText(text, "test.toml", (root) => {
    const top = root.has("aggregation_window_secs")
      ? root.integer("aggregation_window_secs", { min: 0 })
      : undefined;
    return readNotificationConfig(root.table("notification"), top);
  });
}

function problemsOf(text: string): readonly string[] {
  try {
    load(text);
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  assert.fail("expected a ConfigError");
}

// The notification part of the original oxmon server.example.toml, as written there.
const ORIGINAL = `
grpc_port = 9090
http_port = 8080
data_dir = "data"
retention_days = 7

[[notification.channels]]
type = "email"
min_severity = "warning"
smtp_host = "smtp.example.com"
smtp_port = 587
smtp_username = "alerts@example.com"
smtp_password = "your-password"
from = "alerts@example.com"
recipients = ["admin@example.com"]

[[notification.channels]]
type = "webhook"
min_severity = "info"
url = "https://hooks.slack.com/services/xxx/yyy/zzz"
body_template = '{"text": "[{{severity}}] {{agent_id}}: {{message}}"}'

[[notification.channels]]
type = "sms"
min_severity = "critical"
gateway_url = "https://sms-gateway.example.com/send"
api_key = "your-sms-api-key"
phone_numbers = ["+8613800138000"]

[[notification.silence_windows]]
start_time = "02:00"
end_time = "04:00"
recurrence = "daily"

# Aggregation window for batching similar alerts (seconds)
aggregation_window_secs = 60
`;

Deno.test("the original oxmon notification keys load unchanged through the server config", () => {
  const config = parseServerConfig(ORIGINAL).notification;
  assert.equal(config.channels.length, 3);
  const [email, webhook, sms] = config.channels;
  assert.deepEqual(email, {
    name: "email-0",
    type: "email",
    minSeverity: "warning",
    aggregationWindowSecs: 60,
    smtpHost: "smtp.example.com",
    smtpPort: 587,
    smtpUsername: "alerts@example.com",
    smtpPassword: "your-password",
    smtpTls: "auto",
    smtpCaPem: undefined,
    smtpTlsInsecure: false,
    from: "alerts@example.com",
    recipients: ["admin@example.com"],
  });
  assert.equal(webhook.type, "webhook");
  assert.equal(webhook.minSeverity, "info");
  assert.equal(sms.type, "sms");
  if (sms.type !== "sms") return;
  assert.deepEqual(sms.recipients, ["+8613800138000"]);
  assert.equal(sms.apiKey, "your-sms-api-key");
  assert.equal(sms.method, "POST");
  assert.equal(sms.perRecipient, true);
  // TOML scoping puts the trailing key into the last table: here the silence window, so it
  // applies to every channel.
  assert.deepEqual(config.channels.map((channel) => channel.aggregationWindowSecs), [60, 60, 60]);
  assert.deepEqual(config.silenceWindows, [{
    startTime: "02:00",
    endTime: "04:00",
    startMinute: 120,
    endMinute: 240,
    recurrence: "daily",
    days: [],
    date: undefined,
    timezone: "UTC",
  }]);
});

Deno.test("the original layout without a silence window aggregates only the last channel", () => {
  const text = ORIGINAL.replace(/\[\[notification\.silence_windows\]\][^#]*/, "");
  const config = parseServerConfig(text).notification;
  assert.equal(config.silenceWindows.length, 0);
  assert.deepEqual(config.channels.map((channel) => channel.aggregationWindowSecs), [0, 0, 60]);
});

Deno.test("aggregation_window_secs is read per channel, under [notification] and at the top", async (t) => {
  const channels = `
[[notification.channels]]
type = "webhook"
url = "http://127.0.0.1:1/a"

[[notification.channels]]
type = "webhook"
url = "http://127.0.0.1:1/b"
aggregation_window_secs = 5
`;
  await t.step("top level applies to channels without their own", () => {
    const config = load(`aggregation_window_secs = 60\n${channels}`);
    assert.deepEqual(config.channels.map((c) => c.aggregationWindowSecs), [60, 5]);
  });
  await t.step("[notification] wins over the top level", () => {
    const config = load(
      `aggregation_window_secs = 60\n[notification]\naggregation_window_secs = 30\n${channels}`,
    );
    assert.deepEqual(config.channels.map((c) => c.aggregationWindowSecs), [30, 5]);
    assert.equal(config.aggregationWindowSecs, 30);
  });
  await t.step("absent everywhere means 0: send at once", () => {
    assert.deepEqual(load(channels).channels.map((c) => c.aggregationWindowSecs), [0, 5]);
  });
});

Deno.test("SMTP TLS mode defaults by port and can be set", () => {
  const config = load(`
[[notification.channels]]
type = "email"
smtp_host = "mail"
smtp_port = 465
from = "a@b.c"
recipients = ["x@y.z"]

[[notification.channels]]
type = "email"
smtp_host = "mail"
smtp_tls = "implicit"
from = "a@b.c"
recipients = ["x@y.z"]

[[notification.channels]]
type = "email"
smtp_host = "mail"
smtp_port = 25
smtp_tls = "none"
from = "a@b.c"
recipients = ["x@y.z"]
`);
  assert.deepEqual(
    config.channels.map((c) => c.type === "email" && [c.smtpPort, c.smtpTls]),
    [[465, "implicit"], [465, "implicit"], [25, "none"]],
  );
});

Deno.test("SMS accepts recipients instead of phone_numbers, and gateway options", () => {
  const config = load(`
[[notification.channels]]
type = "sms"
name = "pager"
gateway_url = "http://127.0.0.1:1/send"
recipients = ["+15550001", "+15550002"]
method = "GET"
query_template = "to={{to}}&text={{text}}&key={{api_key}}"
per_recipient = false
headers = { "X-Key" = "k" }
`);
  const sms = config.channels[0];
  assert.equal(sms.type, "sms");
  if (sms.type !== "sms") return;
  assert.equal(sms.name, "pager");
  assert.deepEqual(sms.recipients, ["+15550001", "+15550002"]);
  assert.equal(sms.method, "GET");
  assert.equal(sms.perRecipient, false);
  assert.deepEqual(sms.headers, { "X-Key": "k" });
});

Deno.test("silence windows read weekly days, a once date and a time zone", () => {
  const config = load(`
[[notification.silence_windows]]
start_time = "22:00"
end_time = "06:00"
recurrence = "weekly"
days = ["Mon", "friday"]
timezone = "Asia/Shanghai"

[[notification.silence_windows]]
start_time = "01:00"
end_time = "02:30"
recurrence = "once"
date = 2026-12-24

[[notification.silence_windows]]
start_time = "01:00"
end_time = "02:30"
recurrence = "once"
date = "2026-12-25"
`);
  const [weekly, onceBare, onceString] = config.silenceWindows;
  assert.deepEqual(weekly.days, ["mon", "fri"]);
  assert.equal(weekly.startMinute, 22 * 60);
  assert.equal(weekly.endMinute, 6 * 60);
  assert.equal(weekly.timezone, "Asia/Shanghai");
  assert.equal(onceBare.date, "2026-12-24");
  assert.equal(onceString.date, "2026-12-25");
});

Deno.test("a disabled channel is read and checked but not used", () => {
  const config = load(`
[[notification.channels]]
type = "webhook"
enabled = false
url = "http://127.0.0.1:1/a"
`);
  assert.equal(config.channels.length, 0);
});

Deno.test("every configuration problem is reported with its TOML path", () => {
  const problems = problemsOf(`
[notification]
aggregation_window_secs = -1
colour = "blue"

[[notification.channels]]
type = "pager"

[[notification.channels]]
type = "email"
min_severity = "urgent"
smtp_port = 70000
smtp_tls = "ssl"
smtp_username = "u"
from = "nobody"
recipients = ["ok@example.com", "not an address"]
recipient = "typo@example.com"

[[notification.channels]]
type = "webhook"
url = "ftp://example.com/hook"
body_template = '{"text": "{{mesage}}"}'
headers = { "Content-Type" = "application/json", "Bad Header" = "x" }

[[notification.channels]]
type = "webhook"
url = "http://example.com/hook"
headers = { "Content-Type" = "application/json" }
body_template = 'text {{message}}'

[[notification.channels]]
type = "sms"
gateway_url = "http://example.com/sms"
method = "GET"
body_template = "{{text}}"
phone_numbers = []

[[notification.channels]]
type = "sms"
gateway_url = "http://example.com/sms"
phone_numbers = ["+1", "call me"]
recipients = ["+2"]

[[notification.channels]]
type = "webhook"
name = "dup"
url = "http://example.com/1"

[[notification.channels]]
type = "webhook"
name = "dup"
url = "http://example.com/2"

[[notification.silence_windows]]
start_time = "25:00"
end_time = "04:00"
recurrence = "weekly"
days = ["funday"]
timezone = "Mars/Olympus"

[[notification.silence_windows]]
start_time = "03:00"
end_time = "03:00"
recurrence = "once"

[[notification.silence_windows]]
start_time = "01:00"
end_time = "02:00"
recurrence = "daily"
date = "2026-02-30"
days = ["mon"]
`);
  const expected = [
    "notification.aggregation_window_secs: expected a non-negative integer, got -1",
    'notification.channels[0].type: expected one of "email", "webhook", "sms", got "pager"',
    'notification.channels[1].min_severity: expected one of "info", "warning", "critical", got "urgent"',
    "notification.channels[1].smtp_host: is required",
    'notification.channels[1].smtp_tls: expected one of "auto", "none", "starttls", "implicit", got "ssl"',
    "notification.channels[1].smtp_port: expected an integer of at most 65535, got 70000",
    "notification.channels[1].smtp_password: is required when smtp_username is set",
    'notification.channels[1].from: expected a mail address, got "nobody"',
    'notification.channels[1].recipients[1]: expected a mail address, got "not an address"',
    "notification.channels[1].recipient: unknown key",
    "notification.channels[2].headers.Bad Header: is not a valid HTTP header name",
    'notification.channels[2].url: expected an http:// or https:// URL, got "ftp://example.com/hook"',
    "notification.channels[2].body_template: unknown placeholder {{mesage}}; expected one of",
    "notification.channels[3].body_template: is not valid JSON once its placeholders are filled in",
    'notification.channels[4].body_template: cannot be used with method = "GET"; use query_template',
    "notification.channels[4].phone_numbers: expected at least one phone number",
    "notification.channels[5].recipients: give the phone numbers in phone_numbers or recipients, not both",
    'notification.channels[7].name: duplicate channel name "dup"',
    'notification.silence_windows[0].start_time: expected HH:MM (00:00 to 23:59), got "25:00"',
    'notification.silence_windows[0].days[0]: expected a weekday like "mon", got "funday"',
    'notification.silence_windows[0].timezone: expected an IANA time zone like "Europe/Berlin", got "Mars/Olympus"',
    'notification.silence_windows[1].end_time: must differ from start_time (both "03:00")',
    'notification.silence_windows[1].date: is required with recurrence = "once"',
    'notification.silence_windows[2].days: is only used with recurrence = "weekly"',
    'notification.silence_windows[2].date: "2026-02-30" is not a calendar date',
    "notification.colour: unknown key",
  ];
  for (const line of expected) {
    assert.ok(
      problems.some((problem) => problem.startsWith(line)),
      `missing problem: ${line}\ngot:\n${problems.join("\n")}`,
    );
  }
});
