/**
 * `[notification]` section of the server TOML: `[[notification.channels]]` (email, webhook, sms,
 * with the original oxmon keys), `[[notification.silence_windows]]` and
 * `aggregation_window_secs`. Every problem is reported with its TOML path.
 */
import type { TableReader } from "../../shared/config/mod.ts";
import { SEVERITIES, type Severity } from "../../shared/types.ts";
import { EVENT_FIELD_NAMES } from "./message.ts";
import { compileTemplate, formatForContentType, type TemplateFormat } from "./template.ts";

export const CHANNEL_TYPES = ["email", "webhook", "sms"] as const;
export type ChannelType = typeof CHANNEL_TYPES[number];

/**
 * How mail is encrypted: `none` (plain, STARTTLS ignored), `starttls` (STARTTLS required),
 * `implicit` (TLS from the first byte, usually port 465), `auto` (STARTTLS when offered).
 */
export const SMTP_TLS_MODES = ["auto", "none", "starttls", "implicit"] as const;
export type SmtpTlsMode = typeof SMTP_TLS_MODES[number];

interface ChannelCommon {
  /** Unique name used in logs and delivery records; default `<type>-<index>`. */
  name: string;
  minSeverity: Severity;
  /** Events arriving within this many seconds go out as one notification; 0 = at once. */
  aggregationWindowSecs: number;
}

export interface EmailChannelConfig extends ChannelCommon {
  type: "email";
  smtpHost: string;
  smtpPort: number;
  smtpUsername?: string;
  smtpPassword?: string;
  smtpTls: SmtpTlsMode;
  /** PEM of extra CA certificates trusted for the SMTP server (`smtp_ca_file`). */
  smtpCaPem?: string;
  /** Skip certificate verification (`smtp_tls_insecure`); for lab setups only. */
  smtpTlsInsecure: boolean;
  from: string;
  recipients: readonly string[];
}

export interface WebhookChannelConfig extends ChannelCommon {
  type: "webhook";
  url: string;
  method: "POST" | "PUT" | "PATCH";
  headers: Readonly<Record<string, string>>;
  bodyTemplate?: string;
}

export interface SmsChannelConfig extends ChannelCommon {
  type: "sms";
  gatewayUrl: string;
  apiKey?: string;
  method: "POST" | "PUT" | "GET";
  headers: Readonly<Record<string, string>>;
  bodyTemplate?: string;
  queryTemplate?: string;
  /** Phone numbers (`phone_numbers`, or `recipients` as some oxmon versions call them). */
  recipients: readonly string[];
  /** One request per phone number (default) or one request for all of them. */
  perRecipient: boolean;
}

export type ChannelConfig = EmailChannelConfig | WebhookChannelConfig | SmsChannelConfig;

export const RECURRENCES = ["daily", "weekdays", "weekly", "once"] as const;
export type Recurrence = typeof RECURRENCES[number];
export const WEEKDAYS = ["sun", "mon", "tue", "wed", "thu", "fri", "sat"] as const;
export type Weekday = typeof WEEKDAYS[number];

export interface SilenceWindowConfig {
  /** `HH:MM` as written, for logs. */
  startTime: string;
  endTime: string;
  /** Minutes after local midnight; `endMinute < startMinute` crosses midnight. */
  startMinute: number;
  endMinute: number;
  recurrence: Recurrence;
  /** `weekly` only: the days the window starts on. */
  days: readonly Weekday[];
  /** `once` only: the local day (`YYYY-MM-DD`) the window starts on. */
  date?: string;
  /** IANA time zone the times are in; default `UTC`. */
  timezone: string;
}

export interface NotificationConfig {
  channels: readonly ChannelConfig[];
  silenceWindows: readonly SilenceWindowConfig[];
  /** `[notification].aggregation_window_secs`, else the top-level key, else 0. */
  aggregationWindowSecs: number;
}

/** Placeholders an SMS template may use besides the event fields. */
export const SMS_FIELD_NAMES = [...EVENT_FIELD_NAMES, "to", "text", "api_key"] as const;

const HTTP_URL_HINT = "an http:// or https:// URL";

