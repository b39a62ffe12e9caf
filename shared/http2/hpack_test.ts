/** The HPACK decoder against the examples of RFC 7541 Appendix C. */
import assert from "node:assert/strict";
import { decodeHuffman, encodeHeaderBlock, encodeTableSizeUpdate, HpackDecoder } from "./hpack.ts";

const hex = (text: string) =>
  new Uint8Array(text.replace(/\s+/g, "").match(/../g)!.map((byte) => parseInt(byte, 16)));

const requests: { block: string; fields: [string, string][]; table: [string, string][] }[] = [
  {
    block: "8286 8441 0f77 7777 2e65 7861 6d70 6c65 2e63 6f6d",
    fields: [[":method", "GET"], [":scheme", "http"], [":path", "/"], [
      ":authority",
      "www.example.com",
    ]],
    table: [[":authority", "www.example.com"]],
  },
  {
    block: "8286 84be 5808 6e6f 2d63 6163 6865",
    fields: [
      [":method", "GET"],
      [":scheme", "http"],
      [":path", "/"],
      [":authority", "www.example.com"],
      ["cache-control", "no-cache"],
    ],
    table: [["cache-control", "no-cache"], [":authority", "www.example.com"]],
  },
  {
    block: "8287 85bf 400a 6375 7374 6f6d 2d6b 6579 0c63 7573 746f 6d2d 7661 6c75 65",
    fields: [
      [":method", "GET"],
      [":scheme", "https"],
      [":path", "/index.html"],
      [":authority", "www.example.com"],
      ["custom-key", "custom-value"],
    ],
    table: [
      ["custom-key", "custom-value"],
      ["cache-control", "no-cache"],
      [":authority", "www.example.com"],
    ],
  },
];
const tableSizes = [57, 110, 164];

/** C.4: the same requests with Huffman-coded strings. */
const huffmanBlocks = [
  "8286 8441 8cf1 e3c2 e5f2 3a6b a0ab 90f4 ff",
  "8286 84be 5886 a8eb 1064 9cbf",
  "8287 85bf 4088 25a8 49e9 5ba9 7d7f 8925 a849 e95b b8e8 b4bf",
];

Deno.test("HpackDecoder decodes the requests of RFC 7541 Appendix C", async (t) => {
  await t.step("C.3: without Huffman coding", () => {
    const decoder = new HpackDecoder();
    requests.forEach((request, i) => {
      assert.deepEqual(decoder.decode(hex(request.block)), request.fields);
      assert.deepEqual(decoder.dynamicTable, request.table);
      assert.equal(decoder.tableSize, tableSizes[i]);
    });
  });
  await t.step("C.4: with Huffman coding", () => {
    const decoder = new HpackDecoder();
    requests.forEach((request, i) => {
      assert.deepEqual(decoder.decode(hex(huffmanBlocks[i])), request.fields);
      assert.deepEqual(decoder.dynamicTable, request.table);
      assert.equal(decoder.tableSize, tableSizes[i]);
    });
  });
});

Deno.test("HpackDecoder evicts the oldest entries past the table size", () => {
  const decoder = new HpackDecoder({ maxTableSize: 110 });
  decoder.decode(hex(requests[0].block));
  decoder.decode(hex(requests[1].block));
  decoder.decode(hex(requests[2].block));
  assert.deepEqual(decoder.dynamicTable, [
    ["custom-key", "custom-value"],
    ["cache-control", "no-cache"],
  ]);
  assert.equal(decoder.tableSize, 107);
  // A dynamic table size update to 0 empties the table.
  assert.deepEqual(decoder.decode(hex("20 82")), [[":method", "GET"]]);
  assert.equal(decoder.tableSize, 0);
  assert.throws(() => decoder.decode(hex("3f 50")), /over the limit/);
});

Deno.test("HpackDecoder refuses malformed blocks", async (t) => {
  await t.step("an index past the tables", () => {
    assert.throws(() => new HpackDecoder().decode(hex("be")), /no table entry 62/);
  });
  await t.step("a truncated string", () => {
    assert.throws(() => new HpackDecoder().decode(hex("00 05 61 62")), /truncated/);
  });
  await t.step("Huffman padding that is not all ones", () => {
    // "0" is 00000 (5 bits); padding 000 instead of 111.
    assert.throws(() => decodeHuffman(hex("00")), /padding/);
    assert.deepEqual(decodeHuffman(hex("07")), new Uint8Array([0x30]));
  });
  await t.step("a table size update after a field (RFC 7541 §4.2)", () => {
    assert.throws(() => new HpackDecoder().decode(hex("82 20")), /after a field/);
    assert.deepEqual(new HpackDecoder().decode(hex("20 3f e1 1f 82")), [[":method", "GET"]]);
  });
});

Deno.test("encodeTableSizeUpdate writes the §6.3 update the decoder applies", () => {
  assert.deepEqual(encodeTableSizeUpdate(0), hex("20"));
  assert.deepEqual(encodeTableSizeUpdate(4096), hex("3f e1 1f"));
  const decoder = new HpackDecoder();
  decoder.decode(hex("41 0a 63 75 73 74 6f 6d 2d 6b 65 79")); // :authority custom-key, indexed
  assert.equal(decoder.dynamicTable.length, 1);
  decoder.decode(encodeTableSizeUpdate(0));
  assert.equal(decoder.tableSize, 0);
});

