/**
 * A bounded FIFO of (timestamp, value) samples in two growable ring buffers of doubles: no object
 * per sample, so a window of thousands of samples costs 16 bytes each and pushes allocate nothing
 * once grown.
 */
export class SampleWindow {
  #times: Float64Array;
  #values: Float64Array;
  #head = 0;
  #length = 0;
  readonly #maxLength: number;

  constructor(maxLength: number, initialCapacity = 16) {
    if (!Number.isInteger(maxLength) || maxLength < 1) {
      throw new RangeError(
        `Cannot create a sample window: maxLength must be >= 1, got ${maxLength}`,
      );
    }
    this.#maxLength = maxLength;
    const capacity = Math.min(maxLength, initialCapacity);
    this.#times = new Float64Array(capacity);
    this.#values = new Float64Array(capacity);
  }

  get length(): number {
    return this.#length;
  }

  /** Whether the next push drops the oldest sample. */
  get full(): boolean {
    return this.#length === this.#maxLength;
  }

  timeAt(index: number): number {
    return this.#times[(this.#head + index) % this.#times.length];
  }

  valueAt(index: number): number {
    return this.#values[(this.#head + index) % this.#values.length];
  }

  /** Appends a sample; when the window holds `maxLength`, drop the oldest first (`shift`). */
  push(timestampMs: number, value: number): void {
    if (this.#length === this.#maxLength) this.shift();
    if (this.#length === this.#times.length) this.#grow();
    const slot = (this.#head + this.#length) % this.#times.length;
    this.#times[slot] = timestampMs;
    this.#values[slot] = value;
    this.#length++;
  }

  /** Removes the oldest sample. */
  shift(): void {
    if (this.#length === 0) return;
    this.#head = (this.#head + 1) % this.#times.length;
    this.#length--;
  }

  #grow(): void {
    const capacity = Math.min(this.#maxLength, this.#times.length * 2);
    const times = new Float64Array(capacity);
    const values = new Float64Array(capacity);
    for (let i = 0; i < this.#length; i++) {
      times[i] = this.timeAt(i);
      values[i] = this.valueAt(i);
    }
    this.#times = times;
    this.#values = values;
    this.#head = 0;
  }
}
