/**
 * Agent configuration: the original oxmon agent keys (`agent_id`, `server_endpoint`,
 * `collection_interval_secs`, `buffer_max_size`) load unchanged, plus oxmon-ts additions
 * (`auth_token`, `[filters]`, `[collectors]`, …; config/agent.example.toml shows every key).
 * Parsed once at start-up into a frozen object; every problem is reported with its TOML path.
 */
// Not mod.ts: it loads smol-toml, which the agent replaces with `_toml.ts` (see mod.ts).
import { ConfigError, type TableReader } from "../shared/config/reader.ts";
import { configLoader } from "../shared/config/loader.ts";
import { type LogFormat, type LogLevel, readLogConfig } from "../shared/log.ts";
import { DEFAULT_FS_TYPES_EXCLUDE } from "./collectors/filesystem.ts";
import { COLLECTOR_NAMES } from "./collectors/registry.ts";
import type { NameFilter } from "./collectors/types.ts";
import { parseTomlSubset } from "./_toml.ts";
import { type ChecksConfig, readChecksConfig } from "../shared/checks/mod.ts";

export interface ServerEndpoint {
  /** `host:port`, as the gRPC client takes it. */
  address: string;
  tls: boolean;
}

export interface AgentConfig {
  agentId: string;
  /** As written in the config, e.g. `http://127.0.0.1:9090`. */
  serverEndpoint: string;
  server: ServerEndpoint;
  collectionIntervalSecs: number;
  /** Most unsent batches kept; past it the oldest is dropped. */
  bufferMaxSize: number;
  /** Most bytes of unsent requests kept in memory; past it the oldest is dropped. */
  bufferMaxBytes: number;
  /** Where unsent batches are kept across restarts; memory only when absent. */
  spoolDir?: string;
  /** Most bytes the spool keeps; past it the oldest batch is dropped. */
  spoolMaxBytes: number;
  authToken?: string;
  /** PEM file of the CA that signed the server's certificate (https:// endpoints). */
  tlsCaFile?: string;
  /** Client certificate and key (PEM) presented to a server that requires mutual TLS. */
  tlsCertFile?: string;
  tlsKeyFile?: string;
  /** Deadline of one `ReportMetrics` call. */
  sendTimeoutSecs: number;
  /** How long a stopping agent keeps trying to send what it buffered. */
  shutdownGraceSecs: number;
  procRoot: string;
  sysRoot: string;
  filters: {
    mounts: NameFilter;
    fsTypesExclude: readonly string[];
    devices: NameFilter;
    interfaces: NameFilter;
  };
  /** Collector name → enabled, for every collector in the registry. */
  collectors: Readonly<Record<string, boolean>>;
  logLevel: LogLevel;
  logFormat: LogFormat;
  /** `[[checks]]` this agent runs (http, tcp, dns) and `[check_settings]`. */
  checks: ChecksConfig;
}

export const DEFAULT_SERVER_ENDPOINT = "http://127.0.0.1:9090";
/**
 * 8 MiB of encoded requests in memory: about 1,000 host batches, within the agent's resident
 * memory budget (the whole agent is about 50 MB).
 */
export const DEFAULT_BUFFER_MAX_BYTES = 8 * 1024 * 1024;
/** 256 MiB on disk: days of host batches at the default interval. */
export const DEFAULT_SPOOL_MAX_BYTES = 256 * 1024 * 1024;
const DEFAULT_GRPC_PORT = 9090;
/** What the server accepts as an agent id: no spaces, slashes or other odd characters. */
export const AGENT_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;
/** Loop and RAM-backed devices carry no disk I/O worth watching. */
export const DEFAULT_DEVICE_EXCLUDE: readonly string[] = Object.freeze(["loop*", "ram*", "zram*"]);
/**
 * Interfaces that carry no traffic of their own: loopback, traffic-shaping (`ifb*`), container
 * and VM plumbing (`veth*`, `docker*`, `br-*`, `virbr*`). Their bytes are counted again on the
 * real interface, and on a container host there are hundreds of them.
 */
export const DEFAULT_INTERFACE_EXCLUDE: readonly string[] = Object.freeze([
  "lo",
  "ifb*",
  "veth*",
  "docker*",
  "br-*",
  "virbr*",
]);

