/**
 * The rows of the checks page, put together from what the API answers: the server's checks
 * (`/checks`, with their configuration and last message), every check's newest samples in
 * storage (`/metrics/latest`, agents' checks included) and the agents' status; the certificate
 * domains with their newest result. Failing rows sort first. Pure, so it is tested without a
 * browser.
 */
import type {
  AgentAnswer,
  CertDomain,
  CertResult,
  LatestAnswer,
  RulesAnswer,
  ServerCheck,
} from "./types.ts";

/** The identity the server's own check results are stored under (server/checks/service.ts). */
export const SERVER_AGENT_ID = "oxmon-server";
/** The identity of certificate results (server/certs/checker.ts, as the original names it). */
export const CERT_AGENT_ID = "cert-checker";

export type CheckState = "down" | "stale" | "waiting" | "up";

export interface CheckRow {
  /** agent, check and target: a check whose target changed is a new row. */
  key: string;
  agentId: string;
  onServer: boolean;
  name: string;
  type: string;
  target: string;
  state: CheckState;
  /** Why it is down, stale or waiting (or the server's summary when up: `200 OK`). */
  message: string;
  lastAtMs: number | null;
  durationSecs: number | null;
  statusCode: number | null;
  certificateDays: number | null;
  intervalSecs: number | null;
  /** Server checks: the next run (or the next ping due, for heartbeats). */
  nextAtMs: number | null;
}

export const rowKey = (agentId: string, name: string, target: string): string =>
  JSON.stringify([agentId, name, target]);

type LatestSample = LatestAnswer["series"][number];

const sampleKey = (one: LatestSample) =>
  rowKey(one.agent_id, one.labels.check ?? "", one.labels.target ?? "");

/**
 * Whether two readings of the newest `check.up` samples name the same newest run of every
 * check: read before and after the other metrics, they tell that no run was stored in between,
 * so the other metrics' newest samples belong to the same runs (see `loadLatest`, pages/checks.ts).
 */
export function sameRuns(before: readonly LatestSample[], after: readonly LatestSample[]): boolean {
  if (before.length !== after.length) return false;
  const runs = new Map(before.map((one) => [sampleKey(one), one.timestamp]));
  return after.every((one) => runs.get(sampleKey(one)) === one.timestamp);
}

