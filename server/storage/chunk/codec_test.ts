import assert from "node:assert/strict";
import { decodeChunk, encodeChunk } from "./codec.ts";
import { encodeBlock } from "./_block_codec.ts";

/** Both formats: version 1 as chunks are sealed, version 2 for compacted days. */
const ENCODERS: Record<string, (timestamps: number[], values: number[]) => Uint8Array> = {
  "version 1": (timestamps, values) => encodeChunk(timestamps, values),
  "version 2": (timestamps, values) => encodeBlock(timestamps, values),
};
import { Random } from "../../../tests/helpers/chunk_random.ts";

function assertSameBits(actual: ArrayLike<number>, expected: ArrayLike<number>, context: string) {
  assert.equal(actual.length, expected.length, `${context}: length`);
  for (let i = 0; i < expected.length; i++) {
    if (!Object.is(actual[i], expected[i])) {
      assert.fail(`${context}: [${i}] decoded ${actual[i]}, expected ${expected[i]}`);
    }
  }
}

function roundTrip(
  timestamps: number[],
  values: number[],
  context: string,
  encode = ENCODERS["version 1"],
): Uint8Array {
  const bytes = encode(timestamps, values);
  const decoded = decodeChunk(bytes, context);
  assertSameBits(decoded.timestamps, timestamps, `${context} timestamps`);
  assertSameBits(decoded.values, values, `${context} values`);
  return bytes;
}

function regularTimestamps(count: number, startMs = 1_767_225_600_000, stepMs = 10_000): number[] {
  return Array.from({ length: count }, (_, i) => startMs + i * stepMs);
}

function jitteredTimestamps(random: Random, count: number): number[] {
  const out: number[] = [];
  let ts = 1_767_225_600_000 + random.int(0, 9_999);
  for (let i = 0; i < count; i++) {
    out.push(ts);
    ts += random.chance(0.05) ? random.int(1, 600_000) : 10_000 + random.int(-40, 40);
  }
  return out;
}

/** Value generators for every pattern the agent emits, plus adversarial ones. */
const PATTERNS: Record<string, (random: Random, i: number, previous: number) => number> = {
  "byte sizes (multiples of 1024)": (r, _i, p) =>
    Math.max(0, (p || 8 * 2 ** 30) + r.int(-5000, 5000) * 1024),
  "bytes per second (integers)": (r) => r.int(0, 2 ** 40),
  "percent with 2 decimals": (r) => Math.round(r.next() * 10_000) / 100,
  "percent with 1 decimal": (r) => Math.round(r.next() * 1_000) / 10,
  "load average": (r, _i, p) => Math.max(0, Math.round(((p || 1) + r.next() - 0.5) * 100) / 100),
  "uptime seconds": (_r, i) => 86_400 * 30 + i * 10,
  "counter with reset": (r, i, p) => (i % 97 === 0 ? 0 : p + r.int(0, 100_000)),
  "rates as raw doubles": (r) => (r.next() * 1e9) / (9.5 + r.next()),
  "zero and negative zero": (r) => (r.chance(0.5) ? 0 : -0),
  "huge and tiny magnitudes": (r) =>
    r.pick([
      Number.MAX_VALUE,
      -Number.MAX_VALUE,
      Number.MIN_VALUE,
      5e-324,
      1e300,
      -1e-300,
      2 ** 53,
      2 ** 60,
    ]),
  "infinities": (r) => r.pick([Infinity, -Infinity, 1, 0]),
  "any float64 bits": (r) => r.float64Bits(),
  "constant": () => 42.5,
  "decimals mixed with one raw double": (r, i) => (i === 7 ? Math.PI : r.int(0, 100)),
  "six decimal digits": (r) => r.int(-1e9, 1e9) / 1e6,
};

Deno.test("chunks of both versions decode to every timestamp and value to the bit", async (t) => {
  for (const [version, encode] of Object.entries(ENCODERS)) {
    for (const [name, next] of Object.entries(PATTERNS)) {
      await t.step(`${version}: ${name}`, () => {
        for (let seed = 1; seed <= 40; seed++) {
          const random = new Random(seed);
          const count = seed === 1 ? 1 : seed === 2 ? 2 : random.int(1, 400);
          const values: number[] = [];
          let previous = 0;
          for (let i = 0; i < count; i++) {
            previous = next(random, i, previous);
            values.push(previous);
          }
          const timestamps = seed % 2 === 0
            ? regularTimestamps(count)
            : jitteredTimestamps(random, count);
          roundTrip(timestamps, values, `${version} ${name} seed ${seed}`, encode);
        }
      });
    }
  }
});

