/**
 * `[[remote_write]]` tables and the `[prometheus]` table of the server config. Every problem is
 * reported with its TOML path (`remote_write[1].url: ...`).
 */
import { createHash } from "node:crypto";
import type { TableReader } from "../../shared/config/mod.ts";
import type { Labels } from "../../shared/types.ts";

export interface RemoteWriteConfig {
  /** Name in logs, `/metrics` and the health endpoint; default: the URL's host and port. */
  name: string;
  url: string;
  /** Where this endpoint's queue lives under `<data_dir>/remote_write/`: derived from the URL. */
  queueId: string;
  bearerToken?: string;
  basicAuth?: { username: string; password: string };
  /** PEM read from `tls_ca_file`. */
  tlsCaPem?: string;
  /** PEM read from `tls_cert_file` and `tls_key_file` (a client certificate). */
  tlsCertPem?: string;
  tlsKeyPem?: string;
  headers: Readonly<Record<string, string>>;
  maxBatchSamples: number;
  flushIntervalSecs: number;
  queueMaxBytes: number;
  timeoutSecs: number;
  /** Label the agent id is sent as (default `agent`). */
  agentLabel: string;
  /** Added to every series unless it has a label of that name. */
  externalLabels: Readonly<Labels>;
  /** oxmon metric-name globs; empty means all. */
  metricInclude: readonly string[];
  metricExclude: readonly string[];
}

export interface PrometheusConfig {
  /** `/metrics` also carries the latest sample of every agent series. */
  exposeAgentMetrics: boolean;
  /** Agent id of pushed series with neither `agent` nor `instance`; none refuses them. */
  remoteWriteDefaultAgent?: string;
  /** Largest uncompressed remote-write body accepted. */
  remoteWriteMaxBytes: number;
  /** Samples one query may load before it is refused (as Prometheus' `query.max-samples`). */
  queryMaxSamples: number;
  /** How far back an instant selector looks for a sample (Prometheus' lookback delta). */
  lookbackDeltaSecs: number;
}

const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
const AGENT_ID = /^[A-Za-z0-9._:-]+$/;

function readPem(table: TableReader, key: string): string | undefined {
  const path = table.optionalString(key);
  if (path === undefined) return undefined;
  try {
    return Deno.readTextFileSync(path);
  } catch (error) {
    table.problem(key, `cannot read ${JSON.stringify(path)}: ${(error as Error).message}`);
    return undefined;
  }
}

