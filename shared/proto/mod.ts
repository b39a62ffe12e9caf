/**
 * The oxmon wire types (generated from `proto/metrics.proto` by `deno task proto`) and the
 * grpc-js service definition for `oxmon.MetricService`.
 *
 * int64 fields are configured to decode as plain numbers: millisecond timestamps stay far below
 * 2^53, and `Long` objects would leak into every consumer.
 */
import protobuf from "protobufjs/minimal.js";
// @ts-types="./metrics.d.ts"
import { oxmon } from "./metrics.js";

// deno-lint-ignore no-explicit-any
(protobuf.util as any).Long = undefined;
protobuf.configure();

export const MetricBatchProto = oxmon.MetricBatchProto;
export const MetricDataPointProto = oxmon.MetricDataPointProto;
export const SystemInfoProto = oxmon.SystemInfoProto;
export const ReportResponse = oxmon.ReportResponse;
export type IMetricBatchProto = oxmon.IMetricBatchProto;
export type IMetricDataPointProto = oxmon.IMetricDataPointProto;
export type ISystemInfoProto = oxmon.ISystemInfoProto;
export type IReportResponse = oxmon.IReportResponse;

/** Full gRPC method path of the one RPC oxmon speaks. */
export const REPORT_METRICS_PATH = "/oxmon.MetricService/ReportMetrics";
