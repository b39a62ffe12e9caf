/** Building the row of a sealed chunk: its statistics and its encoded samples. */
import { ByteWriter } from "./_bytes.ts";
import { encodeChunkInto } from "./codec.ts";
import type { NewChunk } from "./_partition.ts";
import { chunkStats } from "./_aggregate.ts";

/** A chunk is sealed at this many samples (an hour at the agent's default 10 s interval). */
export const CHUNK_MAX_SAMPLES = 360;

/** A sealed chunk whose bytes are appended to `out` (a fresh buffer when not given). */
export function newChunk(
  seriesId: number,
  timestamps: ArrayLike<number>,
  values: ArrayLike<number>,
  count: number,
  out = new ByteWriter(16 + count * 3),
  encode: (out: ByteWriter, ts: ArrayLike<number>, v: ArrayLike<number>, n: number) => void =
    encodeChunkInto,
): NewChunk {
  const stats = chunkStats(values, count);
  const start = out.length;
  encode(out, timestamps, values, count);
  return {
    seriesId,
    startTs: timestamps[0],
    endTs: timestamps[count - 1],
    count,
    ...stats,
    data: out.bytes.subarray(start, out.length),
  };
}
