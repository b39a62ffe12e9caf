/**
 * What a check is (`[[checks]]` in the server's or an agent's config) and what one run of it
 * yields. Shared by the server and the agent, so it uses nothing but the language and Deno.
 */

export const CHECK_TYPES = ["http", "tcp", "dns", "heartbeat"] as const;
export type CheckType = typeof CHECK_TYPES[number];

/** Keys every check has. */
export interface CheckBase {
  /** Unique among the checks of one config; the `check` label of its samples. */
  name: string;
  type: CheckType;
  /** Seconds between two runs (for a heartbeat: the period within which a ping must arrive). */
  intervalSecs: number;
  /** A run that takes longer fails with a timeout; never more than `intervalSecs`. */
  timeoutSecs: number;
}

/** An inclusive range of HTTP status codes; `200-299` is `{ min: 200, max: 299 }`. */
export interface StatusRange {
  min: number;
  max: number;
}

export interface HttpCheckSpec extends CheckBase {
  type: "http";
  url: string;
  method: string;
  headers: Readonly<Record<string, string>>;
  /** Request body (not with GET or HEAD). */
  body?: string;
  /** The check is up when the status is in one of these ranges. */
  expectedStatus: readonly StatusRange[];
  /** The response body must contain this text. */
  bodyContains?: string;
  /** The response body must match this regular expression (JavaScript syntax). */
  bodyRegex?: string;
  /** `false` accepts any certificate (the server only; Deno's fetch always verifies). */
  tlsVerify: boolean;
  /** PEM file of extra CA certificates to trust. */
  tlsCaFile?: string;
  followRedirects: boolean;
}

export interface TcpCheckSpec extends CheckBase {
  type: "tcp";
  host: string;
  port: number;
}

export const DNS_RECORD_TYPES = ["A", "AAAA", "CNAME", "MX", "NS", "PTR", "SRV", "TXT"] as const;
export type DnsRecordType = typeof DNS_RECORD_TYPES[number];

export interface DnsCheckSpec extends CheckBase {
  type: "dns";
  /** The name looked up, e.g. `example.com`. */
  queryName: string;
  recordType: DnsRecordType;
  /** Name server to ask; the system's resolver when absent. */
  resolver?: { ipAddr: string; port: number };
  /** Every one of these must be among the answers (compared as `answerText` writes them). */
  expected: readonly string[];
}

export interface HeartbeatCheckSpec extends CheckBase {
  type: "heartbeat";
  /** Secret part of the ping URL `/api/v1/heartbeat/<token>`. */
  token: string;
  /** How long after `intervalSecs` a ping may be late before the check fails. */
  graceSecs: number;
}

export type CheckSpec = HttpCheckSpec | TcpCheckSpec | DnsCheckSpec | HeartbeatCheckSpec;

/** A check the runner probes itself (a heartbeat is pushed to the server instead). */
export type ProbedCheckSpec = HttpCheckSpec | TcpCheckSpec | DnsCheckSpec;

/** What one run found out. */
export interface CheckOutcome {
  up: boolean;
  /** How long the probe took, in milliseconds. */
  durationMs: number;
  /** Why it is down, or a short summary when up (`200 OK`, `10.0.0.1`). */
  message: string;
  /** HTTP: the final response's status. */
  statusCode?: number;
  /** HTTPS: whole days until the server's certificate expires (negative once expired). */
  certificateDaysLeft?: number;
  /** DNS: the answers, as text. */
  answers?: readonly string[];
}

/** One run of one check, as reported. */
export interface CheckResult extends CheckOutcome {
  name: string;
  type: CheckType;
  /** What was checked: the URL, `host:port`, `name TYPE @resolver`, or `heartbeat`. */
  target: string;
  /** When the run started (the injected clock), epoch ms. */
  timestampMs: number;
}

/** The `target` label of a check's samples. */
export function targetOf(spec: CheckSpec): string {
  switch (spec.type) {
    case "http":
      return spec.url;
    case "tcp":
      return `${spec.host.includes(":") ? `[${spec.host}]` : spec.host}:${spec.port}`;
    case "dns": {
      const resolver = spec.resolver
        ? ` @${
          spec.resolver.ipAddr.includes(":") ? `[${spec.resolver.ipAddr}]` : spec.resolver.ipAddr
        }:${spec.resolver.port}`
        : "";
      return `${spec.queryName} ${spec.recordType}${resolver}`;
    }
    case "heartbeat":
      return "heartbeat";
  }
}