function readUrl(table: TableReader, key: string): string {
  const text = table.string(key);
  if (text === "" && !table.has(key)) return text;
  try {
    const url = new URL(text);
    if (url.protocol === "http:" || url.protocol === "https:") return text;
  } catch {
    // reported below
  }
  table.problem(key, `expected ${HTTP_URL_HINT}, got ${JSON.stringify(text)}`);
  return text;
}

function nonEmptyStrings(table: TableReader, key: string, what: string, options: {
  default?: string[];
  check?: (item: string) => boolean;
} = {}): string[] {
  const items = table.stringArray(key, "default" in options ? { default: options.default } : {});
  if (!table.has(key)) return items;
  if (items.length === 0) table.problem(key, `expected at least one ${what}`);
  items.forEach((item, index) => {
    if (item.trim() === "" || (options.check && !options.check(item))) {
      table.problem(`${key}[${index}]`, `expected a ${what}, got ${JSON.stringify(item)}`);
    }
  });
  return items;
}

function readTemplate(
  table: TableReader,
  key: string,
  known: readonly string[],
  format: TemplateFormat | "auto",
): string | undefined {
  const text = table.optionalString(key);
  if (text === undefined) return undefined;
  try {
    compileTemplate(text, { known, format });
  } catch (error) {
    table.problem(key, (error as Error).message);
  }
  return text;
}

function contentTypeOf(headers: Record<string, string>): string | undefined {
  const key = Object.keys(headers).find((name) => name.toLowerCase() === "content-type");
  return key === undefined ? undefined : headers[key];
}

function readHeaders(table: TableReader): Record<string, string> {
  const headers = table.stringMap("headers");
  for (const [name, value] of Object.entries(headers)) {
    if (!/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(name)) {
      table.problem(`headers.${name}`, "is not a valid HTTP header name");
    } else if (/[\r\n\0]/.test(value)) {
      table.problem(`headers.${name}`, "must not contain line breaks");
    }
  }
  return headers;
}

function readEmail(table: TableReader, common: ChannelCommon): EmailChannelConfig {
  const smtpHost = table.string("smtp_host");
  const tlsGiven = table.has("smtp_tls");
  const tlsKey = table.string("smtp_tls", { default: "auto", oneOf: SMTP_TLS_MODES });
  const smtpPort = table.integer("smtp_port", {
    default: tlsKey === "implicit" ? 465 : 587,
    min: 1,
    max: 65535,
  });
  const smtpTls = (tlsGiven ? tlsKey : smtpPort === 465 ? "implicit" : "auto") as SmtpTlsMode;
  const smtpUsername = table.optionalString("smtp_username") || undefined;
  const smtpPassword = table.optionalString("smtp_password");
  if (smtpUsername !== undefined && smtpPassword === undefined) {
    table.problem("smtp_password", "is required when smtp_username is set");
  }
  const caFile = table.optionalString("smtp_ca_file");
  let smtpCaPem: string | undefined;
  if (caFile !== undefined) {
    try {
      smtpCaPem = Deno.readTextFileSync(caFile);
    } catch (error) {
      table.problem("smtp_ca_file", `cannot read ${JSON.stringify(caFile)}: ${error}`);
    }
  }
  const isAddress = (item: string) => /^[^\s@<>]+@[^\s@<>]+$/.test(item);
  const from = table.string("from");
  if (table.has("from") && !/@/.test(from)) {
    table.problem("from", `expected a mail address, got ${JSON.stringify(from)}`);
  }
  return {
    ...common,
    type: "email",
    smtpHost,
    smtpPort,
    smtpUsername,
    smtpPassword,
    smtpTls,
    smtpCaPem,
    smtpTlsInsecure: table.boolean("smtp_tls_insecure", { default: false }),
    from,
    recipients: nonEmptyStrings(table, "recipients", "mail address", { check: isAddress }),
  };
}