function readEndpoint(table: TableReader, index: number): RemoteWriteConfig | undefined {
  const url = table.string("url");
  let parsed: URL | undefined;
  try {
    parsed = new URL(url);
    if (parsed.protocol !== "http:" && parsed.protocol !== "https:") {
      table.problem("url", `expected an http:// or https:// URL, got "${url}"`);
      parsed = undefined;
    }
  } catch {
    if (url !== "") table.problem("url", `expected an http:// or https:// URL, got "${url}"`);
  }
  const name = table.string("name", {
    default: parsed?.host ?? `remote_write-${index}`,
    pattern: /^[\w.:-]{1,64}$/,
    patternHint: "1 to 64 letters, digits, '.', '_', ':' or '-'",
  });
  const bearerToken = table.optionalString("bearer_token");
  const basic = table.has("basic_auth") ? table.table("basic_auth") : undefined;
  const basicAuth = basic
    ? { username: basic.string("username"), password: basic.string("password", { default: "" }) }
    : undefined;
  basic?.finish();
  if (bearerToken !== undefined && basicAuth) {
    table.problem("basic_auth", "use either bearer_token or basic_auth, not both");
  }
  const tlsCaPem = readPem(table, "tls_ca_file");
  const tlsCertPem = readPem(table, "tls_cert_file");
  const tlsKeyPem = readPem(table, "tls_key_file");
  if ((tlsCertPem === undefined) !== (tlsKeyPem === undefined)) {
    table.problem(
      "tls_cert_file",
      "a client certificate needs both tls_cert_file and tls_key_file",
    );
  }
  const headers = table.stringMap("headers");
  for (const header of Object.keys(headers)) {
    const lower = header.toLowerCase();
    if (
      ["content-type", "content-encoding", "x-prometheus-remote-write-version"].includes(lower) ||
      (lower === "authorization" && (bearerToken !== undefined || basicAuth))
    ) {
      table.problem(`headers.${header}`, "is set by oxmon and cannot be overridden");
    }
  }
  const agentLabel = table.string("agent_label", {
    default: "agent",
    pattern: LABEL_NAME,
    patternHint: "a label name ([a-zA-Z_][a-zA-Z0-9_]*)",
  });
  const externalLabels = table.stringMap("external_labels");
  for (const label of Object.keys(externalLabels)) {
    if (!LABEL_NAME.test(label) || label.startsWith("__")) {
      table.problem(`external_labels.${label}`, "expected a label name not starting with __");
    }
  }
  const config: RemoteWriteConfig = {
    name,
    url,
    queueId: createHash("sha256").update(url).digest("hex").slice(0, 16),
    bearerToken,
    basicAuth,
    tlsCaPem,
    tlsCertPem,
    tlsKeyPem,
    headers,
    maxBatchSamples: table.integer("max_batch_samples", { default: 5000, min: 1, max: 1_000_000 }),
    flushIntervalSecs: table.number("flush_interval_secs", { default: 5, above: 0, max: 3600 }),
    queueMaxBytes: table.integer("queue_max_bytes", { default: 256 << 20, min: 1 << 20 }),
    timeoutSecs: table.number("timeout_secs", { default: 30, above: 0, max: 3600 }),
    agentLabel,
    externalLabels,
    metricInclude: table.stringArray("metric_include", { default: [] }),
    metricExclude: table.stringArray("metric_exclude", { default: [] }),
  };
  table.finish();
  return parsed ? config : undefined;
}

/** Reads `[[remote_write]]`; names and URLs must be unique. */
export function readRemoteWriteConfig(tables: readonly TableReader[]): RemoteWriteConfig[] {
  const endpoints: RemoteWriteConfig[] = [];
  const names = new Set<string>();
  const urls = new Set<string>();
  tables.forEach((table, index) => {
    const endpoint = readEndpoint(table, index);
    if (!endpoint) return;
    if (names.has(endpoint.name)) {
      table.problem("name", `"${endpoint.name}" is already used by another [[remote_write]]`);
    }
    if (urls.has(endpoint.url)) {
      table.problem("url", `"${endpoint.url}" is already used by another [[remote_write]]`);
    }
    names.add(endpoint.name);
    urls.add(endpoint.url);
    endpoints.push(endpoint);
  });
  return endpoints;
}

/** Reads `[prometheus]`. */
export function readPrometheusConfig(table: TableReader): PrometheusConfig {
  const defaultAgent = table.optionalString("remote_write_default_agent");
  if (defaultAgent !== undefined && !AGENT_ID.test(defaultAgent)) {
    table.problem(
      "remote_write_default_agent",
      `expected an agent id (letters, digits, ".", "_", "-", ":"), got "${defaultAgent}"`,
    );
  }
  const config: PrometheusConfig = {
    exposeAgentMetrics: table.boolean("expose_agent_metrics", { default: false }),
    remoteWriteDefaultAgent: defaultAgent,
    remoteWriteMaxBytes: table.integer("remote_write_max_bytes", {
      default: 32 << 20,
      min: 1024,
      max: 1 << 30,
    }),
    queryMaxSamples: table.integer("query_max_samples", { default: 50_000_000, min: 1 }),
    lookbackDeltaSecs: table.integer("lookback_delta_secs", { default: 300, min: 1 }),
  };
  table.finish();
  return config;
}
