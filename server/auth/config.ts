/**
 * The trust part of the server config: who may write (`agent_tokens`, `[grpc_tls]` client
 * certificates), who may read (`[[api_tokens]]`), TLS for both listeners, the HTTP listener's
 * host list and timeouts, and the gRPC listener's bounds. Every problem is named by its TOML path.
 */
import type { TableReader } from "../../shared/config/mod.ts";
import { digestFromHex, sha256Hex, TOKEN_SHAPE } from "./tokens.ts";

/** A credential an agent presents as `authorization: Bearer <token>`. */
export interface AgentTokenConfig {
  /** For logs and counters: `name`, or `agent_tokens[N]`. Never the token. */
  name: string;
  /** The token's SHA-256, hex (the config object is frozen: no byte arrays in it). */
  sha256: string;
  /** Agent ids or globs it may write as; `null`: any (the original flat `agent_tokens`). */
  agents: readonly string[] | null;
}

export type ApiScope = "read" | "admin";

export interface ApiTokenConfig {
  name: string;
  /** The token's SHA-256, hex. */
  sha256: string;
  scope: ApiScope;
}

export interface TlsFilesConfig {
  certFile: string;
  keyFile: string;
}

export interface GrpcTlsConfig extends TlsFilesConfig {
  /** With it, only clients with a certificate signed by this CA connect (mutual TLS). */
  clientCaFile?: string;
  /** With mutual TLS: the certificate's CN and DNS names are the agent ids it may write as. */
  clientCertIdentity: boolean;
}

export interface HttpOptions {
  /** Host names (globs) the HTTP listener answers to, besides those it always serves. */
  allowedHosts: readonly string[];
  /** A client must send a request's headers within this; also the TLS handshake. */
  headerTimeoutSecs: number;
  /** A connection with no request in progress for this long is closed. */
  idleTimeoutSecs: number;
  /** How long a dashboard login lasts. */
  sessionTtlSecs: number;
  /** Connections beyond this are closed at once. */
  maxConnections: number;
}

/** Bounds of the gRPC listener child, applied before any request body is read. */
export interface GrpcBounds {
  maxConnections: number;
  maxConcurrentStreams: number;
  /** Request bytes being read or waiting for the server, over all connections. */
  maxInflightBytes: number;
  /** How long a request may wait for room under `maxInflightBytes` before RESOURCE_EXHAUSTED. */
  inflightWaitSecs: number;
  /** A connection with no call for this long is closed. */
  idleTimeoutSecs: number;
  keepaliveTimeSecs: number;
  keepaliveTimeoutSecs: number;
  /** A connection must finish its TLS handshake and HTTP/2 preface within this. */
  handshakeTimeoutSecs: number;
}

export interface SecurityConfig {
  /** From `agent_tokens`, either form. */
  agentTokens: readonly AgentTokenConfig[];
  /** `agent_tokens` was the original flat list (any agent id per token). */
  agentTokensFlat: boolean;
  requireAgentAuth: boolean;
  apiTokens: readonly ApiTokenConfig[];
  grpcTls?: GrpcTlsConfig;
  httpTls?: TlsFilesConfig;
  http: HttpOptions;
  grpc: GrpcBounds;
}

export const DEFAULT_HTTP_OPTIONS: Readonly<HttpOptions> = Object.freeze({
  allowedHosts: [],
  headerTimeoutSecs: 10,
  idleTimeoutSecs: 60,
  sessionTtlSecs: 12 * 3600,
  maxConnections: 1024,
});

export const DEFAULT_GRPC_BOUNDS: Readonly<GrpcBounds> = Object.freeze({
  maxConnections: 1_000,
  maxConcurrentStreams: 16,
  maxInflightBytes: 64 * 1024 * 1024,
  inflightWaitSecs: 5,
  idleTimeoutSecs: 300,
  keepaliveTimeSecs: 60,
  keepaliveTimeoutSecs: 20,
  handshakeTimeoutSecs: 10,
});

/** True for addresses only this machine reaches. */
export function isLoopbackHost(host: string): boolean {
  const bare = host.replace(/^\[|\]$/g, "").toLowerCase();
  return bare === "localhost" || bare === "::1" || /^127\.\d+\.\d+\.\d+$/.test(bare);
}

