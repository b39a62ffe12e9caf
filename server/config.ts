/**
 * Server configuration: the original oxmon server keys (`grpc_port`, `http_port`, `data_dir`,
 * `retention_days`, `[[alert.rules]]`, `[[notification.channels]]`, …) plus oxmon-ts additions.
 * Parsed once at start-up into a frozen object; every problem is reported with its TOML path.
 */
import { loadConfigFile, loadConfigText, type TableReader } from "../shared/config/mod.ts";
import { type LogFormat, type LogLevel, readLogConfig } from "../shared/log.ts";
import { type ChecksConfig, readChecksConfig } from "../shared/checks/mod.ts";
import { type AlertConfig, readAlertConfig } from "./alerts/mod.ts";
import { type CertCheckConfig, readCertCheckConfig } from "./certs/config.ts";
import { type NotificationConfig, readNotificationConfig } from "./notify/mod.ts";
import { readStorageRetention, type StorageRetention } from "./storage/config.ts";
import { httpExposureProblem, readSecurityConfig, type SecurityConfig } from "./auth/config.ts";
import {
  type PrometheusConfig,
  readPrometheusConfig,
  readRemoteWriteConfig,
  type RemoteWriteConfig,
} from "./prometheus/mod.ts";

export interface IngestLimits {
  /** Most points one batch may carry. */
  maxPointsPerBatch: number;
  /** Largest encoded request the gRPC listener accepts (gRPC's own default: 4 MiB). */
  maxBatchBytes: number;
  maxAgentIdLength: number;
  maxMetricNameLength: number;
  maxLabelsPerPoint: number;
  maxLabelNameLength: number;
  maxLabelValueLength: number;
  /** How far ahead of the server clock a timestamp may be. */
  maxFutureSecs: number;
  /** Cardinality limits (`server/ingest/series_guard.ts`). */
  maxSeriesPerAgent: number;
  maxSeriesTotal: number;
  maxNewSeriesPerAgentPerMinute: number;
}

export interface ServerConfig {
  grpcHost: string;
  grpcPort: number;
  httpHost: string;
  httpPort: number;
  dataDir: string;
  /** Days of raw samples kept: `retention_days`, or `[storage.rollups] raw_days`. */
  retentionDays: number;
  /** `[storage.rollups]`: retention of raw samples and of each rollup tier. */
  storageRetention: StorageRetention;
  /** New data is refused while the data directory's file system has less free space. */
  minFreeBytes: number;
  /** Storage engine: `"row"` (reference) or `"chunk"` once it exists. */
  storageEngine: "row" | "chunk";
  /** Credentials, TLS, host list, timeouts and listener bounds (`server/auth/config.ts`). */
  security: SecurityConfig;
  /** How long shutdown waits for in-flight requests and notification sends. */
  shutdownGraceSecs: number;
  /** Collection interval assumed for liveness (an agent is inactive after 3 missed). */
  agentIntervalSecs: number;
  ingest: IngestLimits;
  logLevel: LogLevel;
  logFormat: LogFormat;
  alert: AlertConfig;
  notification: NotificationConfig;
  /** `[cert_check]`: certificate expiry of monitored domains. */
  certCheck: CertCheckConfig;
  /** `[[checks]]` the server runs and `[check_settings]`. */
  checks: ChecksConfig;
  /** `[[remote_write]]` endpoints samples are forwarded to. */
  remoteWrite: readonly RemoteWriteConfig[];
  /** `[prometheus]`: `/metrics`, `POST /api/v1/write` and the query API. */
  prometheus: PrometheusConfig;
}

export const DEFAULT_INGEST_LIMITS: Readonly<IngestLimits> = Object.freeze({
  maxPointsPerBatch: 10_000,
  maxBatchBytes: 4 * 1024 * 1024,
  maxAgentIdLength: 128,
  maxMetricNameLength: 128,
  maxLabelsPerPoint: 16,
  maxLabelNameLength: 64,
  maxLabelValueLength: 256,
  maxFutureSecs: 300,
  maxSeriesPerAgent: 10_000,
  maxSeriesTotal: 1_000_000,
  maxNewSeriesPerAgentPerMinute: 1_000,
});

