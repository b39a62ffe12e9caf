/**
 * Speaking Prometheus: remote write out (`[[remote_write]]`) and in (`POST /api/v1/write`),
 * `/metrics`, and the query API under `/prometheus/api/v1/`.
 */
export {
  type PrometheusConfig,
  readPrometheusConfig,
  readRemoteWriteConfig,
  type RemoteWriteConfig,
} from "./config.ts";
export { newestStoredSamples, RemoteWriteForwarder, remoteWriteHealth } from "./remote_write.ts";
export { RemoteWriteReceiver, remoteWriteRoutes } from "./remote_write_receiver.ts";
export { metricsRoutes, type SelfMetricsSources, ServerCounters } from "./self_metrics.ts";
export { type QueryApiOptions, queryApiRoutes } from "./promql/api.ts";