/** Why binding `host` for HTTP is unsafe with these tokens, or undefined when it is not. */
export function httpExposureProblem(
  host: string,
  apiTokens: readonly ApiTokenConfig[],
): string | undefined {
  if (apiTokens.length > 0 || isLoopbackHost(host)) return undefined;
  return `binding ${host} without any [[api_tokens]] would let anyone who reaches the port read ` +
    "every agent's data; add an [[api_tokens]] entry or bind 127.0.0.1";
}

function readSecret(table: TableReader, what: string): string | undefined {
  const hasToken = table.has("token");
  const hasDigest = table.has("token_sha256");
  if (hasToken === hasDigest) {
    table.problem("token", `${what} needs exactly one of token and token_sha256`);
    table.accept("token");
    table.accept("token_sha256");
    return undefined;
  }
  if (hasToken) {
    const token = table.string("token");
    if (!TOKEN_SHAPE.test(token)) {
      table.problem("token", "expected a non-empty token of printable characters without spaces");
      return undefined;
    }
    if (token.length < 16) {
      table.problem("token", `expected at least 16 characters, got ${token.length}`);
      return undefined;
    }
    return sha256Hex(token);
  }
  const hex = table.string("token_sha256");
  try {
    digestFromHex(hex);
    return hex.toLowerCase();
  } catch (error) {
    table.problem("token_sha256", (error as Error).message);
    return undefined;
  }
}

const AGENT_PATTERN = /^[\x21-\x7e]{1,256}$/;

function readAgentTokens(root: TableReader): { tokens: AgentTokenConfig[]; flat: boolean } {
  const raw = root.accept("agent_tokens");
  if (raw === undefined) return { tokens: [], flat: false };
  const isTableArray = Array.isArray(raw) && raw.length > 0 &&
    raw.every((item) => typeof item === "object" && item !== null && !Array.isArray(item));
  if (!isTableArray) {
    const flat = root.stringArray("agent_tokens", { default: [] });
    const tokens: AgentTokenConfig[] = [];
    flat.forEach((token, index) => {
      if (!TOKEN_SHAPE.test(token)) {
        root.problem(
          `agent_tokens[${index}]`,
          "expected a non-empty token of printable characters without spaces",
        );
      } else {tokens.push({
          name: `agent_tokens[${index}]`,
          sha256: sha256Hex(token),
          agents: null,
        });}
    });
    return { tokens, flat: tokens.length > 0 };
  }
  const tokens: AgentTokenConfig[] = [];
  root.tables("agent_tokens").forEach((table, index) => {
    const name = table.optionalString("name") ?? `agent_tokens[${index}]`;
    const digest = readSecret(table, "an agent token");
    const agents = table.stringArray("agents");
    if (table.has("agents") && agents.length === 0) {
      table.problem("agents", 'expected at least one agent id or glob (use ["*"] for any)');
    }
    agents.forEach((pattern, i) => {
      if (!AGENT_PATTERN.test(pattern)) {
        table.problem(
          `agents[${i}]`,
          `expected an agent id or glob, got ${JSON.stringify(pattern)}`,
        );
      }
    });
    table.finish();
    if (digest) tokens.push({ name, sha256: digest, agents });
  });
  return { tokens, flat: false };
}

function readApiTokens(root: TableReader): ApiTokenConfig[] {
  const tokens: ApiTokenConfig[] = [];
  root.tables("api_tokens").forEach((table, index) => {
    const name = table.optionalString("name") ?? `api_tokens[${index}]`;
    const digest = readSecret(table, "an API token");
    const scope = table.string("scope", { oneOf: ["read", "admin"] }) as ApiScope;
    table.finish();
    if (digest) tokens.push({ name, sha256: digest, scope });
  });
  return tokens;
}

function readableFile(table: TableReader, key: string, required: boolean): string | undefined {
  const path = required ? table.string(key) : table.optionalString(key);
  if (path === undefined || path === "") return undefined;
  try {
    const text = Deno.readTextFileSync(path);
    if (!text.includes("-----BEGIN ")) {
      table.problem(key, `${path} is not a PEM file`);
    }
  } catch (error) {
    table.problem(key, `cannot read ${path}: ${(error as Error).message}`);
  }
  return path;
}

