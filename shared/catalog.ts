/**
 * Every metric the agent emits, with its unit and labels. The dashboard, the README and the
 * collectors' tests all read this one table. The `agent.*` metrics are the agent's report on
 * itself (its collectors and its buffer), not on the host.
 */

export type MetricUnit = "percent" | "bytes" | "bytes/s" | "ops/s" | "packets/s" | "seconds" | "";

export interface MetricInfo {
  unit: MetricUnit;
  labels: readonly string[];
  description: string;
}

const mountLabels = ["mount"] as const;
const deviceLabels = ["device"] as const;
const interfaceLabels = ["interface"] as const;
const collectorLabels = ["collector"] as const;
const noLabels = [] as const;

export const METRIC_CATALOG: Readonly<Record<string, MetricInfo>> = Object.freeze({
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
  "agent.collector_success": {
    unit: "",
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

export const METRIC_NAMES: readonly string[] = Object.freeze(Object.keys(METRIC_CATALOG));

/** The metrics about the host, without the agent's report on itself (`agent.*`). */
export const HOST_METRIC_NAMES: readonly string[] = Object.freeze(
  METRIC_NAMES.filter((name) => !name.startsWith("agent.")),
);
