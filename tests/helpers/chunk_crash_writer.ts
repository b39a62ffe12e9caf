/**
 * The writer the chunk crash test kills: opens the chunk store on `dataDir` and writes the
 * deterministic batches `start`, `start + 1`, … up to `end` (exclusive; forever when absent),
 * printing each batch id on stdout once `write()` has returned.
 *
 * `deno run -A tests/helpers/chunk_crash_writer.ts <dataDir> <start> [end]`
 */
import { openChunkStore } from "../../server/storage/chunk/engine.ts";
import type { MetricDataPoint } from "../../shared/types.ts";

export const CRASH_SERIES = 40;
/** 23:00 UTC: the stream crosses midnight after 360 batches. */
export const CRASH_START_MS = Date.UTC(2026, 0, 1, 23);
const INTERVAL_MS = 10_000;
/** How far back the late series reaches, in batches: older than its open chunk. */
const LATE_LAG = 400;

function valueOf(series: number, batch: number): number {
  switch (series % 4) {
    case 0:
      return Math.round(Math.abs(Math.sin(batch / 7 + series)) * 10_000) / 100;
    case 1:
      return (batch * 37 + series) * 4096;
    case 2:
      return batch % 50 === 0 ? -0 : Math.sin(batch * 1.1 + series) * 1e6;
    default:
      return series;
  }
}

/** What batch `batch` holds: one round of every series, plus one late sample. */
export function crashBatch(batch: number): MetricDataPoint[] {
  const timestampMs = CRASH_START_MS + batch * INTERVAL_MS;
  const points: MetricDataPoint[] = [];
  for (let series = 0; series < CRASH_SERIES; series++) {
    points.push({
      agentId: `agent-${series % 3}`,
      metricName: "crash.metric",
      labels: { series: String(series) },
      timestampMs,
      value: valueOf(series, batch),
    });
  }
  if (batch >= LATE_LAG) {
    points.push({
      agentId: "agent-late",
      metricName: "crash.late",
      labels: {},
      timestampMs: CRASH_START_MS + (batch - LATE_LAG) * INTERVAL_MS + 5_000,
      value: batch,
    });
  }
  return points;
}

if (import.meta.main) {
  const [dataDir, startText, endText] = Deno.args;
  const start = Number(startText);
  const end = endText === undefined ? Infinity : Number(endText);
  const store = openChunkStore({ dataDir });
  const encoder = new TextEncoder();
  for (let batch = start; batch < end; batch++) {
    store.write(crashBatch(batch));
    Deno.stdout.writeSync(encoder.encode(`${batch}\n`));
  }
  store.close();
}
