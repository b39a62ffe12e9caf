import assert from "node:assert/strict";
import {
  encodeAuth,
  encodeAuthResult,
  encodeDrain,
  encodeReady,
  encodeReload,
  encodeRequest,
  encodeResponse,
  encodeResponses,
  type Frame,
  FrameReader,
  FrameType,
  FrameWriter,
  MAX_FRAME_BYTES,
} from "./_framing.ts";

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((sum, part) => sum + part.length, 0));
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}

const payload = Uint8Array.from({ length: 70_000 }, (_, i) => i % 251);
const frames = [
  encodeReady(9090),
  encodeRequest(7, "Bearer s3crét", "web-01", payload),
  encodeRequest(0xffffffff, "", "", new Uint8Array()),
  encodeRequest(8, "", "agent-a", payload.subarray(0, 10), ["agent-a", "a.example"]),
  encodeAuth(9, "Bearer x", "agent-a", ["agent-a"]),
  encodeResponse(7, 3, "data_points[3].value: expected a finite number, got NaN"),
  encodeAuthResult(9, 16, "authorization: the bearer token is not accepted"),
  encodeDrain(),
  encodeReload(),
];
const expected: Frame[] = [
  { type: FrameType.READY, port: 9090 },
  {
    type: FrameType.REQUEST,
    id: 7,
    authorization: "Bearer s3crét",
    agentId: "web-01",
    certificateNames: [],
    payload,
  },
  {
    type: FrameType.REQUEST,
    id: 0xffffffff,
    authorization: "",
    agentId: "",
    certificateNames: [],
    payload: new Uint8Array(),
  },
  {
    type: FrameType.REQUEST,
    id: 8,
    authorization: "",
    agentId: "agent-a",
    certificateNames: ["agent-a", "a.example"],
    payload: payload.slice(0, 10),
  },
  {
    type: FrameType.AUTH,
    id: 9,
    authorization: "Bearer x",
    agentId: "agent-a",
    certificateNames: ["agent-a"],
  },
  {
    type: FrameType.RESPONSE,
    id: 7,
    code: 3,
    message: "data_points[3].value: expected a finite number, got NaN",
  },
  {
    type: FrameType.AUTH_RESULT,
    id: 9,
    code: 16,
    message: "authorization: the bearer token is not accepted",
  },
  { type: FrameType.DRAIN },
  { type: FrameType.RELOAD },
];

Deno.test("FrameReader decodes frames whatever the socket's chunking", async (t) => {
  const stream = concat(frames);
  for (const chunkSize of [1, 3, 4, 5, 1000, 65_536, stream.length]) {
    await t.step(`chunks of ${chunkSize} bytes`, () => {
      const reader = new FrameReader();
      const got: Frame[] = [];
      for (let at = 0; at < stream.length; at += chunkSize) {
        got.push(...reader.push(stream.subarray(at, at + chunkSize)));
      }
      assert.deepEqual(got, expected);
    });
  }
});

Deno.test("FrameReader lends the same frames for the caller to use before its next push", () => {
  const stream = concat(frames);
  for (const chunkSize of [1, 5, 1000, stream.length]) {
    const reader = new FrameReader();
    const got: Frame[] = [];
    for (let at = 0; at < stream.length; at += chunkSize) {
      for (const frame of reader.pushBorrowed(stream.subarray(at, at + chunkSize))) {
        got.push("payload" in frame ? { ...frame, payload: frame.payload.slice() } : frame);
      }
    }
    assert.deepEqual(got, expected, `chunks of ${chunkSize} bytes`);
  }
  // A lent payload is a view of the reader's buffer, not a copy of it (copies are what
  // pushBorrowed is for sparing).
  const reader = new FrameReader();
  const lent = reader.pushBorrowed(encodeRequest(1, "", "", payload))[0] as { payload: Uint8Array };
  reader.pushBorrowed(encodeRequest(2, "", "", new Uint8Array(payload.length).fill(9)));
  assert.deepEqual(lent.payload, new Uint8Array(payload.length).fill(9));
});

Deno.test("FrameReader frames stay valid after later pushes reuse its buffer", () => {
  const reader = new FrameReader();
  const first = reader.push(encodeRequest(1, "", "", payload));
  reader.push(encodeRequest(2, "", "", new Uint8Array(payload.length).fill(9)));
  assert.deepEqual((first[0] as { payload: Uint8Array }).payload, payload);
});

Deno.test("FrameReader refuses a corrupt length or an unknown frame type", () => {
  const huge = new Uint8Array(5);
  new DataView(huge.buffer).setUint32(0, MAX_FRAME_BYTES + 1);
  assert.throws(() => new FrameReader().push(huge), /Cannot read a frame of \d+ bytes/);
  assert.throws(
    () => new FrameReader().push(Uint8Array.of(0, 0, 0, 1, 99)),
    /unknown type 99/,
  );
  assert.throws(
    () => new FrameReader().push(Uint8Array.of(0, 0, 0, 3, FrameType.REQUEST, 0, 0)),
    /truncated/,
  );
});

