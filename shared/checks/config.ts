/**
 * `[[checks]]` and `[check_settings]` of a config file, read with the shared `TableReader` so
 * every problem carries its TOML path (`checks[2].url: ...`). The server and the agent read the
 * same keys; `side` says which one is reading, because a few things only one of them can do.
 */
import type { TableReader } from "../config/mod.ts";
import {
  CHECK_TYPES,
  type CheckBase,
  type CheckSpec,
  type CheckType,
  DNS_RECORD_TYPES,
  type DnsRecordType,
  type StatusRange,
} from "./spec.ts";

export interface ChecksConfig {
  checks: readonly CheckSpec[];
  /** Most runs in progress at once; the others wait for a free slot. */
  maxConcurrent: number;
}

export interface ReadChecksOptions {
  /** Who runs the checks: the server (every type) or an agent (no heartbeat, TLS always verified). */
  side: "server" | "agent";
}

export const DEFAULT_CHECK_INTERVAL_SECS = 60;
export const DEFAULT_CHECK_TIMEOUT_SECS = 10;
export const DEFAULT_HEARTBEAT_GRACE_SECS = 60;
export const DEFAULT_MAX_CONCURRENT_CHECKS = 64;
export const DEFAULT_EXPECTED_STATUS: readonly StatusRange[] = Object.freeze([
  Object.freeze({ min: 200, max: 299 }),
]);
export const HTTP_METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"] as const;

const NAME = {
  pattern: /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/,
  patternHint: "1 to 64 letters, digits, '.', '_' or '-', starting with a letter or digit",
};
const TOKEN = {
  pattern: /^[A-Za-z0-9_-]{16,128}$/,
  patternHint: "16 to 128 letters, digits, '_' or '-' (e.g. from `openssl rand -hex 16`)",
};
const HOST = {
  pattern: /^[A-Za-z0-9._-]+$|^\[?[0-9A-Fa-f:.]+\]?$/,
  patternHint: "a host name or IP address",
};
/** Every key any check type reads; with an unknown `type` they are not judged one by one. */
const ALL_KEYS = [
  "from",
  "interval_secs",
  "timeout_secs",
  "url",
  "method",
  "headers",
  "body",
  "expected_status",
  "body_contains",
  "body_regex",
  "tls_verify",
  "tls_ca_file",
  "follow_redirects",
  "host",
  "port",
  "query_name",
  "record_type",
  "resolver",
  "expected",
  "token",
  "grace_secs",
];

/** Reads `[[checks]]` and `[check_settings]` from the root table. */
export function readChecksConfig(root: TableReader, options: ReadChecksOptions): ChecksConfig {
  const settings = root.table("check_settings");
  const maxConcurrent = settings.integer("max_concurrent", {
    default: DEFAULT_MAX_CONCURRENT_CHECKS,
    min: 1,
    max: 10_000,
  });
  settings.finish();
  const checks: CheckSpec[] = [];
  const firstPathOfName = new Map<string, string>();
  const firstPathOfToken = new Map<string, string>();
  for (const table of root.tables("checks")) {
    const spec = readCheck(table, options);
    if (!spec) continue;
    const earlier = firstPathOfName.get(spec.name);
    if (earlier !== undefined) {
      table.problem("name", `duplicate check name "${spec.name}" (also ${earlier})`);
      continue;
    }
    firstPathOfName.set(spec.name, table.pathOf("name"));
    if (spec.type === "heartbeat") {
      const sameToken = firstPathOfToken.get(spec.token);
      if (sameToken !== undefined) {
        table.problem("token", `the same token is used by ${sameToken}`);
        continue;
      }
      firstPathOfToken.set(spec.token, table.pathOf("token"));
    }
    checks.push(spec);
  }
  return { checks, maxConcurrent };
}