/**
 * Parses `server_endpoint`: `http://host:port`, `https://host:port` (TLS) or plain
 * `host:port`; the port defaults to 9090. Throws `TypeError` naming the value otherwise.
 */
export function parseServerEndpoint(endpoint: string): ServerEndpoint {
  const match = /^(?:(https?):\/\/)?(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9._-]+)(?::(\d{1,5}))?\/?$/.exec(
    endpoint.trim(),
  );
  if (!match) {
    throw new TypeError(
      `expected http://host:port, https://host:port or host:port, got "${endpoint}"`,
    );
  }
  const port = match[3] === undefined ? DEFAULT_GRPC_PORT : Number(match[3]);
  if (port < 1 || port > 65535) {
    throw new RangeError(`expected a port from 1 to 65535, got ${port} in "${endpoint}"`);
  }
  return { address: `${match[2]}:${port}`, tls: match[1] === "https" };
}

/** The host name, made acceptable as an agent id. */
export function defaultAgentId(): string {
  const id = Deno.hostname().replace(/[^A-Za-z0-9._-]/g, "-").replace(/^[^A-Za-z0-9]+/, "")
    .slice(0, 128);
  return id || "agent";
}

function readFilter(
  table: TableReader,
  prefix: string,
  defaultExclude: readonly string[] = [],
): NameFilter {
  return {
    include: table.stringArray(`${prefix}_include`, { default: [] }),
    exclude: table.stringArray(`${prefix}_exclude`, { default: [...defaultExclude] }),
  };
}

/** Reads the agent config from its root table (exported for the documentation test). */
export function readAgentConfig(root: TableReader): AgentConfig {
  const agentId = root.string("agent_id", {
    default: defaultAgentId(),
    pattern: AGENT_ID_PATTERN,
    patternHint: "1 to 128 letters, digits, '.', '_' or '-', starting with a letter or digit",
  });
  const serverEndpoint = root.string("server_endpoint", { default: DEFAULT_SERVER_ENDPOINT });
  let server: ServerEndpoint = { address: "127.0.0.1:9090", tls: false };
  try {
    server = parseServerEndpoint(serverEndpoint);
  } catch (error) {
    root.problem("server_endpoint", (error as Error).message);
  }
  const authToken = root.optionalString("auth_token");
  if (authToken && !/^[\x21-\x7e]+$/.test(authToken)) {
    // It travels as an HTTP/2 header value: printable ASCII without spaces.
    root.problem("auth_token", "expected printable ASCII characters without spaces");
  }
  const tlsCaFile = root.optionalString("tls_ca_file");
  if (tlsCaFile !== undefined && !server.tls) {
    root.problem("tls_ca_file", "is only used with an https:// server_endpoint");
  }
  const tlsCertFile = root.optionalString("tls_cert_file");
  const tlsKeyFile = root.optionalString("tls_key_file");
  if ((tlsCertFile === undefined) !== (tlsKeyFile === undefined)) {
    root.problem(
      tlsCertFile === undefined ? "tls_cert_file" : "tls_key_file",
      "tls_cert_file and tls_key_file go together (a client certificate and its key)",
    );
  } else if (tlsCertFile !== undefined && !server.tls) {
    root.problem("tls_cert_file", "is only used with an https:// server_endpoint");
  }

  const spoolDir = root.optionalString("spool_dir");
  if (spoolDir === "") root.problem("spool_dir", "expected a folder path, got an empty string");

  const filters = root.table("filters");
  const filterConfig = {
    mounts: readFilter(filters, "mount"),
    fsTypesExclude: filters.stringArray("fs_type_exclude", {
      default: [...DEFAULT_FS_TYPES_EXCLUDE],
    }),
    devices: readFilter(filters, "device", DEFAULT_DEVICE_EXCLUDE),
    interfaces: readFilter(filters, "interface", DEFAULT_INTERFACE_EXCLUDE),
  };
  filters.finish();

  const collectorTable = root.table("collectors");
  const collectors: Record<string, boolean> = {};
  for (const name of COLLECTOR_NAMES) {
    collectors[name] = collectorTable.boolean(name, { default: true });
  }
  collectorTable.finish();

  const log = readLogConfig(root.table("log"));

  return {
    agentId,
    serverEndpoint,
    server,
    collectionIntervalSecs: root.integer("collection_interval_secs", { default: 10, min: 1 }),
    bufferMaxSize: root.integer("buffer_max_size", { default: 1000, min: 1 }),
    bufferMaxBytes: root.integer("buffer_max_bytes", {
      default: DEFAULT_BUFFER_MAX_BYTES,
      min: 64 * 1024,
    }),
    ...(spoolDir === undefined ? {} : { spoolDir }),
    spoolMaxBytes: root.integer("spool_max_bytes", {
      default: DEFAULT_SPOOL_MAX_BYTES,
      min: 64 * 1024,
    }),
    ...(authToken === undefined || authToken === "" ? {} : { authToken }),
    ...(tlsCaFile === undefined ? {} : { tlsCaFile }),
    ...(tlsCertFile === undefined || tlsKeyFile === undefined ? {} : { tlsCertFile, tlsKeyFile }),
    sendTimeoutSecs: root.number("send_timeout_secs", { default: 10, above: 0 }),
    shutdownGraceSecs: root.number("shutdown_grace_secs", { default: 5, min: 0 }),
    procRoot: root.string("proc_root", { default: "/proc" }),
    sysRoot: root.string("sys_root", { default: "/sys" }),
    filters: filterConfig,
    collectors,
    logLevel: log.level,
    logFormat: log.format,
    checks: readChecksConfig(root, { side: "agent" }),
  };
}

