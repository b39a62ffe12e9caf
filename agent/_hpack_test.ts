/** The HPACK decoder against the examples of RFC 7541 Appendix C. */
import assert from "node:assert/strict";
import { decodeHuffman, encodeHeaderBlock, HpackDecoder } from "./_hpack.ts";

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
