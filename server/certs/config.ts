/**
 * `[cert_check]` as the original oxmon has it (`enabled`, `default_interval_secs`, `tick_secs`,
 * `connect_timeout_secs`, `max_concurrent`, `auto_backfill_domains_on_startup`), plus
 * `[[cert_check.domains]]` for domains kept as configuration and `ca_file` for a private CA.
 */
import type { TableReader } from "../../shared/config/mod.ts";

export interface ConfiguredDomain {
  domain: string;
  port: number;
  /** Null: `default_interval_secs`. */
  intervalSecs: number | null;
}

export interface CertCheckConfig {
  enabled: boolean;
  /** Seconds between checks of a domain without its own interval. */
  defaultIntervalSecs: number;
  /** How often due domains are looked for. */
  tickSecs: number;
  /** Connect plus handshake, per domain. */
  connectTimeoutSecs: number;
  /** Most handshakes at once. */
  maxConcurrent: number;
  /** PEM file of CA certificates trusted in addition to the system's. */
  caFile?: string;
  domains: readonly ConfiguredDomain[];
}

export const DEFAULT_CERT_PORT = 443;

export function readCertCheckConfig(table: TableReader): CertCheckConfig {
  // The original fills its domain table from stored certificate details at start-up; this
  // server has no such second table, so there is nothing to fill and the key does nothing.
  table.accept("auto_backfill_domains_on_startup");
  const caFile = table.optionalString("ca_file");
  const config: CertCheckConfig = {
    enabled: table.boolean("enabled", { default: true }),
    defaultIntervalSecs: table.integer("default_interval_secs", { default: 86_400, min: 60 }),
    tickSecs: table.integer("tick_secs", { default: 60, min: 1 }),
    connectTimeoutSecs: table.integer("connect_timeout_secs", { default: 10, min: 1, max: 300 }),
    maxConcurrent: table.integer("max_concurrent", { default: 10, min: 1, max: 1000 }),
    ...(caFile === undefined ? {} : { caFile }),
    domains: [],
  };
  const domains: ConfiguredDomain[] = [];
  const seen = new Map<string, string>();
  for (const entry of table.tables("domains")) {
    const name = entry.string("domain");
    const problem = domainNameProblem(name);
    if (name !== "" && problem) entry.problem("domain", problem);
    const port = entry.integer("port", { default: DEFAULT_CERT_PORT, min: 1, max: 65535 });
    const intervalSecs = entry.has("interval_secs")
      ? entry.integer("interval_secs", { min: 60 })
      : null;
    entry.finish();
    const domain = name.toLowerCase();
    const key = `${domain}:${port}`;
    if (seen.has(key)) {
      entry.problem("domain", `${key} is listed twice (also ${seen.get(key)})`);
      continue;
    }
    seen.set(key, entry.pathOf("domain"));
    if (!problem) domains.push({ domain, port, intervalSecs });
  }
  config.domains = domains;
  table.finish();
  return config;
}

/** Why `name` cannot be a monitored domain, or undefined when it can. */
export function domainNameProblem(name: string): string | undefined {
  const hostname =
    /^(?=.{1,253}$)[A-Za-z0-9_]([A-Za-z0-9_-]{0,62})(\.[A-Za-z0-9_]([A-Za-z0-9_-]{0,62}))*\.?$/;
  const ipv6 = /^[0-9A-Fa-f:.]+$/;
  if (hostname.test(name) || (name.includes(":") && ipv6.test(name))) return undefined;
  return `expected a host name such as example.com (or an IP address), got ${JSON.stringify(name)}`;
}
