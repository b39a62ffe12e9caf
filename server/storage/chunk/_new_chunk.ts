/** Building the row of a sealed chunk: its statistics, its encoded samples, its rollups. */
import { ByteWriter } from "./_bytes.ts";
import { encodeChunkInto } from "./codec.ts";
import { encodeBlockInto } from "./_block_codec.ts";
import type { NewChunk } from "./_partition.ts";
import { chunkStats } from "./_aggregate.ts";
import { encodeIntervals, FIVE_MINUTES_MS, intervalsOf, ONE_HOUR_MS } from "./_rollup.ts";

/** A chunk is sealed at this many samples (an hour at the agent's default 10 s interval). */
export const CHUNK_MAX_SAMPLES = 360;

export interface NewChunkOptions {
  /** Where the encoded bytes go (the chunk's `data` views into it). Default: a fresh buffer. */
  out?: ByteWriter;
  /**
   * A version-2 block of a compacted day, without rollup intervals (the day's are in the tier
   * files). Default false: a version-1 chunk of at most an hour, with its 5-minute intervals.
   */
  block?: boolean;
}

/** The row of a sealed chunk holding `count` ascending samples. */
export function newChunk(
  seriesId: number,
  timestamps: ArrayLike<number>,
  values: ArrayLike<number>,
  count: number,
  options: NewChunkOptions = {},
): NewChunk {
  const { block = false } = options;
  const out = options.out ?? new ByteWriter(16 + count * 3);
  const stats = chunkStats(values, count);
  const start = out.length;
  if (block) {
    encodeBlockInto(out, timestamps, values, count);
  } else {
    encodeChunkInto(out, timestamps, values, count);
  }
  const hour = timestamps[0] - (timestamps[0] % ONE_HOUR_MS);
  return {
    seriesId,
    startTs: timestamps[0],
    endTs: timestamps[count - 1],
    count,
    ...stats,
    data: out.bytes.subarray(start, out.length),
    rollup: block ? undefined : encodeIntervals(
      hour,
      FIVE_MINUTES_MS,
      intervalsOf(timestamps, values, count, FIVE_MINUTES_MS),
    ),
  };
}
