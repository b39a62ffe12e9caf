/**
 * grpc-js service definitions for `oxmon.MetricService` over the protobufjs static code
 * (grpc-js needs the path and the (de)serializers spelled out for static code).
 */
import type { ServiceDefinition } from "@grpc/grpc-js";
import { Buffer } from "node:buffer";
import {
  type IMetricBatchProto,
  type IReportResponse,
  MetricBatchProto,
  REPORT_METRICS_PATH,
  ReportResponse,
} from "./mod.ts";

/** Typed definition: clients send `IMetricBatchProto` and get a decoded `ReportResponse`. */
export const metricServiceDefinition = {
  ReportMetrics: {
    path: REPORT_METRICS_PATH,
    requestStream: false,
    responseStream: false,
    requestSerialize: (batch: IMetricBatchProto) =>
      Buffer.from(MetricBatchProto.encode(batch).finish()),
    requestDeserialize: (bytes: Buffer) => MetricBatchProto.decode(bytes),
    responseSerialize: (response: IReportResponse) =>
      Buffer.from(ReportResponse.encode(response).finish()),
    responseDeserialize: (bytes: Buffer) => ReportResponse.decode(bytes),
  },
} satisfies ServiceDefinition;

/**
 * Raw definition for a server that forwards request bytes without decoding them (the gRPC
 * listener process hands them to the parent, which decodes and validates once).
 */
export const rawMetricServiceDefinition = {
  ReportMetrics: {
    path: REPORT_METRICS_PATH,
    requestStream: false,
    responseStream: false,
    requestSerialize: (bytes: Uint8Array) => Buffer.from(bytes),
    requestDeserialize: (bytes: Buffer) => bytes as Uint8Array,
    responseSerialize: (response: IReportResponse) =>
      Buffer.from(ReportResponse.encode(response).finish()),
    responseDeserialize: (bytes: Buffer) => ReportResponse.decode(bytes),
  },
} satisfies ServiceDefinition;