function readCheck(table: TableReader, options: ReadChecksOptions): CheckSpec | undefined {
  const name = table.string("name", NAME);
  const given = table.accept("type");
  const type = table.string("type", { oneOf: CHECK_TYPES }) as CheckType;
  if (!(CHECK_TYPES as readonly unknown[]).includes(given)) {
    // Without a known type the other keys cannot be judged; one problem is enough.
    for (const key of ALL_KEYS) table.accept(key);
    table.finish();
    return undefined;
  }
  if (options.side === "server") readFrom(table);
  else if (type === "heartbeat") {
    table.problem(
      "type",
      "heartbeat checks are pings the server receives; configure them in the server's config",
    );
  }
  const intervalSecs = type === "heartbeat"
    ? table.integer("interval_secs", { min: 1 })
    : table.integer("interval_secs", { default: DEFAULT_CHECK_INTERVAL_SECS, min: 1 });
  let timeoutSecs = 0;
  if (type !== "heartbeat") {
    timeoutSecs = table.integer("timeout_secs", {
      default: Math.min(DEFAULT_CHECK_TIMEOUT_SECS, intervalSecs),
      min: 1,
    });
    if (timeoutSecs > intervalSecs) {
      table.problem(
        "timeout_secs",
        `expected at most interval_secs (${intervalSecs}), got ${timeoutSecs}`,
      );
      timeoutSecs = intervalSecs;
    }
  }
  const base: CheckBase = { name, type, intervalSecs, timeoutSecs };
  let spec: CheckSpec;
  switch (type) {
    case "http":
      spec = readHttp(table, base, options);
      break;
    case "tcp":
      spec = {
        ...base,
        type,
        host: stripBrackets(table.string("host", HOST)),
        port: table.integer("port", { min: 1, max: 65535 }),
      };
      break;
    case "dns":
      spec = readDns(table, base);
      break;
    case "heartbeat":
      spec = {
        ...base,
        type,
        token: table.string("token", TOKEN),
        graceSecs: table.integer("grace_secs", { default: DEFAULT_HEARTBEAT_GRACE_SECS, min: 0 }),
      };
      break;
  }
  table.finish();
  return spec;
}

/** `from`: the server runs `"server"` checks; agents run the checks of their own config. */
function readFrom(table: TableReader): void {
  const from = table.accept("from");
  if (from === undefined || from === "server") return;
  table.problem(
    "from",
    `the server runs only from = "server" checks, got ${JSON.stringify(from)}; a check that ` +
      "runs on agents goes in the [[checks]] of those agents' config (they never take " +
      "commands from the server)",
  );
}

function readHttp(
  table: TableReader,
  base: CheckBase,
  options: ReadChecksOptions,
): CheckSpec {
  const url = table.string("url");
  if (url !== "") {
    let parsed: URL | undefined;
    try {
      parsed = new URL(url);
    } catch {
      // reported below
    }
    if (!parsed || (parsed.protocol !== "http:" && parsed.protocol !== "https:")) {
      table.problem("url", `expected an http:// or https:// URL, got "${url}"`);
    }
  }
  const method = table.string("method", { default: "GET", oneOf: HTTP_METHODS });
  const headers = table.stringMap("headers");
  for (const [header, value] of Object.entries(headers)) {
    if (!/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(header)) {
      table.problem(`headers.${header}`, "is not a valid HTTP header name");
    } else if (/[\r\n\0]/.test(value)) {
      table.problem(`headers.${header}`, "must not contain line breaks");
    }
  }
  const body = table.optionalString("body");
  if (body !== undefined && (method === "GET" || method === "HEAD")) {
    table.problem("body", `a ${method} request has no body`);
  }
  const bodyRegex = table.optionalString("body_regex");
  if (bodyRegex !== undefined) {
    try {
      new RegExp(bodyRegex);
    } catch (error) {
      table.problem("body_regex", `not a valid regular expression: ${(error as Error).message}`);
    }
  }
  const tlsVerify = table.boolean("tls_verify", { default: true });
  if (!tlsVerify && options.side === "agent") {
    table.problem(
      "tls_verify",
      "an agent always verifies certificates (Deno's fetch cannot skip it); trust a private CA " +
        "with tls_ca_file, or run the check from the server",
    );
  }
  return {
    ...base,
    type: "http",
    url,
    method,
    headers,
    ...(body === undefined ? {} : { body }),
    expectedStatus: readExpectedStatus(table),
    ...optional("bodyContains", table.optionalString("body_contains")),
    ...optional("bodyRegex", bodyRegex),
    tlsVerify,
    ...optional("tlsCaFile", table.optionalString("tls_ca_file")),
    followRedirects: table.boolean("follow_redirects", { default: true }),
  };
}

/**
 * `expected_status`: `200`, `"200-299"`, `"2xx"`, or an array of those. Default 200–299.
 */
