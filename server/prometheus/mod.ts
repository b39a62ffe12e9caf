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
export {
  newestStoredSamples,
  openRemoteWriteForwarder,
  type RemoteWriteForwarder,
  remoteWriteHealth,
} from "./remote_write.ts";
export { RemoteWriteReceiver } from "./remote_write_receiver.ts";
export { type SelfMetricsSources, ServerCounters } from "./self_metrics.ts";
export { createRemoteWriteRoutes, createSelfMetricsRoutes } from "./routes.ts";
export { createQueryApiRoutes, type QueryApiOptions } from "./promql/routes.ts";