function readTlsFiles(table: TableReader): TlsFilesConfig | undefined {
  const certFile = readableFile(table, "cert_file", true);
  const keyFile = readableFile(table, "key_file", true);
  if (certFile === undefined || keyFile === undefined) return undefined;
  return { certFile, keyFile };
}

/** The longest timeout a key may set, in seconds: a week. */
const MAX_TIMEOUT_SECS = 7 * 24 * 3600;

function secs(table: TableReader, key: string, fallback: number, min = 1): number {
  return table.integer(key, { default: fallback, min, max: MAX_TIMEOUT_SECS });
}

/** The TOML key of each bound under `[grpc]`, and its range. */
const GRPC_BOUND_KEYS = {
  maxConnections: ["max_connections", 1],
  maxConcurrentStreams: ["max_concurrent_streams", 1, 1000],
  maxInflightBytes: ["max_inflight_bytes", 1024, 4 * 1024 * 1024 * 1024],
  inflightWaitSecs: ["inflight_wait_secs", 0, MAX_TIMEOUT_SECS],
  idleTimeoutSecs: ["idle_timeout_secs", 1, MAX_TIMEOUT_SECS],
  keepaliveTimeSecs: ["keepalive_time_secs", 1, MAX_TIMEOUT_SECS],
  keepaliveTimeoutSecs: ["keepalive_timeout_secs", 1, MAX_TIMEOUT_SECS],
  handshakeTimeoutSecs: ["handshake_timeout_secs", 1, MAX_TIMEOUT_SECS],
} as const;

export function readSecurityConfig(root: TableReader): SecurityConfig {
  const requireAgentAuth = root.boolean("require_agent_auth", { default: false });
  const { tokens: agentTokens, flat } = readAgentTokens(root);
  const apiTokens = readApiTokens(root);

  let grpcTls: GrpcTlsConfig | undefined;
  if (root.has("grpc_tls")) {
    const table = root.table("grpc_tls");
    const files = readTlsFiles(table);
    const clientCaFile = readableFile(table, "client_ca_file", false);
    const clientCertIdentity = table.boolean("client_cert_identity", {
      default: clientCaFile !== undefined,
    });
    if (clientCertIdentity && clientCaFile === undefined) {
      table.problem("client_cert_identity", "needs client_ca_file (mutual TLS)");
    }
    table.finish();
    if (files) grpcTls = { ...files, clientCaFile, clientCertIdentity };
  }
  let httpTls: TlsFilesConfig | undefined;
  if (root.has("http_tls")) {
    const table = root.table("http_tls");
    httpTls = readTlsFiles(table);
    table.finish();
  }

  const httpTable = root.table("http");
  const allowedHosts = httpTable.stringArray("allowed_hosts", { default: [] });
  allowedHosts.forEach((host, index) => {
    if (!/^[\w.*?:[\]-]+$/.test(host)) {
      httpTable.problem(`allowed_hosts[${index}]`, `expected a host name or glob, got "${host}"`);
    }
  });
  const http: HttpOptions = {
    allowedHosts,
    headerTimeoutSecs: secs(
      httpTable,
      "header_timeout_secs",
      DEFAULT_HTTP_OPTIONS.headerTimeoutSecs,
    ),
    idleTimeoutSecs: secs(httpTable, "idle_timeout_secs", DEFAULT_HTTP_OPTIONS.idleTimeoutSecs),
    sessionTtlSecs: secs(httpTable, "session_ttl_secs", DEFAULT_HTTP_OPTIONS.sessionTtlSecs, 60),
    maxConnections: httpTable.integer("max_connections", {
      default: DEFAULT_HTTP_OPTIONS.maxConnections,
      min: 1,
    }),
  };
  httpTable.finish();

  const grpcTable = root.table("grpc");
  const grpc: GrpcBounds = grpcTable.integers(DEFAULT_GRPC_BOUNDS, GRPC_BOUND_KEYS);
  grpcTable.finish();

  return {
    agentTokens,
    agentTokensFlat: flat,
    requireAgentAuth,
    apiTokens,
    grpcTls,
    httpTls,
    http,
    grpc,
  };
}
