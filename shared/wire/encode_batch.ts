/**
 * `encodeMetricBatch`: a batch as `oxmon.MetricBatchProto` bytes, written by hand. The agent
 * sends these; protobufjs (the oracle, `shared/proto/`) writes the same bytes, which
 * `encode_batch_test.ts` checks. Why not protobufjs itself: it is a CommonJS npm package, and
 * loading it pulls Deno's Node compatibility layer into the agent, about 12 MB of resident
 * memory, a quarter of the agent's budget.
 */
import type { MetricBatch, MetricDataPoint, SystemInfo } from "../types.ts";
import { Writer } from "./_writer.ts";

function writeDataPoint(writer: Writer, point: MetricDataPoint): void {
  writer.int64(1, point.timestampMs);
  writer.string(2, point.agentId);
  writer.string(3, point.metricName);
  writer.double(4, point.value);
  const labels = point.labels;
  for (const key of Object.keys(labels)) {
    const value = labels[key];
    // A map<string, string> is a repeated entry message { key = 1; value = 2; }.
    const entry = writer.beginMessage(5);
    writer.string(1, key, { keepEmpty: true });
    writer.string(2, value, { keepEmpty: true });
    writer.endMessage(entry);
  }
}

function writeSystemInfo(writer: Writer, info: SystemInfo): void {
  writer.string(1, info.hostname);
  writer.string(2, info.os);
  writer.string(3, info.osVersion);
  writer.string(4, info.arch);
  writer.string(5, info.kernelVersion);
  writer.int32(6, info.cpuCores);
  writer.double(7, info.memoryGb);
  writer.double(8, info.diskGb);
}

/** Encodes `batch` as an `oxmon.MetricBatchProto`. */
export function encodeMetricBatch(batch: MetricBatch): Uint8Array {
  const writer = new Writer();
  writer.string(1, batch.agentId);
  writer.int64(2, batch.timestampMs);
  for (const point of batch.dataPoints) {
    const start = writer.beginMessage(3);
    writeDataPoint(writer, point);
    writer.endMessage(start);
  }
  if (batch.systemInfo) {
    const start = writer.beginMessage(4);
    writeSystemInfo(writer, batch.systemInfo);
    writer.endMessage(start);
  }
  return writer.finish();
}

/**
 * The `system_info` field (4) alone, as bytes to append to an encoded batch: protobuf merges
 * concatenated messages, so `batch + encodeSystemInfoField(info)` decodes as the batch with its
 * system info, without encoding the batch again.
 */
export function encodeSystemInfoField(info: SystemInfo): Uint8Array {
  const writer = new Writer();
  const start = writer.beginMessage(4);
  writeSystemInfo(writer, info);
  writer.endMessage(start);
  return writer.finish();
}
