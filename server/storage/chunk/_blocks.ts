/**
 * `queryBlocks` for the chunk engine: sealed chunks wholly inside the range are handed out with
 * their stored statistics and decoded only if asked; samples of partly covered chunks and of
 * open chunks are gathered into blocks of raw samples.
 */
import { blockOf } from "../blocks.ts";
import type { SampleBlock } from "../types.ts";
import type { ChunkRow } from "./_partition.ts";

export class BlockCollector {
  readonly blocks: SampleBlock[] = [];
  #timestamps: number[] = [];
  #values: number[] = [];

  /** A sealed chunk inside the range; `decode` runs at most once, on demand. */
  chunk(
    row: ChunkRow,
    decode: () => { timestamps: ArrayLike<number>; values: ArrayLike<number> },
  ): void {
    this.#flushRaw();
    let decoded: { timestamps: ArrayLike<number>; values: ArrayLike<number> } | undefined;
    this.blocks.push({
      startTs: row.startTs,
      endTs: row.endTs,
      count: row.count,
      min: row.min,
      max: row.max,
      sum: row.sum,
      samples: () => decoded ??= decode(),
    });
  }

  sample(ts: number, value: number): void {
    this.#timestamps.push(ts);
    this.#values.push(value);
  }

  finish(): SampleBlock[] {
    this.#flushRaw();
    return this.blocks;
  }

  #flushRaw(): void {
    if (this.#timestamps.length === 0) return;
    this.blocks.push(blockOf(this.#timestamps, this.#values));
    this.#timestamps = [];
    this.#values = [];
  }
}
