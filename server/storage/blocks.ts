/** Sample blocks (`MetricStore.queryBlocks`) built from raw samples, with their statistics. */
import { MS_PER_HOUR } from "../../shared/time.ts";
import { CompensatedSum } from "./compensated_sum.ts";
import type { BlockSeries, RawSeries, SampleBlock } from "./types.ts";

/** Statistics of `values[start, end)`, the sum compensated (Neumaier) as the chunk engine's. */
export function blockOf(
  timestamps: ArrayLike<number>,
  values: ArrayLike<number>,
  range: { start?: number; end?: number } = {},
): SampleBlock {
  const start = range.start ?? 0;
  const end = range.end ?? timestamps.length;
  let min = values[start];
  let max = values[start];
  const sum = new CompensatedSum();
  for (let i = start; i < end; i++) {
    const value = values[i];
    if (value < min) min = value;
    if (value > max) max = value;
    sum.add(value);
  }
  const ts = Array.prototype.slice.call(timestamps, start, end) as number[];
  const vs = Array.prototype.slice.call(values, start, end) as number[];
  return {
    startTs: timestamps[start],
    endTs: timestamps[end - 1],
    count: end - start,
    min,
    max,
    sum: sum.value,
    samples: () => ({ timestamps: ts, values: vs }),
  };
}

/** One block per clock hour of each series: the reference `queryBlocks` for raw storage. */
export function blocksByHour(raw: readonly RawSeries[]): BlockSeries[] {
  return raw.map(({ samples, ...key }) => {
    const timestamps = samples.map((s) => s.timestampMs);
    const values = samples.map((s) => s.value);
    const blocks: SampleBlock[] = [];
    let start = 0;
    for (let i = 1; i <= timestamps.length; i++) {
      const hour = Math.floor(timestamps[start] / MS_PER_HOUR);
      if (i === timestamps.length || Math.floor(timestamps[i] / MS_PER_HOUR) !== hour) {
        blocks.push(blockOf(timestamps, values, { start, end: i }));
        start = i;
      }
    }
    return { ...key, blocks };
  });
}
