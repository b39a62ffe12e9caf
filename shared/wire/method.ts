/** Full gRPC method path of the one RPC oxmon speaks: `MetricService.ReportMetrics`. */
export const REPORT_METRICS_PATH = "/oxmon.MetricService/ReportMetrics";