Deno.test("encodeHeaderBlock writes literals the decoder reads back", () => {
  const fields: [string, string][] = [
    [":method", "POST"],
    [":path", "/oxmon.MetricService/ReportMetrics"],
    ["authorization", `Bearer ${"t".repeat(300)}`],
    ["agent-id", "web-01 ü"],
  ];
  const block = encodeHeaderBlock(fields);
  const decoder = new HpackDecoder();
  assert.deepEqual(decoder.decode(block), fields);
  assert.equal(decoder.tableSize, 0);
});

/**
 * Huffman codes of non-ASCII octets, produced by an independent encoder (python3-hpack 4.0.0,
 * `HuffmanEncoder(REQUEST_CODES, REQUEST_CODES_LENGTH).encode(...)`).
 */
const HUFFMAN = {
  /** "grüße" in UTF-8: 7 octets, 5 UTF-16 units, 13 octets Huffman-coded. */
  grusse: "9acfffe3ffffc3fff8fffff797",
  /** "été" in Latin-1 (e9 74 e9): 3 octets that are not UTF-8. */
  eteLatin1: "ffffad3ffff5ff",
};

Deno.test("HpackDecoder sizes table entries by the octets on the wire (RFC 7541 §4.1)", async (t) => {
  // Literal with incremental indexing, new name "x-name" (6 octets), then the value.
  const withValue = (value: string) => hex(`40 06 782d6e616d65 ${value}`);
  await t.step("UTF-8 value: its octets, not its UTF-16 length", () => {
    const decoder = new HpackDecoder();
    assert.deepEqual(decoder.decode(withValue("07 6772c3bcc39f65")), [["x-name", "grüße"]]);
    assert.equal(decoder.tableSize, 6 + 7 + 32);
  });
  await t.step("Huffman-coded value: its decoded octets, not the coded length", () => {
    const decoder = new HpackDecoder();
    assert.deepEqual(decoder.decode(withValue(`8d ${HUFFMAN.grusse}`)), [["x-name", "grüße"]]);
    assert.equal(decoder.tableSize, 6 + 7 + 32);
  });
  await t.step("octets that are not UTF-8: as many as came, not the re-encoded text", () => {
    // The text shows U+FFFD for each lone e9, which re-encodes to 3 octets (7 in all).
    const raw = new HpackDecoder();
    assert.deepEqual(raw.decode(withValue("03 e974e9")), [["x-name", "\ufffdt\ufffd"]]);
    assert.equal(raw.tableSize, 6 + 3 + 32);
    const huffman = new HpackDecoder();
    assert.deepEqual(huffman.decode(withValue(`87 ${HUFFMAN.eteLatin1}`)), [[
      "x-name",
      "\ufffdt\ufffd",
    ]]);
    assert.equal(huffman.tableSize, 6 + 3 + 32);
  });
  await t.step("a name taken from the dynamic table keeps its octet count", () => {
    const decoder = new HpackDecoder();
    // "n\xe9" (2 octets) / "v", then the same name by index 62 with value "w".
    decoder.decode(hex("40 02 6ee9 01 76"));
    assert.equal(decoder.tableSize, 2 + 1 + 32);
    decoder.decode(hex("7e 01 77"));
    assert.equal(decoder.tableSize, 2 * (2 + 1 + 32));
    assert.deepEqual(decoder.dynamicTable, [["n\ufffd", "w"], ["n\ufffd", "v"]]);
  });
});

Deno.test("HpackDecoder evicts by the octets on the wire", () => {
  // Each entry is "a"/"b"/"c" (1 octet) with the value e9 74 e9 (3 octets): 36. Two fit in 75;
  // counted as re-encoded text (1 + 7 + 32 = 40 each) they would not, and the encoder's index
  // 63 would point at nothing.
  const decoder = new HpackDecoder({ maxTableSize: 75 });
  decoder.decode(hex("40 01 61 03 e974e9"));
  decoder.decode(hex(`40 01 62 87 ${HUFFMAN.eteLatin1}`));
  assert.equal(decoder.tableSize, 72);
  assert.deepEqual(decoder.decode(hex("bf be")), [["a", "\ufffdt\ufffd"], ["b", "\ufffdt\ufffd"]]);
  decoder.decode(hex("40 01 63 03 e974e9"));
  assert.equal(decoder.tableSize, 72);
  assert.deepEqual(decoder.dynamicTable.map(([name]) => name), ["c", "b"]);
  // An entry larger than the whole table empties it and is not added (§4.4).
  decoder.decode(hex(`40 01 64 2b ${"61".repeat(43)}`));
  assert.equal(decoder.tableSize, 0);
  assert.deepEqual(decoder.dynamicTable, []);
});

Deno.test("encodeHeaderBlock encodes each block right however many fields it has seen", () => {
  const decoder = new HpackDecoder();
  // More distinct fields than it keeps encoded, with repeats, so kept ones are reused too.
  for (let i = 0; i < 150; i++) {
    const fields: [string, string][] = [
      [":path", "/oxmon.MetricService/ReportMetrics"],
      ["grpc-timeout", `${10_000 - (i % 90)}m`],
      ["agent-id", `web-${i % 3}`],
    ];
    assert.deepEqual(decoder.decode(encodeHeaderBlock(fields)), fields);
  }
});
