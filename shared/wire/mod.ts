/**
 * The oxmon wire protocol (`proto/metrics.proto`), in one place: the method path, the gRPC
 * status codes, and the hand-written encoders and decoders of its messages. Nothing here loads
 * an npm package or a `node:` module. The generated protobufjs code in `shared/proto/` is the
 * oracle these are tested against.
 *
 * The agent imports the files it needs rather than this one: the batch decoder allocates a
 * 250 kB string cache when it loads, which the agent, near its memory budget, does not need.
 *
 * @module
 */
export { REPORT_METRICS_PATH } from "./method.ts";
export { GrpcStatus, type GrpcStatusCode, grpcStatusName } from "./status.ts";
export type {
  DecodedDataPoint,
  DecodedMetricBatch,
  DecodedSystemInfo,
  MetricBatchMessage,
  MetricDataPointMessage,
  ReportResponse,
  SystemInfoMessage,
} from "./messages.ts";
export { encodeMetricBatch, encodeSystemInfoField } from "./encode_batch.ts";
export { type DecodeBatchOptions, decodeMetricBatch, TooManyPointsError } from "./decode_batch.ts";
export { decodeReportResponse, encodeReportResponse } from "./report_response.ts";
