/**
 * The statistics stored with each chunk (count, min, max, sum), for readers that aggregate
 * chunks without decoding them. Queries do not use the sum: theirs are exact (`BucketStats`).
 */
import { CompensatedSum } from "../compensated_sum.ts";

export interface ChunkStats {
  min: number;
  max: number;
  sum: number;
}

export function chunkStats(values: ArrayLike<number>, count = values.length): ChunkStats {
  let min = values[0];
  let max = values[0];
  const sum = new CompensatedSum();
  for (let i = 0; i < count; i++) {
    const value = values[i];
    if (value < min) min = value;
    if (value > max) max = value;
    sum.add(value);
  }
  return { min, max, sum: sum.value };
}