function readWebhook(table: TableReader, common: ChannelCommon): WebhookChannelConfig {
  const headers = readHeaders(table);
  return {
    ...common,
    type: "webhook",
    url: readUrl(table, "url"),
    method: table.string("method", { default: "POST", oneOf: ["POST", "PUT", "PATCH"] }) as
      | "POST"
      | "PUT"
      | "PATCH",
    headers,
    bodyTemplate: readTemplate(
      table,
      "body_template",
      EVENT_FIELD_NAMES,
      formatForContentType(contentTypeOf(headers)),
    ),
  };
}

function readSms(table: TableReader, common: ChannelCommon): SmsChannelConfig {
  const headers = readHeaders(table);
  const method = table.string("method", { default: "POST", oneOf: ["POST", "PUT", "GET"] }) as
    | "POST"
    | "PUT"
    | "GET";
  const bodyTemplate = readTemplate(
    table,
    "body_template",
    SMS_FIELD_NAMES,
    formatForContentType(contentTypeOf(headers)),
  );
  if (bodyTemplate !== undefined && method === "GET") {
    table.problem("body_template", 'cannot be used with method = "GET"; use query_template');
  }
  const isPhone = (item: string) => /^\+?[0-9][0-9 ()-]*$/.test(item);
  let recipients: string[] = [];
  if (table.has("phone_numbers") && table.has("recipients")) {
    table.problem("recipients", "give the phone numbers in phone_numbers or recipients, not both");
  }
  if (table.has("recipients")) {
    recipients = nonEmptyStrings(table, "recipients", "phone number", { check: isPhone });
    table.accept("phone_numbers");
  } else {
    recipients = nonEmptyStrings(table, "phone_numbers", "phone number", { check: isPhone });
    table.accept("recipients");
  }
  return {
    ...common,
    type: "sms",
    gatewayUrl: readUrl(table, "gateway_url"),
    apiKey: table.optionalString("api_key") || undefined,
    method,
    headers,
    bodyTemplate,
    queryTemplate: readTemplate(table, "query_template", SMS_FIELD_NAMES, "query"),
    recipients,
    perRecipient: table.boolean("per_recipient", { default: true }),
  };
}

function readChannel(
  table: TableReader,
  index: number,
  defaultAggregationSecs: number,
): { name: string; channel?: ChannelConfig } {
  const type = table.string("type", { oneOf: CHANNEL_TYPES }) as ChannelType | "";
  const common: ChannelCommon = {
    name: table.string("name", { default: `${type || "channel"}-${index}`, pattern: /^\S+$/ }),
    minSeverity: table.string("min_severity", { default: "info", oneOf: SEVERITIES }) as Severity,
    aggregationWindowSecs: table.integer("aggregation_window_secs", {
      default: defaultAggregationSecs,
      min: 0,
    }),
  };
  const enabled = table.boolean("enabled", { default: true });
  let channel: ChannelConfig;
  if (type === "email") channel = readEmail(table, common);
  else if (type === "webhook") channel = readWebhook(table, common);
  else if (type === "sms") channel = readSms(table, common);
  // The type is wrong or missing (already reported): its other keys cannot be checked.
  else return { name: common.name };
  table.finish();
  return { name: common.name, channel: enabled ? channel : undefined };
}

const HH_MM = /^([01][0-9]|2[0-3]):([0-5][0-9])$/;

function readClock(table: TableReader, key: string): { text: string; minute: number } {
  const text = table.string(key);
  const match = HH_MM.exec(text);
  if (!match) {
    if (table.has(key)) table.problem(key, `expected HH:MM (00:00 to 23:59), got "${text}"`);
    return { text, minute: 0 };
  }
  return { text, minute: Number(match[1]) * 60 + Number(match[2]) };
}

const DAY_NAMES: Record<string, Weekday> = Object.fromEntries(
  ["sunday", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday"].flatMap(
    (full, day) => [[full, WEEKDAYS[day]], [WEEKDAYS[day], WEEKDAYS[day]]],
  ),
);

