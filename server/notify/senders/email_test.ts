import assert from "node:assert/strict";
import type { AlertEvent } from "../../../shared/types.ts";
import { alertEvent } from "../../../tests/helpers/alert_harness.ts";
import { selfSignedCert } from "../../../tests/helpers/pki.ts";
import {
  type SmtpSink,
  type SmtpSinkOptions,
  startSmtpSink,
} from "../../../tests/helpers/smtp_sink.ts";
import type { EmailChannelConfig } from "../config.ts";
import type { Sender } from "./types.ts";
import { createEmailSender } from "./email.ts";

function event(overrides: Partial<AlertEvent> = {}): AlertEvent {
  return alertEvent({
    id: "ev-42",
    labels: { core: "3" },
    message: "CPU usage 97.5% above 90%",
    value: 97.5,
    timestampMs: Date.UTC(2026, 0, 2, 3, 4, 5),
    ...overrides,
  });
}

function channel(port: number, extra: Partial<EmailChannelConfig> = {}): EmailChannelConfig {
  return {
    name: "mail",
    type: "email",
    minSeverity: "warning",
    aggregationWindowSecs: 0,
    smtpHost: "127.0.0.1",
    smtpPort: port,
    smtpTls: "none",
    smtpTlsInsecure: false,
    from: "oxmon@example.com",
    recipients: ["ops@example.com", "oncall@example.com"],
    ...extra,
  };
}

async function withMail(
  sinkOptions: SmtpSinkOptions,
  channelOptions: Partial<EmailChannelConfig>,
  body: (sink: SmtpSink, sender: Sender) => Promise<void>,
): Promise<void> {
  const sink = await startSmtpSink(sinkOptions);
  const sender = createEmailSender(channel(sink.port, channelOptions), { timeoutMs: 3_000 });
  try {
    await body(sink, sender);
  } finally {
    await sender.close();
    await sink.close();
  }
}

const signal = () => new AbortController().signal;

Deno.test("email reaches a real SMTP server with its recipients, subject and body", async () => {
  await withMail({}, {}, async (sink, sender) => {
    await sender.compose([event()])(signal());
    assert.equal(sink.mails.length, 1);
    const [mail] = sink.mails;
    assert.equal(mail.from, "oxmon@example.com");
    assert.deepEqual(mail.recipients, ["ops@example.com", "oncall@example.com"]);
    assert.equal(mail.secure, false);
    assert.equal(mail.subject, "[oxmon] CRITICAL high-cpu on web-1: CPU usage 97.5% above 90%");
    assert.match(mail.body, /\[CRITICAL\] high-cpu web-1 cpu\.usage\{core=3\} = 97\.5/);
    assert.match(mail.body, /threshold: 90/);
    assert.match(mail.body, /time: {6}2026-01-02T03:04:05\.000Z/);
    assert.match(mail.body, /event id: {2}ev-42/);

    // The pooled transport serves the next notification too.
    await sender.compose([event({ id: "ev-43", status: "resolved" })])(signal());
    assert.equal(sink.mails.length, 2);
    assert.match(sink.mails[1].subject, /^\[oxmon\] RESOLVED high-cpu on web-1/);
  });
});

Deno.test("aggregated events arrive as one mail listing each", async () => {
  await withMail({}, {}, async (sink, sender) => {
    await sender.compose([
      event({ id: "a", severity: "warning", message: "first\nline" }),
      event({ id: "b", ruleName: "disk-full", agentId: "db-1" }),
    ])(signal());
    const [mail] = sink.mails;
    assert.equal(mail.subject, "[oxmon] 2 alerts, highest CRITICAL: high-cpu, disk-full");
    assert.match(mail.body, /^2 alerts:/);
    assert.match(mail.body, /event id: {2}a/);
    assert.match(mail.body, /event id: {2}b/);
  });
});

Deno.test("email authenticates with smtp_username and smtp_password", async (t) => {
  const auth = { user: "alerts", pass: "s3cret" };
  await t.step("right credentials", async () => {
    await withMail(
      { auth },
      { smtpUsername: "alerts", smtpPassword: "s3cret" },
      async (sink, s) => {
        await s.compose([event()])(signal());
        assert.equal(sink.mails[0].user, "alerts");
      },
    );
  });
  await t.step("wrong credentials fail the attempt", async () => {
    await withMail({ auth }, { smtpUsername: "alerts", smtpPassword: "nope" }, async (sink, s) => {
      await assert.rejects(s.compose([event()])(signal()), /Invalid username or password/);
      assert.equal(sink.mails.length, 0);
    });
  });
});

Deno.test("email encrypts with STARTTLS or implicit TLS", async (t) => {
  const dir = await Deno.makeTempDir();
  try {
    const tls = await selfSignedCert(dir);
    await t.step("STARTTLS, trusting the server's CA", async () => {
      await withMail(
        { tls, auth: { user: "u", pass: "p" } },
        { smtpTls: "starttls", smtpCaPem: tls.cert, smtpUsername: "u", smtpPassword: "p" },
        async (sink, sender) => {
          await sender.compose([event()])(signal());
          assert.equal(sink.mails[0].secure, true);
          assert.equal(sink.mails[0].user, "u");
        },
      );
    });
    await t.step("implicit TLS", async () => {
      await withMail(
        { tls, implicitTls: true },
        { smtpTls: "implicit", smtpCaPem: tls.cert },
        async (sink, sender) => {
          await sender.compose([event()])(signal());
          assert.equal(sink.mails[0].secure, true);
        },
      );
    });
    await t.step("an untrusted certificate fails the attempt", async () => {
      await withMail({ tls }, { smtpTls: "starttls" }, async (sink, sender) => {
        await assert.rejects(sender.compose([event()])(signal()));
        assert.equal(sink.mails.length, 0);
      });
    });
    await t.step("starttls required but not offered fails the attempt", async () => {
      await withMail({}, { smtpTls: "starttls" }, async (sink, sender) => {
        await assert.rejects(sender.compose([event()])(signal()), /STARTTLS/);
        assert.equal(sink.mails.length, 0);
      });
    });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a rejected recipient fails the attempt and only it is retried", async () => {
  await withMail({ rejectRecipients: ["oncall@example.com"] }, {}, async (sink, sender) => {
    const attempt = sender.compose([event()]);
    await assert.rejects(attempt(signal()), { message: "recipients rejected: oncall@example.com" });
    assert.deepEqual(sink.mails[0].recipients, ["ops@example.com"]);
    await assert.rejects(attempt(signal()));
    assert.equal(sink.mails.length, 1, "the accepted recipient is not mailed again");
  });
});
