/**
 * The message classes protobufjs generated, configured once: int64 fields decode as plain
 * numbers. Millisecond timestamps stay far below 2^53, and `Long` objects would leak into every
 * consumer.
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