function readDate(table: TableReader): string | undefined {
  const value = table.accept("date");
  if (value === undefined) return undefined;
  // A bare TOML date (`date = 2026-12-24`) arrives as a Date at UTC midnight.
  const text = value instanceof Date && !Number.isNaN(value.getTime())
    ? value.toISOString().slice(0, 10)
    : value;
  if (typeof text !== "string" || !/^\d{4}-\d{2}-\d{2}$/.test(text)) {
    table.problem("date", `expected a date like "2026-12-24", got ${JSON.stringify(value)}`);
    return undefined;
  }
  const [year, month, day] = text.split("-").map(Number);
  const check = new Date(Date.UTC(year, month - 1, day));
  if (check.getUTCMonth() !== month - 1 || check.getUTCDate() !== day) {
    table.problem("date", `"${text}" is not a calendar date`);
    return undefined;
  }
  return text;
}

function readSilenceWindow(
  table: TableReader,
): { window: SilenceWindowConfig; aggregationWindowSecs?: number } {
  // The original example's trailing top-level key lands here when its silence window is enabled.
  const aggregationWindowSecs = table.has("aggregation_window_secs")
    ? table.integer("aggregation_window_secs", { min: 0 })
    : undefined;
  const start = readClock(table, "start_time");
  const end = readClock(table, "end_time");
  if (start.minute === end.minute && HH_MM.test(start.text) && HH_MM.test(end.text)) {
    table.problem("end_time", `must differ from start_time (both "${start.text}")`);
  }
  const recurrence = table.string("recurrence", {
    default: "daily",
    oneOf: RECURRENCES,
  }) as Recurrence;
  let days: Weekday[] = [];
  if (recurrence === "weekly") {
    const names = table.stringArray("days");
    days = names.flatMap((name, index) => {
      const day = DAY_NAMES[name.toLowerCase()];
      if (day === undefined) {
        table.problem(`days[${index}]`, `expected a weekday like "mon", got "${name}"`);
        return [];
      }
      return [day];
    });
    if (table.has("days") && names.length === 0) table.problem("days", "expected at least one day");
  } else if (table.has("days")) {
    table.accept("days");
    table.problem("days", 'is only used with recurrence = "weekly"');
  }
  const date = readDate(table);
  if (recurrence === "once" && date === undefined && !table.has("date")) {
    table.problem("date", 'is required with recurrence = "once"');
  } else if (recurrence !== "once" && table.has("date")) {
    table.problem("date", 'is only used with recurrence = "once"');
  }
  const timezone = table.string("timezone", { default: "UTC" });
  try {
    new Intl.DateTimeFormat("en-US", { timeZone: timezone });
  } catch {
    table.problem("timezone", `expected an IANA time zone like "Europe/Berlin", got "${timezone}"`);
  }
  table.finish();
  const window: SilenceWindowConfig = {
    startTime: start.text,
    endTime: end.text,
    startMinute: start.minute,
    endMinute: end.minute,
    recurrence,
    days,
    date,
    timezone,
  };
  return { window, aggregationWindowSecs };
}

/**
 * Reads `[notification]`. `aggregation_window_secs` is accepted, from strongest to weakest: in a
 * channel (for that channel), under `[notification]`, in a silence window, and at the top level of
 * the file (passed in here). The original example writes it at the end of the file, where TOML
 * scoping puts it into the last `[[notification.channels]]` or `[[notification.silence_windows]]`
 * table: in a channel it then applies to that channel only, in a silence window to all.
 */
export function readNotificationConfig(
  table: TableReader,
  topLevelAggregationWindowSecs: number | undefined,
): NotificationConfig {
  const windows = table.tables("silence_windows").map(readSilenceWindow);
  const silenceWindows = windows.map(({ window }) => window);
  const scopedAggregation = windows.findLast((read) => read.aggregationWindowSecs !== undefined)
    ?.aggregationWindowSecs;
  const aggregationWindowSecs = table.integer("aggregation_window_secs", {
    default: scopedAggregation ?? topLevelAggregationWindowSecs ?? 0,
    min: 0,
  });
  const names = new Set<string>();
  const channels = table.tables("channels").flatMap((channelTable, index) => {
    const { name, channel } = readChannel(channelTable, index, aggregationWindowSecs);
    if (names.has(name)) channelTable.problem("name", `duplicate channel name "${name}"`);
    names.add(name);
    return channel ? [channel] : [];
  });
  table.finish();
  return { channels, silenceWindows, aggregationWindowSecs };
}