// The agent's own TOML subset reader, not smol-toml: no npm package in the agent's module graph.
const { text: loadConfigText, file: loadConfigFile } = configLoader(parseTomlSubset);

/** The configuration used when no `--config` is given. */
export function defaultAgentConfig(): Readonly<AgentConfig> {
  return loadConfigText("", "embedded defaults", readAgentConfig);
}

export function parseAgentConfig(text: string, source = "agent config"): Readonly<AgentConfig> {
  return loadConfigText(text, source, readAgentConfig);
}

export function loadAgentConfig(path: string): Readonly<AgentConfig> {
  return loadConfigFile(path, readAgentConfig);
}

/** Command-line settings that take precedence over the config file. */
export interface AgentOverrides {
  serverEndpoint?: string;
  agentId?: string;
  collectionIntervalSecs?: number;
}

/**
 * Applies command-line overrides, checked like the config keys they replace. Throws a
 * `ConfigError` naming each bad flag.
 */
export function applyOverrides(
  config: Readonly<AgentConfig>,
  overrides: AgentOverrides,
): Readonly<AgentConfig> {
  const problems: string[] = [];
  const next: AgentConfig = { ...config };
  if (overrides.serverEndpoint !== undefined) {
    try {
      next.server = parseServerEndpoint(overrides.serverEndpoint);
      next.serverEndpoint = overrides.serverEndpoint;
    } catch (error) {
      problems.push(`--server: ${(error as Error).message}`);
    }
    if (next.tlsCaFile !== undefined && !next.server.tls) {
      problems.push("--server: tls_ca_file is set, so the endpoint must be https://");
    }
    if (next.tlsCertFile !== undefined && !next.server.tls) {
      problems.push("--server: tls_cert_file is set, so the endpoint must be https://");
    }
  }
  if (overrides.agentId !== undefined) {
    if (AGENT_ID_PATTERN.test(overrides.agentId)) next.agentId = overrides.agentId;
    else {
      problems.push(
        `--agent-id: expected 1 to 128 letters, digits, '.', '_' or '-', got "${overrides.agentId}"`,
      );
    }
  }
  if (overrides.collectionIntervalSecs !== undefined) {
    const interval = overrides.collectionIntervalSecs;
    if (Number.isInteger(interval) && interval >= 1) next.collectionIntervalSecs = interval;
    else {problems.push(
        `--interval: expected a whole number of seconds of at least 1, got ${interval}`,
      );}
  }
  if (problems.length > 0) throw new ConfigError("command line", problems);
  return Object.freeze(next);
}
