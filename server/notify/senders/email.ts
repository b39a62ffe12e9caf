/**
 * Email channel: one mail per notification to every recipient, through one pooled nodemailer
 * transport per channel (connections are reused between notifications).
 */
import nodemailer from "nodemailer";
import { deadline } from "../../../shared/deadline.ts";
import type { EmailChannelConfig } from "../config.ts";
import { mailBody, mailSubject } from "../message.ts";
import type { Sender } from "./types.ts";

export interface EmailSenderOptions {
  /** Connection, greeting and socket timeout. Default 10,000 ms. */
  timeoutMs?: number;
}

export function createEmailSender(
  config: EmailChannelConfig,
  options: EmailSenderOptions = {},
): Sender {
  const timeoutMs = options.timeoutMs ?? 10_000;
  const transport = nodemailer.createTransport({
    host: config.smtpHost,
    port: config.smtpPort,
    secure: config.smtpTls === "implicit",
    ignoreTLS: config.smtpTls === "none",
    requireTLS: config.smtpTls === "starttls",
    auth: config.smtpUsername === undefined
      ? undefined
      : { user: config.smtpUsername, pass: config.smtpPassword ?? "" },
    tls: {
      rejectUnauthorized: !config.smtpTlsInsecure,
      ...(config.smtpCaPem === undefined ? {} : { ca: config.smtpCaPem }),
    },
    pool: true,
    maxConnections: 1,
    connectionTimeout: timeoutMs,
    greetingTimeout: timeoutMs,
    socketTimeout: timeoutMs,
    logger: false,
  });
  return {
    compose(events) {
      const subject = mailSubject(events);
      const text = mailBody(events);
      let pending = [...config.recipients];
      return async (signal) => {
        signal.throwIfAborted();
        const info = await deadline(
          transport.sendMail({ from: config.from, to: pending, subject, text }),
          Infinity,
          { signal },
        );
        const rejected = (info.rejected ?? []).map(String);
        if (rejected.length > 0) {
          pending = pending.filter((address) => rejected.includes(address));
          throw new Error(`recipients rejected: ${rejected.join(", ")}`);
        }
        pending = [];
      };
    },
    close() {
      transport.close();
      return Promise.resolve();
    },
  };
}
