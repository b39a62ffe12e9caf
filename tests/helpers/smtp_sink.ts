/**
 * A real SMTP server (`npm:smtp-server`) on 127.0.0.1 (port 0) that keeps every mail it accepts,
 * with optional AUTH, STARTTLS and implicit TLS (certificates: `pki.ts`'s `selfSignedCert`).
 */
import { SMTPServer } from "smtp-server";

export interface ReceivedMail {
  from: string;
  recipients: string[];
  /** The user that authenticated, if any. */
  user?: string;
  /** Whether the session was encrypted (STARTTLS or implicit TLS). */
  secure: boolean;
  raw: string;
  subject: string;
  /** The body, with quoted-printable undone. */
  body: string;
}

export interface SmtpSink {
  port: number;
  mails: ReceivedMail[];
  /** Resolves once `count` mails have arrived; rejects after `timeoutMs` (default 5,000). */
  waitFor(count: number, timeoutMs?: number): Promise<void>;
  close(): Promise<void>;
}

export interface SmtpSinkOptions {
  /** Require AUTH with these credentials (allowed without TLS, for tests). */
  auth?: { user: string; pass: string };
  /** Offer STARTTLS with this certificate (or speak TLS at once with `implicitTls`). */
  tls?: { key: string; cert: string };
  implicitTls?: boolean;
  /** Recipients answered with 550. */
  rejectRecipients?: string[];
}

function header(raw: string, name: string): string {
  const head = raw.split(/\r?\n\r?\n/, 1)[0].replace(/\r?\n[ \t]+/g, " ");
  const line = head.split(/\r?\n/).find((item) =>
    item.toLowerCase().startsWith(`${name.toLowerCase()}:`)
  );
  return line ? line.slice(name.length + 1).trim() : "";
}

/** Undoes RFC 2047 encoded words (`=?UTF-8?Q?...?=`, `=?UTF-8?B?...?=`) in a header value. */
function decodeHeader(value: string): string {
  return value
    .replace(/\?=\s+=\?/g, "?==?")
    .replace(/=\?([^?]+)\?([QqBb])\?([^?]*)\?=/g, (_all, charset: string, kind: string, text) => {
      const bytes = kind.toUpperCase() === "B"
        ? Uint8Array.from(atob(text), (char) => char.charCodeAt(0))
        : new TextEncoder().encode(decodeQuotedPrintable(text.replace(/_/g, " ")));
      return new TextDecoder(charset).decode(bytes);
    });
}

function decodeQuotedPrintable(text: string): string {
  const bytes: number[] = [];
  const soft = text.replace(/=\r?\n/g, "");
  for (let i = 0; i < soft.length; i++) {
    if (soft[i] === "=" && /^[0-9A-F]{2}$/i.test(soft.slice(i + 1, i + 3))) {
      bytes.push(parseInt(soft.slice(i + 1, i + 3), 16));
      i += 2;
    } else bytes.push(...new TextEncoder().encode(soft[i]));
  }
  return new TextDecoder().decode(new Uint8Array(bytes));
}

export function startSmtpSink(options: SmtpSinkOptions = {}): Promise<SmtpSink> {
  const mails: ReceivedMail[] = [];
  const waiters: { count: number; resolve: () => void }[] = [];
  const server = new SMTPServer({
    logger: false,
    secure: options.implicitTls ?? false,
    ...(options.tls ? { key: options.tls.key, cert: options.tls.cert } : {}),
    disabledCommands: options.tls ? [] : ["STARTTLS"],
    authOptional: options.auth === undefined,
    allowInsecureAuth: true,
    onAuth(auth, _session, callback) {
      if (auth.username === options.auth?.user && auth.password === options.auth?.pass) {
        callback(null, { user: auth.username });
      } else callback(new Error("Invalid username or password"));
    },
    onRcptTo(address, _session, callback) {
      if (options.rejectRecipients?.includes(address.address)) {
        const error = Object.assign(new Error("No such user"), { responseCode: 550 });
        return callback(error);
      }
      callback();
    },
    onData(stream, session, callback) {
      const chunks: Uint8Array[] = [];
      stream.on("data", (chunk: Uint8Array) => chunks.push(chunk));
      stream.on("end", () => {
        const raw = new TextDecoder().decode(
          new Uint8Array(chunks.flatMap((chunk) => [...chunk])),
        );
        const bodyPart = raw.split(/\r?\n\r?\n/).slice(1).join("\r\n\r\n");
        const qp = /quoted-printable/i.test(header(raw, "Content-Transfer-Encoding"));
        mails.push({
          from: session.envelope.mailFrom ? session.envelope.mailFrom.address : "",
          recipients: session.envelope.rcptTo.map((item) => item.address),
          user: session.user as string | undefined,
          secure: session.secure,
          raw,
          subject: decodeHeader(header(raw, "Subject")),
          body: qp ? decodeQuotedPrintable(bodyPart) : bodyPart,
        });
        for (const waiter of [...waiters]) {
          if (mails.length >= waiter.count) {
            waiters.splice(waiters.indexOf(waiter), 1);
            waiter.resolve();
          }
        }
        callback();
      });
    },
  });
  // Without a handler smtp-server crashes the process when a client aborts TLS.
  server.on("error", () => {});
  return new Promise((resolve) => {
    server.listen(0, "127.0.0.1", () => {
      const address = server.server.address();
      resolve({
        port: typeof address === "object" && address ? address.port : 0,
        mails,
        waitFor(count, timeoutMs = 5_000) {
          if (mails.length >= count) return Promise.resolve();
          return new Promise((resolveWait, reject) => {
            const waiter = {
              count,
              resolve: () => {
                clearTimeout(timer);
                resolveWait();
              },
            };
            const timer = setTimeout(() => {
              waiters.splice(waiters.indexOf(waiter), 1);
              reject(new Error(`expected ${count} mails, got ${mails.length}`));
            }, timeoutMs);
            waiters.push(waiter);
          });
        },
        close: () => new Promise<void>((done) => server.close(() => done())),
      });
    });
  });
}
