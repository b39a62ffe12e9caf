/**
 * The writer the chunk crash test kills: opens the chunk store on `dataDir` and writes the
 * deterministic batches `start`, `start + 1`, … up to `end` (exclusive; forever when absent),
 * printing each batch id on stdout once `write()` has returned. Every few batches it runs the
 * store's maintenance (sealing, merging pending samples, compacting the finished day) in small
 * steps, so a kill can land in any of them.
 *
 * Its clock follows the data, two hours ahead (a backfill): batch `b` writes at
 * `crashNowMs(b)`.
 *
 * `deno run -A tests/helpers/chunk_crash_writer.ts <dataDir> <start> [end]`
 */
import { openChunkStore } from "../../server/storage/chunk/engine.ts";
import type { Clock } from "../../shared/clock.ts";
import type { MetricDataPoint } from "../../shared/types.ts";

export const CRASH_SERIES = 40;
/** 23:00 UTC: the stream crosses midnight after 360 batches. */
export const CRASH_START_MS = Date.UTC(2026, 0, 1, 23);
const INTERVAL_MS = 10_000;
/** How far back the late series reaches, in batches: older than its open chunk. */
const LATE_LAG = 400;
/** Series beyond the 40 regular ones: late, pairwise reversed, stragglers into sealed hours. */
export const CRASH_EXTRA_SERIES = ["crash.late", "crash.reversed", "crash.straggler"];

/** The writer's clock at batch `batch`: two hours after the batch's data. */
export function crashNowMs(batch: number): number {
  return CRASH_START_MS + batch * INTERVAL_MS + 2 * 3_600_000;
}

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

function extra(metricName: string, round: number, offsetMs: number): MetricDataPoint {
  return {
    agentId: "agent-extra",
    metricName,
    labels: {},
    timestampMs: CRASH_START_MS + round * INTERVAL_MS + offsetMs,
    value: Math.round(Math.abs(Math.cos(round)) * 1000) / 10,
  };
}

/**
 * What batch `batch` holds: one round of every series; one sample of a series 400 rounds
 * behind; one of a series whose rounds arrive in reversed pairs; one that alternates between
 * now and 400 rounds back (into hours already sealed); and a re-send of the previous batch's
 * first point.
 */
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
  if (batch >= LATE_LAG) points.push(extra("crash.late", batch - LATE_LAG, 5_000));
  points.push(extra("crash.reversed", batch % 2 === 0 ? batch + 1 : batch - 1, 3_000));
  if (batch >= LATE_LAG) {
    points.push(extra("crash.straggler", batch % 2 === 0 ? batch : batch - LATE_LAG, 7_000));
  }
  if (batch > 0) {
    points.push({
      ...points[0],
      timestampMs: timestampMs - INTERVAL_MS,
      value: valueOf(0, batch - 1),
    });
  }
  return points;
}

if (import.meta.main) {
  const [dataDir, startText, endText] = Deno.args;
  const start = Number(startText);
  const end = endText === undefined ? Infinity : Number(endText);
  let now = crashNowMs(start);
  const clock: Clock = { now: () => now };
  const store = openChunkStore({ dataDir, clock });
  const encoder = new TextEncoder();
  for (let batch = start; batch < end; batch++) {
    now = crashNowMs(batch);
    store.write(crashBatch(batch));
    Deno.stdout.writeSync(encoder.encode(`${batch}\n`));
    if (batch % 5 === 0) store.maintain!(now, 1);
  }
  store.close();
}
