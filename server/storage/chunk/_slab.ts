/**
 * Byte slots for open chunks, carved out of shared 256 KiB slabs. 100k open series each owning
 * an ArrayBuffer measured 2.8 KB of RSS per series for 1.2 KB of data (per-buffer bookkeeping
 * and malloc fragmentation as buffers grow). Open chunks take small slots (frozen segments that
 * never change, a tail of fixed size, and the list of their segments, which moves up a class
 * every two segments or so), and sealed chunks give them back for the next hour's, so memory
 * stays near the data size.
 */

const SLAB_BYTES = 256 * 1024;

/** Slot sizes: 32 bytes, then about ×1.25 up to 256 KiB. */
export const SLOT_SIZES: readonly number[] = (() => {
  const sizes: number[] = [];
  for (let size = 32; size <= SLAB_BYTES; size = Math.ceil((size * 1.25) / 16) * 16) {
    sizes.push(size);
  }
  return sizes;
})();

interface Slab {
  id: number;
  bytes: Uint8Array;
  /** The same bytes as 32-bit integers, made when first asked for (`locateInts`). */
  ints?: Int32Array;
  /** Free slot indexes within the slab. */
  free: number[];
  used: number;
  listed: boolean;
  dropped: boolean;
}

/**
 * One slot size. A slab whose slots are all free is dropped: open chunks grow through the
 * classes in step (every series at once), so keeping emptied slabs would hold the sum of all
 * classes. Slabs of 256 KiB are mmapped by malloc and go back to the system when freed.
 */
class SizeClass {
  readonly size: number;
  readonly perSlab: number;
  readonly slabs: (Slab | undefined)[] = [];
  readonly #unusedIds: number[] = [];
  /** Slabs that may have free slots (stale entries are skipped). */
  readonly #partial: Slab[] = [];
  liveSlabs = 0;

  constructor(size: number) {
    this.size = size;
    this.perSlab = Math.floor(SLAB_BYTES / size);
  }

  alloc(): number {
    const partial = this.#partial;
    while (partial.length > 0) {
      const slab = partial[partial.length - 1];
      if (slab.dropped || slab.free.length === 0) {
        slab.listed = false;
        partial.pop();
        continue;
      }
      const index = slab.free.pop()!;
      slab.used++;
      return slab.id * this.perSlab + index;
    }
    const id = this.#unusedIds.pop() ?? this.slabs.length;
    const slab: Slab = {
      id,
      bytes: new Uint8Array(this.perSlab * this.size),
      free: [],
      used: 1,
      listed: true,
      dropped: false,
    };
    for (let i = this.perSlab - 1; i > 0; i--) slab.free.push(i);
    this.slabs[id] = slab;
    this.liveSlabs++;
    partial.push(slab);
    return id * this.perSlab;
  }

  release(slotId: number): void {
    const slabId = Math.floor(slotId / this.perSlab);
    const slab = this.slabs[slabId]!;
    slab.free.push(slotId - slabId * this.perSlab);
    slab.used--;
    if (slab.used === 0 && this.liveSlabs > 1) {
      slab.dropped = true;
      if (slab.listed) this.#partial.splice(this.#partial.indexOf(slab), 1);
      this.slabs[slabId] = undefined;
      this.#unusedIds.push(slabId);
      this.liveSlabs--;
      return;
    }
    if (!slab.listed) {
      slab.listed = true;
      this.#partial.push(slab);
    }
  }
}

const classes = SLOT_SIZES.map((size) => new SizeClass(size));

/** The smallest size class holding `bytes`. */
export function sizeClassFor(bytes: number): number {
  for (let i = 0; i < SLOT_SIZES.length; i++) if (SLOT_SIZES[i] >= bytes) return i;
  throw new RangeError(`Cannot hold ${bytes} bytes in one open-chunk slot`);
}

/** Takes a slot of `sizeClass`; returns its id within the class. */
export function allocSlot(sizeClass: number): number {
  return classes[sizeClass].alloc();
}

export function releaseSlot(sizeClass: number, id: number): void {
  classes[sizeClass].release(id);
}

/** The byte offset of the slot `slabOf` found last, in its slab. */
let slotOffset = 0;

/** The slab holding slot `id` of `sizeClass`; sets `slotOffset`. */
function slabOf(sizeClass: number, id: number): Slab {
  const cls = classes[sizeClass];
  const index = Math.floor(id / cls.perSlab);
  slotOffset = (id - index * cls.perSlab) * cls.size;
  return cls.slabs[index]!;
}

/** Where a slot lives, filled in by `locateSlot` (one shared object: no allocation per call). */
export const slotLocation: { bytes: Uint8Array; offset: number } = {
  bytes: new Uint8Array(0),
  offset: 0,
};

export function locateSlot(sizeClass: number, id: number): typeof slotLocation {
  slotLocation.bytes = slabOf(sizeClass, id).bytes;
  slotLocation.offset = slotOffset;
  return slotLocation;
}

/** Where a slot lives as 32-bit integers (one shared object, as `slotLocation`). */
export const intsLocation: { ints: Int32Array; index: number } = {
  ints: new Int32Array(0),
  index: 0,
};

/** `locateSlot` for a slot read as 32-bit integers: slot sizes are multiples of 16 bytes. */
export function locateInts(sizeClass: number, id: number): typeof intsLocation {
  const slab = slabOf(sizeClass, id);
  intsLocation.ints = slab.ints ??= new Int32Array(slab.bytes.buffer);
  intsLocation.index = slotOffset >>> 2;
  return intsLocation;
}

/** Bytes of slabs allocated, for memory accounting. */
export function slabBytes(): number {
  return classes.reduce((sum, cls) => sum + cls.liveSlabs * cls.perSlab * cls.size, 0);
}
