/**
 * How oxmon series are named in the Prometheus world, and back.
 *
 * oxmon → Prometheus (remote write out, `/metrics`, the query API):
 * - A catalog metric becomes `oxmon_` + its name with `.` → `_`, with its unit as Prometheus
 *   conventions ask: a trailing `_per_sec` reads `_per_second`, and the unit's words (`percent`,
 *   `bytes`, `seconds`, `packets`/`ops` + `per_second` for rates) are appended unless the name
 *   already carries them: `cpu.usage` → `oxmon_cpu_usage_percent`, `network.bytes_recv` →
 *   `oxmon_network_bytes_recv_per_second`, `disk.read_bytes_per_sec` →
 *   `oxmon_disk_read_bytes_per_second`.
 * - Any other metric keeps its name when it is a valid Prometheus name (data pushed in by
 *   Prometheus reads back unchanged); otherwise every character outside `[a-zA-Z0-9_:]` becomes
 *   `_` (`app.latency` → `app_latency`).
 * - The agent id is the label `agent` (beside node_exporter's `instance`, which names a scrape
 *   target, not a host); a stored label that is itself called `agent` is sent as
 *   `exported_agent`, as Prometheus does on a clash.
 *
 * Prometheus → oxmon (remote write in):
 * - A name produced by the first rule maps back to its catalog metric; every other name is
 *   stored as it is.
 * - The agent id comes from the `agent` label, else from `instance` without its `:port`, else
 *   from the configured default; `agent` is removed from the labels, `instance` is kept.
 */
import { METRIC_CATALOG, type MetricUnit } from "../../shared/catalog.ts";
import type { Labels } from "../../shared/types.ts";

export const AGENT_LABEL = "agent";
export const METRIC_NAME_LABEL = "__name__";
const PROM_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;

const UNIT_WORDS: Record<MetricUnit, readonly string[]> = {
  "percent": ["percent"],
  "bytes": ["bytes"],
  "seconds": ["seconds"],
  "bytes/s": ["bytes", "per_second"],
  "ops/s": ["ops", "per_second"],
  "packets/s": ["packets", "per_second"],
  // 0 or 1, as Prometheus' own `up`: no unit word.
  "boolean": [],
  // Kept in days as stored (converting to seconds would change the values people alert on).
  "days": ["days"],
  "": [],
};

/** `oxmon_` + name with `.` → `_` and the unit's words: the rule for catalog metrics. */
export function catalogPromName(metricName: string, unit: MetricUnit): string {
  let name = "oxmon_" + metricName.replace(/[^a-zA-Z0-9_:]/g, "_");
  name = name.replace(/_per_sec$/, "_per_second");
  const words = name.split("_");
  for (const word of UNIT_WORDS[unit]) {
    const parts = word.split("_");
    const present = words.some((_, i) => parts.every((part, j) => words[i + j] === part));
    if (!present) name += "_" + word;
  }
  return name;
}

const FORWARD = new Map<string, string>();
const REVERSE = new Map<string, string>();
for (const [metric, info] of Object.entries(METRIC_CATALOG)) {
  const promName = catalogPromName(metric, info.unit);
  FORWARD.set(metric, promName);
  REVERSE.set(promName, metric);
}

/** The Prometheus metric name of an oxmon metric. */
export function toPromName(metricName: string): string {
  const known = FORWARD.get(metricName);
  if (known !== undefined) return known;
  if (PROM_NAME.test(metricName)) return metricName;
  const sanitized = metricName.replace(/[^a-zA-Z0-9_:]/g, "_");
  return /^[0-9]/.test(sanitized) ? "_" + sanitized : sanitized;
}

/** The oxmon metric name of a Prometheus metric name. */
export function fromPromName(promName: string): string {
  return REVERSE.get(promName) ?? promName;
}

/**
 * The Prometheus label set of an oxmon series (including `__name__`), names sorted.
 * `extra` labels (external labels of a remote-write endpoint) never replace the series' own.
 */
export function toPromLabels(
  series: { agentId: string; metricName: string; labels: Labels },
  options: { agentLabel?: string; extra?: Labels } = {},
): [string, string][] {
  const { agentId, metricName, labels } = series;
  const agentLabel = options.agentLabel ?? AGENT_LABEL;
  const out = new Map<string, string>();
  out.set(METRIC_NAME_LABEL, toPromName(metricName));
  out.set(agentLabel, agentId);
  for (const name in labels) {
    const value = labels[name];
    if (value === "") continue;
    out.set(name === agentLabel ? "exported_" + name : name, value);
  }
  if (options.extra) {
    for (const name in options.extra) if (!out.has(name)) out.set(name, options.extra[name]);
  }
  return [...out].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
}

/** What `fromPromLabels` makes of one incoming series. */
export interface OxmonSeries {
  agentId: string;
  metricName: string;
  labels: Labels;
}

/**
 * The oxmon series of a Prometheus label set, or a string saying what is missing. Empty label
 * values are dropped (in Prometheus an empty label is an absent one).
 */
export function fromPromLabels(
  labels: readonly { name: string; value: string }[],
  defaultAgent: string | undefined,
): OxmonSeries | string {
  let promName: string | undefined;
  let agent: string | undefined;
  let instance: string | undefined;
  const out: Labels = {};
  for (const { name, value } of labels) {
    if (name === METRIC_NAME_LABEL) promName = value;
    else if (value === "") continue;
    else if (name === AGENT_LABEL) agent = value;
    else {
      if (name === "instance") instance = value;
      out[name] = value;
    }
  }
  if (promName === undefined || promName === "") return "no __name__ label";
  agent ??= instance === undefined ? undefined : agentFromInstance(instance);
  agent ??= defaultAgent;
  if (agent === undefined || agent === "") {
    return `no "agent" or "instance" label and no [prometheus] remote_write_default_agent`;
  }
  return { agentId: agent, metricName: fromPromName(promName), labels: out };
}

/** `web-1:9100` → `web-1`, `[::1]:9100` → `::1`; a value without a port stays as it is. */
export function agentFromInstance(instance: string): string {
  const bracketed = /^\[([^\]]+)\](?::\d+)?$/.exec(instance);
  if (bracketed) return bracketed[1];
  const withPort = /^([^:]+):\d+$/.exec(instance);
  return withPort ? withPort[1] : instance;
}
