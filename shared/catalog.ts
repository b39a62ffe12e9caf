/**
 * Every metric oxmon writes, with its unit and labels, in three tables: what the agent's
 * collectors measure on a host (`HOST_METRICS`), the agent's report on itself (`AGENT_METRICS`:
 * its collectors and its buffer), and what checks record (`CHECK_METRICS`: the HTTP/TCP/DNS/
 * heartbeat checks of the server and of agents, and the certificate checker). The API's `unit`
 * fields, the dashboard and the README read them; benchmarks synthesise host data from the
 * first only.
 */

/**
 * `boolean`: 1 for yes (up, valid), 0 for no; a bucket's average is the share of yes.
 * `days`: whole days, negative once past.
 */
export type MetricUnit =
  | "percent"
  | "bytes"
  | "bytes/s"
  | "ops/s"
  | "packets/s"
  | "seconds"
  | "days"
  | "boolean"
  | "";

export interface MetricInfo {
  unit: MetricUnit;
  /** Labels every sample of the metric carries. */
  labels: readonly string[];
  /** Labels some samples carry (e.g. `port` of a certificate when it is not 443). */
  optionalLabels?: readonly string[];
  description: string;
}

const mountLabels = ["mount"] as const;
const deviceLabels = ["device"] as const;
const interfaceLabels = ["interface"] as const;
const collectorLabels = ["collector"] as const;
const noLabels = [] as const;

/** What the agent's collectors measure on every host. */
export const HOST_METRICS: Readonly<Record<string, MetricInfo>> = Object.freeze({
  "cpu.usage": { unit: "percent", labels: noLabels, description: "CPU busy time, all cores" },
  "cpu.core_usage": { unit: "percent", labels: ["core"], description: "CPU busy time of one core" },
  "memory.total": { unit: "bytes", labels: noLabels, description: "Physical memory" },
  "memory.used": {
    unit: "bytes",
    labels: noLabels,
    description: "Memory in use (total - available)",
  },
  "memory.available": {
    unit: "bytes",
    labels: noLabels,
    description: "Memory available to start new programs",
  },
  "memory.used_percent": {
    unit: "percent",
    labels: noLabels,
    description: "memory.used / memory.total",
  },
  "memory.swap_total": { unit: "bytes", labels: noLabels, description: "Swap space" },
  "memory.swap_used": { unit: "bytes", labels: noLabels, description: "Swap in use" },
  "memory.swap_percent": { unit: "percent", labels: noLabels, description: "Swap in use, percent" },
  "disk.total": { unit: "bytes", labels: mountLabels, description: "File system size" },
  "disk.used": { unit: "bytes", labels: mountLabels, description: "File system space in use" },
  "disk.available": {
    unit: "bytes",
    labels: mountLabels,
    description: "Space available to unprivileged users",
  },
  "disk.used_percent": {
    unit: "percent",
    labels: mountLabels,
    description: "used / (used + available), as df shows",
  },
  "disk.read_bytes_per_sec": {
    unit: "bytes/s",
    labels: deviceLabels,
    description: "Bytes read per second",
  },
  "disk.write_bytes_per_sec": {
    unit: "bytes/s",
    labels: deviceLabels,
    description: "Bytes written per second",
  },
  "disk.read_ops_per_sec": {
    unit: "ops/s",
    labels: deviceLabels,
    description: "Reads completed per second",
  },
  "disk.write_ops_per_sec": {
    unit: "ops/s",
    labels: deviceLabels,
    description: "Writes completed per second",
  },
  "network.bytes_recv": {
    unit: "bytes/s",
    labels: interfaceLabels,
    description: "Bytes received per second",
  },
  "network.bytes_sent": {
    unit: "bytes/s",
    labels: interfaceLabels,
    description: "Bytes sent per second",
  },
  "network.packets_recv": {
    unit: "packets/s",
    labels: interfaceLabels,
    description: "Packets received per second",
  },
  "network.packets_sent": {
    unit: "packets/s",
    labels: interfaceLabels,
    description: "Packets sent per second",
  },
  "system.load_1": { unit: "", labels: noLabels, description: "Load average over 1 minute" },
  "system.load_5": { unit: "", labels: noLabels, description: "Load average over 5 minutes" },
  "system.load_15": { unit: "", labels: noLabels, description: "Load average over 15 minutes" },
  "system.uptime": { unit: "seconds", labels: noLabels, description: "Time since boot" },
});

/** The agent's report on itself, every round, as node_exporter's `node_scrape_collector_*`. */
export const AGENT_METRICS: Readonly<Record<string, MetricInfo>> = Object.freeze({
  "agent.collector_success": {
    unit: "boolean",
    labels: collectorLabels,
    description: "1 when the collector succeeded this round, 0 when it failed or was skipped",
  },
  "agent.collector_duration_seconds": {
    unit: "seconds",
    labels: collectorLabels,
    description: "How long the collector took this round",
  },
  "agent.buffer_batches": {
    unit: "",
    labels: noLabels,
    description: "Batches waiting in the agent's buffer to be sent",
  },
  "agent.dropped_batches_total": {
    unit: "",
    labels: noLabels,
    description: "Batches dropped from the full buffer since the agent started",
  },
});

const checkLabels = ["check", "target"] as const;
const certLabels = ["domain"] as const;
const certOptionalLabels = ["port"] as const;

/**
 * What checks record: `check.*` under `oxmon-server` or the agent that ran the check (labels
 * `check`, its name, and `target`), `certificate.*` under `cert-checker`.
 */
export const CHECK_METRICS: Readonly<Record<string, MetricInfo>> = Object.freeze({
  "check.up": {
    unit: "boolean",
    labels: checkLabels,
    description: "1 when the check's run succeeded, 0 when it failed",
  },
  "check.duration_seconds": {
    unit: "seconds",
    labels: checkLabels,
    description: "How long the probe took (not for heartbeats)",
  },
  "check.status_code": {
    unit: "",
    labels: checkLabels,
    description: "HTTP status of the final response",
  },
  "check.certificate_days_until_expiry": {
    unit: "days",
    labels: checkLabels,
    description: "Days left of an HTTPS target's certificate (server checks)",
  },
  "certificate.days_until_expiry": {
    unit: "days",
    labels: certLabels,
    optionalLabels: certOptionalLabels,
    description: "Whole days until the certificate expires, negative once expired",
  },
  "certificate.is_valid": {
    unit: "boolean",
    labels: certLabels,
    optionalLabels: certOptionalLabels,
    description: "1 when chain and host name verify and today is within the dates",
  },
});

/** Every metric: host, agent and check metrics. */
export const METRIC_CATALOG: Readonly<Record<string, MetricInfo>> = Object.freeze({
  ...HOST_METRICS,
  ...AGENT_METRICS,
  ...CHECK_METRICS,
});

export const HOST_METRIC_NAMES: readonly string[] = Object.freeze(Object.keys(HOST_METRICS));
export const METRIC_NAMES: readonly string[] = Object.freeze(Object.keys(METRIC_CATALOG));