function readExpectedStatus(table: TableReader): StatusRange[] {
  const value = table.accept("expected_status");
  if (value === undefined) return DEFAULT_EXPECTED_STATUS.map((range) => ({ ...range }));
  const items = Array.isArray(value) ? value : [value];
  const ranges: StatusRange[] = [];
  const hint = 'expected a status (200), a range ("200-299"), a class ("2xx") or an array of them';
  if (items.length === 0) table.problem("expected_status", `${hint}, got an empty array`);
  items.forEach((item, index) => {
    const key = Array.isArray(value) ? `expected_status[${index}]` : "expected_status";
    const range = parseStatusRange(item);
    if (range) ranges.push(range);
    else table.problem(key, `${hint}, got ${JSON.stringify(item)}`);
  });
  return ranges;
}

/** One `expected_status` item as a range, or undefined when it is not one. */
export function parseStatusRange(item: unknown): StatusRange | undefined {
  const valid = (code: number) => Number.isInteger(code) && code >= 100 && code <= 599;
  if (typeof item === "number") return valid(item) ? { min: item, max: item } : undefined;
  if (typeof item !== "string") return undefined;
  const text = item.trim();
  let match = /^([1-5])xx$/i.exec(text);
  if (match) return { min: Number(match[1]) * 100, max: Number(match[1]) * 100 + 99 };
  match = /^(\d{3})\s*-\s*(\d{3})$/.exec(text);
  if (match) {
    const [min, max] = [Number(match[1]), Number(match[2])];
    return valid(min) && valid(max) && min <= max ? { min, max } : undefined;
  }
  if (/^\d{3}$/.test(text) && valid(Number(text))) return { min: Number(text), max: Number(text) };
  return undefined;
}

function readDns(table: TableReader, base: CheckBase): CheckSpec {
  const queryName = table.string("query_name", {
    pattern: /^[A-Za-z0-9_*]([A-Za-z0-9_.-]*[A-Za-z0-9_.])?$/,
    patternHint: "a DNS name such as example.com",
  });
  const recordType = table.string("record_type", {
    default: "A",
    oneOf: DNS_RECORD_TYPES,
  }) as DnsRecordType;
  const resolverText = table.optionalString("resolver");
  let resolver: { ipAddr: string; port: number } | undefined;
  if (resolverText !== undefined) {
    resolver = parseResolver(resolverText);
    if (!resolver) {
      table.problem(
        "resolver",
        `expected an IP address with an optional port ("127.0.0.1", "127.0.0.1:5353", ` +
          `"[::1]:53"), got "${resolverText}"`,
      );
    }
  }
  const expectedValue = table.accept("expected");
  let expected: string[] = [];
  if (typeof expectedValue === "string") expected = [expectedValue];
  else if (
    Array.isArray(expectedValue) && expectedValue.every((item) => typeof item === "string")
  ) {
    expected = expectedValue as string[];
  } else if (expectedValue !== undefined) {
    table.problem("expected", "expected a string or an array of strings");
  }
  return {
    ...base,
    type: "dns",
    queryName,
    recordType,
    ...(resolver ? { resolver } : {}),
    expected,
  };
}

/** `"1.2.3.4"`, `"1.2.3.4:5353"`, `"::1"`, `"[::1]:53"`: an IP address and a port (53). */
export function parseResolver(text: string): { ipAddr: string; port: number } | undefined {
  const value = text.trim();
  let ipAddr: string;
  let port = 53;
  const v6 = /^\[([0-9A-Fa-f:.]+)\](?::(\d{1,5}))?$/.exec(value);
  const v4 = /^(\d{1,3}(?:\.\d{1,3}){3})(?::(\d{1,5}))?$/.exec(value);
  if (v6) {
    ipAddr = v6[1];
    if (v6[2] !== undefined) port = Number(v6[2]);
  } else if (v4) {
    ipAddr = v4[1];
    if (v4[1].split(".").some((octet) => Number(octet) > 255)) return undefined;
    if (v4[2] !== undefined) port = Number(v4[2]);
  } else if (/^[0-9A-Fa-f:]+$/.test(value) && value.includes(":")) {
    ipAddr = value;
  } else return undefined;
  if (port < 1 || port > 65535) return undefined;
  return { ipAddr, port };
}

function stripBrackets(host: string): string {
  return host.startsWith("[") && host.endsWith("]") ? host.slice(1, -1) : host;
}

function optional<K extends string, V>(key: K, value: V | undefined): { [P in K]?: V } {
  return (value === undefined ? {} : { [key]: value }) as { [P in K]?: V };
}
