/**
 * A real grpc-js `MetricService` client for tests and the ingest benchmark, and the command that
 * runs the listener child straight from its source file.
 */
import { type Client, credentials, makeGenericClientConstructor, Metadata } from "@grpc/grpc-js";
import { Buffer } from "node:buffer";
import {
  type IMetricBatchProto,
  type IReportResponse,
  metricServiceDefinition,
} from "../../shared/proto/mod.ts";
import type { ListenerCommand } from "../../server/ingest/supervisor.ts";

const MetricServiceClient = makeGenericClientConstructor(metricServiceDefinition, "MetricService");

/** `deno run -A server/ingest/listener.ts`: the listener child without the server's main. */
export function listenerCommand(): ListenerCommand {
  return {
    cmd: Deno.execPath(),
    args: ["run", "-A", new URL("../../server/ingest/listener.ts", import.meta.url).href],
  };
}

/**
 * Opens a client to 127.0.0.1:port, runs `use`, and always closes it. `channelOptions` are
 * grpc-js channel options (e.g. `grpc.max_reconnect_backoff_ms` for a server that restarts).
 */
export async function withClient<T>(
  port: number,
  use: (client: Client) => Promise<T>,
  channelOptions: Record<string, number | string> = {},
): Promise<T> {
  const client = new MetricServiceClient(
    `127.0.0.1:${port}`,
    credentials.createInsecure(),
    channelOptions,
  );
  try {
    return await use(client);
  } finally {
    client.close();
  }
}

/** One `ReportMetrics` call; rejects with the grpc-js error (`code`, `details`) on a non-OK status. */
export function reportMetrics(
  client: Client,
  batch: IMetricBatchProto | Uint8Array,
  timeoutMs = 5_000,
  headers: Record<string, string> = {},
): Promise<IReportResponse> {
  const metadata = new Metadata();
  const serialize = batch instanceof Uint8Array
    ? () => Buffer.from(batch)
    : metricServiceDefinition.ReportMetrics.requestSerialize;
  for (const [key, value] of Object.entries(headers)) metadata.set(key, value);
  return new Promise((resolve, reject) => {
    client.makeUnaryRequest(
      metricServiceDefinition.ReportMetrics.path,
      serialize,
      metricServiceDefinition.ReportMetrics.responseDeserialize,
      batch instanceof Uint8Array ? {} : batch,
      metadata,
      { deadline: Date.now() + timeoutMs },
      (error, response) => error ? reject(error) : resolve(response!),
    );
  });
}