Deno.test("version 2 packs a day of noisy percents and bytes tighter than version 1", () => {
  const random = new Random(8);
  const timestamps = regularTimestamps(8640);
  let used = 6 * 2 ** 30;
  const series: Record<string, number[]> = {
    "memory": timestamps.map(() => (used += random.int(-2500, 2500) * 4096)),
    "percent": timestamps.map((_, i) =>
      Math.round((30 + 10 * Math.sin(i / 1000) + random.next() * 20) * 100) / 100
    ),
    "idle disk": timestamps.map(() => (random.chance(0.6) ? 0 : random.int(1, 300) * 409.6)),
  };
  for (const [name, values] of Object.entries(series)) {
    const v2 = roundTrip(timestamps, values, name, ENCODERS["version 2"]).length;
    let v1 = 0;
    for (let at = 0; at < 8640; at += 360) {
      v1 += encodeChunk(timestamps.slice(at, at + 360), values.slice(at, at + 360)).length;
    }
    assert.ok(v2 < v1 * 0.9, `${name}: version 2 ${v2} bytes, version 1 ${v1}`);
  }
});

Deno.test("encodeChunk keeps regular host metrics under two bytes per sample", () => {
  const random = new Random(7);
  const timestamps = regularTimestamps(360);
  let used = 6 * 2 ** 30;
  const memory = timestamps.map(() => (used += random.int(-60, 60) * 4096));
  const percent = timestamps.map(() => Math.round(random.next() * 2000 + 1000) / 100);
  const memoryBytes = roundTrip(timestamps, memory, "memory").length;
  const percentBytes = roundTrip(timestamps, percent, "percent").length;
  const constantBytes = roundTrip(timestamps, timestamps.map(() => 16 * 2 ** 30), "total").length;
  assert.ok(memoryBytes / 360 < 2, `memory: ${memoryBytes} bytes`);
  assert.ok(percentBytes / 360 < 2.2, `percent: ${percentBytes} bytes`);
  assert.ok(constantBytes < 32, `constant: ${constantBytes} bytes`);
});

Deno.test("decodeChunk refuses every truncation and corruption with an error naming the chunk", async (t) => {
  for (const [version, encode] of Object.entries(ENCODERS)) {
    await t.step(version, () => refusesDamage(encode));
  }
});

function refusesDamage(encode: (timestamps: number[], values: number[]) => Uint8Array): void {
  const random = new Random(99);
  const samples: Array<[number[], number[]]> = [
    [regularTimestamps(360), regularTimestamps(360).map((_, i) => i * 1024)],
    [jitteredTimestamps(random, 200), Array.from({ length: 200 }, () => random.float64Bits())],
    [[5], [-0]],
    [regularTimestamps(50), regularTimestamps(50).map(() => 3.25)],
  ];
  for (const [timestamps, values] of samples) {
    const bytes = encode(timestamps, values);
    for (let length = 0; length < bytes.length; length++) {
      assert.throws(
        () => decodeChunk(bytes.slice(0, length), "chunk 7 of series 3"),
        /^Error: Cannot decode chunk 7 of series 3: /,
        `truncated to ${length} bytes`,
      );
    }
    for (let trial = 0; trial < 300; trial++) {
      const corrupt = bytes.slice();
      const at = random.int(0, corrupt.length - 1);
      corrupt[at] ^= 1 << random.int(0, 7);
      if (random.chance(0.3)) corrupt[random.int(0, corrupt.length - 1)] = random.int(0, 255);
      let decoded;
      try {
        decoded = decodeChunk(corrupt, "chunk 7 of series 3");
      } catch (error) {
        assert.match(String(error), /Cannot decode chunk 7 of series 3: /);
        continue;
      }
      // A second random byte may have undone the flip; then the data must be the original.
      assertSameBits(decoded.values, values, "undamaged decode");
    }
    assert.throws(() => decodeChunk(new Uint8Array([...bytes, 0]), "x"), /Cannot decode x/);
  }
}

Deno.test("encodeChunk refuses timestamps that do not strictly ascend", () => {
  assert.throws(() => encodeChunk([1, 1], [0, 0]), /timestamps\[1\] must be a safe integer above/);
  assert.throws(() => encodeChunk([2, 1], [0, 0]), RangeError);
  assert.throws(() => encodeChunk([1.5], [0]), RangeError);
  assert.throws(() => encodeChunk([], []), /Cannot encode a chunk of 0 samples/);
});
