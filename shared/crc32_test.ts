import assert from "node:assert/strict";
import { crc32 } from "./crc32.ts";

Deno.test("crc32 gives the standard check values", () => {
  const text = (s: string) => new TextEncoder().encode(s);
  assert.equal(crc32(text("123456789")), 0xcbf43926);
  assert.equal(crc32(new Uint8Array(0)), 0);
  assert.equal(crc32(text("The quick brown fox jumps over the lazy dog")), 0x414fa339);
  assert.equal(crc32(text("xx123456789yy"), 2, 11), 0xcbf43926, "a range of the bytes");
});
