/**
 * The grpc-js service definition of `oxmon.MetricService` over the protobufjs static code, for
 * the test peers (a grpc-js client and server speaking through the oracle's encoding). grpc-js
 * needs the path and the (de)serializers spelled out for static code.
 */
import type { ServiceDefinition } from "@grpc/grpc-js";
import { Buffer } from "node:buffer";
import { REPORT_METRICS_PATH } from "../wire/mod.ts";
import {
  type IMetricBatchProto,
  type IReportResponse,
  MetricBatchProto,
  ReportResponse,
} from "./_messages.ts";

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