/** The TOML key of each ingest limit under `[ingest]`, and its bounds. */
const INGEST_LIMIT_KEYS = {
  maxPointsPerBatch: ["max_points_per_batch", 1],
  maxBatchBytes: ["max_batch_bytes", 1024, 64 * 1024 * 1024],
  maxAgentIdLength: ["max_agent_id_length", 1, 1024],
  maxMetricNameLength: ["max_metric_name_length", 1, 1024],
  maxLabelsPerPoint: ["max_labels_per_point", 0, 256],
  maxLabelNameLength: ["max_label_name_length", 1],
  maxLabelValueLength: ["max_label_value_length", 1],
  maxFutureSecs: ["max_future_secs", 0],
  maxSeriesPerAgent: ["max_series_per_agent", 1],
  maxSeriesTotal: ["max_series_total", 1],
  maxNewSeriesPerAgentPerMinute: ["max_new_series_per_agent_per_minute", 1],
} as const;

/**
 * 100 MiB: room for the checkpoint of a busy write-ahead log and an hour's sealing, so writes
 * stop cleanly before SQLite meets a full disk half-way through a commit.
 */
export const DEFAULT_MIN_FREE_BYTES = 100 * 1024 * 1024;

const HOST = { pattern: /^[\w.:-]+$|^\[[\w:]+\]$/, patternHint: "a host name or IP address" };

/** `ingest.max_batch_bytes` as given, for checks across tables (the ingest reader reports it). */
function limitsMaxBatchBytes(root: TableReader): number {
  const raw = (root.accept("ingest") as Record<string, unknown> | undefined)?.max_batch_bytes;
  return typeof raw === "number" ? raw : DEFAULT_INGEST_LIMITS.maxBatchBytes;
}

/** Reads the server config from its root table (exported for the documentation test). */
export function readServerConfig(root: TableReader): ServerConfig {
  const security = readSecurityConfig(root);
  if (security.grpc.maxInflightBytes < limitsMaxBatchBytes(root)) {
    root.problem("grpc.max_inflight_bytes", "must be at least ingest.max_batch_bytes");
  }
  // With no API token the HTTP listener serves loopback only, unless told otherwise (an error).
  const httpHost = root.string("http_host", {
    default: security.apiTokens.length > 0 ? "0.0.0.0" : "127.0.0.1",
    ...HOST,
  });
  const exposure = httpExposureProblem(httpHost, security.apiTokens);
  if (exposure) root.problem("http_host", exposure);
  const limits = root.table("ingest");
  const ingest: IngestLimits = limits.integers(DEFAULT_INGEST_LIMITS, INGEST_LIMIT_KEYS);
  limits.finish();
  const log = readLogConfig(root.table("log"));
  const storageRetention = readStorageRetention(root);
  const topLevelAggregation = root.has("aggregation_window_secs")
    ? root.integer("aggregation_window_secs", { min: 0 })
    : undefined;
  return {
    grpcHost: root.string("grpc_host", { default: "0.0.0.0", ...HOST }),
    grpcPort: root.integer("grpc_port", { default: 9090, min: 0, max: 65535 }),
    httpHost,
    httpPort: root.integer("http_port", { default: 8080, min: 0, max: 65535 }),
    dataDir: root.string("data_dir", { default: "data" }),
    retentionDays: storageRetention.rawDays,
    storageRetention,
    minFreeBytes: root.integer("min_free_bytes", { default: DEFAULT_MIN_FREE_BYTES, min: 0 }),
    storageEngine: root.string("storage_engine", { default: "chunk", oneOf: ["row", "chunk"] }) as
      | "row"
      | "chunk",
    security,
    agentIntervalSecs: root.integer("agent_interval_secs", { default: 10, min: 1 }),
    shutdownGraceSecs: root.integer("shutdown_grace_secs", { default: 10, min: 0 }),
    ingest,
    logLevel: log.level,
    logFormat: log.format,
    alert: readAlertConfig(root.table("alert")),
    notification: readNotificationConfig(root.table("notification"), topLevelAggregation),
    certCheck: readCertCheckConfig(root.table("cert_check")),
    checks: readChecksConfig(root, { side: "server" }),
    remoteWrite: readRemoteWriteConfig(root.tables("remote_write")),
    prometheus: readPrometheusConfig(root.table("prometheus")),
  };
}

/** The configuration used when no `--config` is given. */
export function defaultServerConfig(): Readonly<ServerConfig> {
  return loadConfigText("", "embedded defaults", readServerConfig);
}

export function parseServerConfig(text: string, source = "server config"): Readonly<ServerConfig> {
  return loadConfigText(text, source, readServerConfig);
}

export function loadServerConfig(path: string): Readonly<ServerConfig> {
  return loadConfigFile(path, readServerConfig);
}