/** An agent's check carries no type in its samples: its target tells (see `targetOf`). */
export function typeOfTarget(target: string): string {
  if (target === "heartbeat") return "heartbeat";
  if (/^https?:\/\//i.test(target)) return "http";
  if (/^\S+ [A-Z]+( @\S+)?$/.test(target)) return "dns";
  return "tcp";
}

const STATE_ORDER: Record<CheckState, number> = { down: 0, stale: 1, waiting: 2, up: 3 };

/** Down first, then results nobody can vouch for, then not yet run, then up; by name within. */
export function compareChecks(a: CheckRow, b: CheckRow): number {
  return STATE_ORDER[a.state] - STATE_ORDER[b.state] ||
    (a.name < b.name ? -1 : a.name > b.name ? 1 : 0) ||
    (a.agentId < b.agentId ? -1 : a.agentId > b.agentId ? 1 : 0) ||
    (a.target < b.target ? -1 : a.target > b.target ? 1 : 0);
}

export interface CheckSources {
  /** The server's configured checks; undefined when `/checks` could not be read. */
  serverChecks?: readonly ServerCheck[];
  /** Newest `check.up`, `check.duration_seconds`, `check.status_code` and certificate days. */
  latest: {
    up: LatestAnswer["series"];
    duration: LatestAnswer["series"];
    statusCode: LatestAnswer["series"];
    certificateDays: LatestAnswer["series"];
  };
  agents: readonly Pick<AgentAnswer, "agent_id" | "status">[];
}

export function checkRows(sources: CheckSources): CheckRow[] {
  const rows = new Map<string, CheckRow>();
  const byKey = (series: LatestAnswer["series"]) =>
    new Map(series.map((one) => [sampleKey(one), one]));
  const durations = byKey(sources.latest.duration);
  const codes = byKey(sources.latest.statusCode);
  const certificateDays = byKey(sources.latest.certificateDays);
  const agentStatus = new Map(sources.agents.map((agent) => [agent.agent_id, agent.status]));

  for (const check of sources.serverChecks ?? []) {
    const last = check.last_result;
    const next = check.next_run_at ?? check.next_ping_due ?? null;
    const key = rowKey(SERVER_AGENT_ID, check.name, check.target);
    rows.set(key, {
      key,
      agentId: SERVER_AGENT_ID,
      onServer: true,
      name: check.name,
      type: check.type,
      target: check.target,
      state: last === null ? "waiting" : last.up ? "up" : "down",
      message: last?.message ?? "no run yet",
      lastAtMs: last ? Date.parse(last.at) : null,
      durationSecs: last && check.type !== "heartbeat" ? last.duration_ms / 1000 : null,
      statusCode: last?.status_code ?? null,
      certificateDays: last?.certificate_days_left ?? null,
      intervalSecs: check.interval_secs,
      nextAtMs: next ? Date.parse(next) : null,
    });
  }

  for (const up of sources.latest.up) {
    const key = sampleKey(up);
    const atMs = Date.parse(up.timestamp);
    // Samples of the same run share its timestamp; an older one is from an earlier run.
    const sameRun = (one: LatestSample | undefined) =>
      one && Date.parse(one.timestamp) === atMs ? one.value : null;
    const known = rows.get(key);
    if (known) {
      // A server check not run since the server started: its last result is in storage.
      if (known.lastAtMs === null) {
        known.state = up.value === 1 ? "up" : "down";
        known.message = "the last result from before the server started";
        known.lastAtMs = atMs;
        known.durationSecs = sameRun(durations.get(key));
        known.statusCode = sameRun(codes.get(key));
        known.certificateDays = sameRun(certificateDays.get(key));
      }
      continue;
    }
    const onServer = up.agent_id === SERVER_AGENT_ID;
    const status = agentStatus.get(up.agent_id);
    let state: CheckState = up.value === 1 ? "up" : "down";
    let message = up.value === 1 ? "" : "the last run failed";
    if (onServer && sources.serverChecks !== undefined) {
      state = "stale";
      message = "no longer in the server's config";
    } else if (!onServer && status !== "active") {
      if (state === "up") state = "stale";
      message = status === undefined
        ? "the agent is not registered"
        : `the agent is ${status}: no newer results`;
    }
    rows.set(key, {
      key,
      agentId: up.agent_id,
      onServer,
      name: up.labels.check ?? "?",
      type: typeOfTarget(up.labels.target ?? ""),
      target: up.labels.target ?? "",
      state,
      message,
      lastAtMs: atMs,
      durationSecs: sameRun(durations.get(key)),
      statusCode: sameRun(codes.get(key)),
      certificateDays: sameRun(certificateDays.get(key)),
      intervalSecs: null,
      nextAtMs: null,
    });
  }
  return [...rows.values()].sort(compareChecks);
}

export type CertState = "invalid" | "expiring" | "unchecked" | "valid" | "disabled";

export interface CertRow {
  domain: CertDomain;
  result: CertResult | null;
  state: CertState;
  /** `critical` at or below the critical days, `warning` at or below the warning days. */
  urgency: "critical" | "warning" | null;
  /** Why it is invalid, when it expires, or that it was not checked yet. */
  reason: string;
}

export interface ExpiryThresholds {
  warningDays: number;
  criticalDays: number;
}

/** The `cert_expiration` rules' days (the widest of them); the original's 30 and 7 without one. */
export function expiryThresholds(rules: RulesAnswer["rules"] | undefined): ExpiryThresholds {
  const certRules = (rules ?? []).filter((rule) => rule.type === "cert_expiration");
  if (certRules.length === 0) return { warningDays: 30, criticalDays: 7 };
  const most = (key: string, fallback: number) =>
    Math.max(...certRules.map((rule) => Number(rule[key] ?? fallback)));
  return { warningDays: most("warning_days", 30), criticalDays: most("critical_days", 7) };
}

const CERT_ORDER: Record<CertState, number> = {
  invalid: 0,
  expiring: 1,
  unchecked: 2,
  valid: 3,
  disabled: 4,
};

export function certRows(
  domains: readonly CertDomain[],
  results: readonly CertResult[],
  thresholds: ExpiryThresholds,
): CertRow[] {
  const resultOf = new Map(results.map((result) => [result.domain_id, result]));
  const rows = domains.map((domain): CertRow => {
    const result = domain.enabled ? resultOf.get(domain.id) ?? null : null;
    const days = result?.days_until_expiry ?? null;
    const urgency = days === null
      ? null
      : days <= thresholds.criticalDays
      ? "critical"
      : days <= thresholds.warningDays
      ? "warning"
      : null;
    if (!domain.enabled) {
      return { domain, result, state: "disabled", urgency: null, reason: "checks are disabled" };
    }
    if (!result) return { domain, result, state: "unchecked", urgency, reason: "not checked yet" };
    if (!result.is_valid) {
      return {
        domain,
        result,
        state: "invalid",
        urgency,
        reason: result.error ?? "verification failed",
      };
    }
    return {
      domain,
      result,
      state: urgency ? "expiring" : "valid",
      urgency,
      reason: urgency ? `expires in ${days} ${days === 1 ? "day" : "days"}` : "",
    };
  });
  const daysOf = (row: CertRow) => row.result?.days_until_expiry ?? Infinity;
  return rows.sort((a, b) =>
    CERT_ORDER[a.state] - CERT_ORDER[b.state] || daysOf(a) - daysOf(b) ||
    (a.domain.domain < b.domain.domain ? -1 : a.domain.domain > b.domain.domain ? 1 : 0) ||
    a.domain.port - b.domain.port
  );
}

/** `example.com` for 443, `example.com:8443` otherwise: how the page names a domain. */
export function domainLabel(domain: { domain: string; port: number }): string {
  return domain.port === 443 ? domain.domain : `${domain.domain}:${domain.port}`;
}