Deno.test("encodeResponses puts several replies in one buffer the reader splits again", () => {
  const replies = [
    { id: 1, code: 0, message: "stored 3 of 3 points" },
    { id: 2, code: 3, message: "data_points[2].value: expected a finite number, got Infinity" },
    { id: 0xffffffff, code: 16, message: "" },
  ];
  const bytes = encodeResponses(replies);
  assert.deepEqual(
    bytes,
    concat(replies.map(({ id, code, message }) => encodeResponse(id, code, message))),
  );
  assert.deepEqual(
    new FrameReader().push(bytes),
    replies.map((reply) => ({ type: FrameType.RESPONSE, ...reply })),
  );
  assert.deepEqual(
    encodeResponses(replies.slice(0, 1)),
    encodeResponse(1, 0, "stored 3 of 3 points"),
  );
});

Deno.test("FrameWriter sends frames queued during a write together, in order, whole", async () => {
  const writes: Uint8Array[] = [];
  // A socket that takes at most 5 bytes per write, a tick later.
  const sink = {
    write(bytes: Uint8Array): Promise<number> {
      const taken = bytes.slice(0, 5);
      writes.push(taken);
      return new Promise((resolve) => setTimeout(() => resolve(taken.length), 1));
    },
  };
  const writer = new FrameWriter(sink);
  writer.write(encodeDrain());
  writer.write(encodeReady(1));
  writer.write(encodeReady(2));
  await writer.flushed();
  assert.deepEqual(writes.map((bytes) => bytes.length), [5, 5, 5, 4]);
  assert.deepEqual(new FrameReader().push(concat(writes)), [
    { type: FrameType.DRAIN },
    { type: FrameType.READY, port: 1 },
    { type: FrameType.READY, port: 2 },
  ]);
});

Deno.test("FrameWriter never changes bytes a write in flight still reads", async () => {
  // A socket that reads the buffer it was given only when the write completes, as an
  // asynchronous write does, and takes at most 20,000 bytes at a time.
  const received: Uint8Array[] = [];
  const sink = {
    write(bytes: Uint8Array): Promise<number> {
      return new Promise((resolve) =>
        setTimeout(() => {
          const taken = bytes.slice(0, 20_000);
          received.push(taken);
          resolve(taken.length);
        }, 1)
      );
    },
  };
  const writer = new FrameWriter(sink);
  const sent: Uint8Array[] = [];
  const big = payload; // 70,000 bytes: past the writer's 64 KiB buffer
  for (let round = 0; round < 20; round++) {
    for (let i = 0; i < 5; i++) {
      const body = i === 4 ? big : payload.subarray(0, 1_000 * (i + 1));
      const frame = encodeRequest(round * 5 + i, "", `agent-${i}`, body);
      sent.push(frame);
      writer.write(frame);
    }
    if (round % 3 === 0) await new Promise((resolve) => setTimeout(resolve, 2));
  }
  await writer.flushed();
  assert.deepEqual(concat(received), concat(sent));
});

Deno.test("FrameWriter sends a frame past its buffers as it is, and the frames after it", async () => {
  const received: Uint8Array[] = [];
  const sink = {
    write(bytes: Uint8Array): Promise<number> {
      const taken = bytes.slice(0, 100_000);
      received.push(taken);
      return Promise.resolve(taken.length);
    },
  };
  const writer = new FrameWriter(sink);
  const big = encodeRequest(
    1,
    "",
    "big",
    Uint8Array.from({ length: 1_500_000 }, (_, i) => i % 251),
  );
  const bigBefore = big.slice();
  const small = encodeRequest(2, "", "small", payload);
  writer.write(big);
  writer.write(small);
  await writer.flushed();
  writer.write(small);
  await writer.flushed();
  assert.deepEqual(concat(received), concat([bigBefore, small, small]));
  assert.deepEqual(big, bigBefore, "the caller's frame is never written into");
});

Deno.test("FrameWriter reports a failed write once and drops what follows", async () => {
  const errors: unknown[] = [];
  let writes = 0;
  const writer = new FrameWriter({
    write: () => {
      writes++;
      return Promise.reject(new Error("Broken pipe (os error 32)"));
    },
  }, (error) => errors.push(error));
  writer.write(encodeDrain());
  writer.write(encodeDrain());
  await writer.flushed();
  writer.write(encodeDrain());
  await writer.flushed();
  assert.equal(writes, 1);
  assert.equal(errors.length, 1);
  assert.match((errors[0] as Error).message, /Broken pipe/);
});
