/**
 * The messages of `proto/metrics.proto` as plain data. `decodeMetricBatch` returns the
 * `Decoded*` shapes: every field present, absent ones holding their proto3 default, so all
 * points share one hidden class. The `*Message` shapes are what any decoder may hand over
 * (fields optional or null, as protobufjs leaves them): validation accepts those.
 */

/** `oxmon.MetricDataPointProto` as any decoder gives it. */
export interface MetricDataPointMessage {
  timestampMs?: number | null;
  agentId?: string | null;
  metricName?: string | null;
  value?: number | null;
  labels?: Record<string, string> | null;
}

/** `oxmon.SystemInfoProto` as any decoder gives it. */
export interface SystemInfoMessage {
  hostname?: string | null;
  os?: string | null;
  osVersion?: string | null;
  arch?: string | null;
  kernelVersion?: string | null;
  cpuCores?: number | null;
  memoryGb?: number | null;
  diskGb?: number | null;
}

/** `oxmon.MetricBatchProto` as any decoder gives it. */
export interface MetricBatchMessage {
  agentId?: string | null;
  timestampMs?: number | null;
  dataPoints?: MetricDataPointMessage[] | null;
  systemInfo?: SystemInfoMessage | null;
}

/** A point as `decodeMetricBatch` returns it; `labels` is null when the point has none. */
export interface DecodedDataPoint {
  timestampMs: number;
  agentId: string;
  metricName: string;
  value: number;
  labels: Record<string, string> | null;
}

/** System info as `decodeMetricBatch` returns it. */
export interface DecodedSystemInfo {
  hostname: string;
  os: string;
  osVersion: string;
  arch: string;
  kernelVersion: string;
  cpuCores: number;
  memoryGb: number;
  diskGb: number;
}

/** A batch as `decodeMetricBatch` returns it; `systemInfo` is null when the batch has none. */
export interface DecodedMetricBatch {
  agentId: string;
  timestampMs: number;
  dataPoints: DecodedDataPoint[];
  systemInfo: DecodedSystemInfo | null;
}

/** `oxmon.ReportResponse`; absent fields take their proto3 defaults. */
export interface ReportResponse {
  success: boolean;
  message: string;
}
