import assert from "node:assert/strict";
import {
  DEFAULT_WINDOW,
  ERROR,
  FLAG_ACK,
  FLAG_END_HEADERS,
  FLAG_END_STREAM,
  FRAME,
  frame,
  PREFACE,
  SETTING,
  settingsPayload,
  uint32Payload,
} from "../../shared/http2/frames.ts";
import { encodeHeaderBlock, HpackDecoder } from "../../shared/http2/hpack.ts";
import { GrpcStatus } from "../../shared/wire/status.ts";
import { encodeGrpcMessage, malformedHeaders, parseGrpcTimeout } from "./_grpc_headers.ts";
import {
  type Admission,
  type CallInfo,
  Http2Session,
  type SessionSocket,
  type UnaryHandler,
} from "./_http2_server.ts";

const PATH = "/oxmon.MetricService/ReportMetrics";

/** A socket whose written bytes are parsed back into frames. */
class FakeSocket implements SessionSocket {
  written: Uint8Array[] = [];
  ended = false;
  destroyed = false;
  writableLength = 0;
  #listeners: Record<string, ((arg?: unknown) => void)[]> = {};

  write(bytes: Uint8Array): boolean {
    this.written.push(bytes.slice());
    return true;
  }
  end(): void {
    this.ended = true;
  }
  destroy(): void {
    this.destroyed = true;
  }
  on(event: string, listener: (arg: never) => void): this {
    (this.#listeners[event] ??= []).push(listener as (arg?: unknown) => void);
    return this;
  }
  receive(...frames: Uint8Array[]): void {
    const total = frames.reduce((sum, f) => sum + f.length, 0);
    const bytes = new Uint8Array(total);
    let at = 0;
    for (const f of frames) {
      bytes.set(f, at);
      at += f.length;
    }
    for (const listener of this.#listeners.data ?? []) listener(bytes);
  }
  close(): void {
    for (const listener of this.#listeners.close ?? []) listener();
  }
  /** Every frame written so far, parsed; clears them. */
  frames(): { type: number; flags: number; streamId: number; payload: Uint8Array }[] {
    const all = new Uint8Array(this.written.reduce((sum, w) => sum + w.length, 0));
    let at = 0;
    for (const w of this.written) {
      all.set(w, at);
      at += w.length;
    }
    this.written = [];
    const out = [];
    for (let offset = 0; offset < all.length;) {
      const length = (all[offset] << 16) | (all[offset + 1] << 8) | all[offset + 2];
      out.push({
        type: all[offset + 3],
        flags: all[offset + 4],
        streamId: new DataView(all.buffer, offset + 5, 4).getUint32(0),
        payload: all.subarray(offset + 9, offset + 9 + length),
      });
      offset += 9 + length;
    }
    return out;
  }
}

const tick = () => new Promise((resolve) => setTimeout(resolve, 0));

function requestHeaders(extra: [string, string][] = []): [string, string][] {
  return [
    [":method", "POST"],
    [":scheme", "http"],
    [":path", PATH],
    [":authority", "localhost"],
    ["content-type", "application/grpc"],
    ["te", "trailers"],
    ...extra,
  ];
}

function grpcMessage(body: Uint8Array): Uint8Array {
  const bytes = new Uint8Array(5 + body.length);
  new DataView(bytes.buffer).setUint32(1, body.length);
  bytes.set(body, 5);
  return bytes;
}

/** `size` bytes of a body whose gRPC prefix declares a 200,000-byte message. */
function bodyStart(size: number): Uint8Array {
  const bytes = new Uint8Array(size);
  new DataView(bytes.buffer).setUint32(1, 200_000);
  return bytes;
}

interface Harness {
  socket: FakeSocket;
  session: Http2Session;
  calls: { call: CallInfo; whole?: number; message?: Uint8Array }[];
  decoder: HpackDecoder;
  admit: PromiseWithResolvers<Admission>[];
}

function open(options: { autoAdmit?: boolean; maxMessageBytes?: number } = {}): Harness {
  const socket = new FakeSocket();
  const calls: Harness["calls"] = [];
  const admit: Harness["admit"] = [];
  const handler: UnaryHandler = {
    admit(call, whole) {
      calls.push({ call, whole });
      if (options.autoAdmit ?? true) return Promise.resolve({ release: () => {} });
      const pending = Promise.withResolvers<Admission>();
      admit.push(pending);
      return pending.promise;
    },
    handle(call, message) {
      calls.find((entry) => entry.call === call)!.message = message;
      return Promise.resolve({ code: 0, message: "stored", reply: new Uint8Array([8, 1]) });
    },
  };
  const session = new Http2Session(socket, {
    handler,
    path: PATH,
    maxConcurrentStreams: 4,
    maxMessageBytes: options.maxMessageBytes ?? 1 << 20,
  });
  socket.receive(PREFACE, frame(FRAME.SETTINGS, 0, 0, new Uint8Array(0)));
  return { socket, session, calls, decoder: new HpackDecoder(), admit };
}

Deno.test("Http2Session answers a unary call: SETTINGS, then headers, message and trailers", async () => {
  const { socket, calls, decoder } = open();
  socket.receive(
    frame(
      FRAME.HEADERS,
      FLAG_END_HEADERS,
      1,
      encodeHeaderBlock(requestHeaders([["agent-id", "a"]])),
    ),
    frame(FRAME.DATA, FLAG_END_STREAM, 1, grpcMessage(new Uint8Array([1, 2, 3]))),
  );
  await tick();
  const frames = socket.frames();
  const settings = frames[0];
  assert.equal(settings.type, FRAME.SETTINGS);
  assert.deepEqual(
    settings.payload.subarray(0, 6),
    settingsPayload([[SETTING.MAX_CONCURRENT_STREAMS, 4]]),
  );
  assert.ok(frames.some((f) => f.type === FRAME.SETTINGS && f.flags === FLAG_ACK));
  assert.equal(
    calls[0].whole,
    8,
    "a call whose body came with its headers is admitted with its size",
  );
  assert.equal(calls[0].call.agentId, "a");
  assert.deepEqual(calls[0].message, new Uint8Array([1, 2, 3]));
  const stream = frames.filter((f) => f.streamId === 1);
  assert.deepEqual(stream.map((f) => f.type), [FRAME.HEADERS, FRAME.DATA, FRAME.HEADERS]);
  assert.deepEqual(decoder.decode(stream[0].payload), [
    [":status", "200"],
    ["content-type", "application/grpc"],
  ]);
  assert.deepEqual(stream[1].payload, grpcMessage(new Uint8Array([8, 1])));
  assert.equal(stream[2].flags & FLAG_END_STREAM, FLAG_END_STREAM);
  assert.deepEqual(decoder.decode(stream[2].payload), [
    ["grpc-status", "0"],
    ["grpc-message", "stored"],
  ]);
});

Deno.test("Http2Session reads a header block split over CONTINUATION frames, indexed in the dynamic table", async () => {
  const { socket, calls } = open();
  // "agent-id: a" with incremental indexing, then the next request refers to it by index 62.
  const indexed = new Uint8Array([0x40, 8, ...new TextEncoder().encode("agent-id"), 1, 0x61]);
  const block = new Uint8Array([...encodeHeaderBlock(requestHeaders()), ...indexed]);
  socket.receive(
    frame(FRAME.HEADERS, 0, 1, block.subarray(0, 10)),
    frame(FRAME.CONTINUATION, 0, 1, block.subarray(10, 20)),
    frame(FRAME.CONTINUATION, FLAG_END_HEADERS, 1, block.subarray(20)),
    frame(FRAME.DATA, FLAG_END_STREAM, 1, grpcMessage(new Uint8Array([1]))),
    frame(
      FRAME.HEADERS,
      FLAG_END_HEADERS,
      3,
      new Uint8Array([...encodeHeaderBlock(requestHeaders()), 0x80 | 62]),
    ),
    frame(FRAME.DATA, FLAG_END_STREAM, 3, grpcMessage(new Uint8Array([2]))),
  );
  await tick();
  assert.deepEqual(calls.map((c) => c.call.agentId), ["a", "a"]);
  assert.deepEqual(calls.map((c) => c.message), [new Uint8Array([1]), new Uint8Array([2])]);
});

Deno.test("Http2Session holds a body beyond the first window until the call is admitted", async () => {
  const { socket, calls, admit } = open({ autoAdmit: false });
  socket.frames();
  socket.receive(
    frame(FRAME.HEADERS, FLAG_END_HEADERS, 1, encodeHeaderBlock(requestHeaders())),
    ...Array.from(
      { length: 4 },
      (_, i) => frame(FRAME.DATA, 0, 1, i === 0 ? bodyStart(16_383) : new Uint8Array(16_383)),
    ),
  );
  await tick();
  assert.equal(calls[0].whole, undefined, "more is to come");
  const before = socket.frames();
  assert.ok(!before.some((f) => f.type === FRAME.WINDOW_UPDATE && f.streamId === 1));
  // The connection's window is given back; the stream's is not.
  assert.ok(before.some((f) => f.type === FRAME.WINDOW_UPDATE && f.streamId === 0));
  admit[0].resolve({ release: () => {} });
  await tick();
  const after = socket.frames();
  const update = after.find((f) => f.type === FRAME.WINDOW_UPDATE && f.streamId === 1);
  assert.ok(update, "admission opens the stream's window");
  assert.ok(new DataView(update.payload.buffer, update.payload.byteOffset).getUint32(0) > 1 << 19);
});

Deno.test("Http2Session refuses before reading: the handler's status as trailers-only", async () => {
  const { socket, admit } = open({ autoAdmit: false });
  const decoder = new HpackDecoder();
  socket.frames();
  socket.receive(frame(FRAME.HEADERS, FLAG_END_HEADERS, 1, encodeHeaderBlock(requestHeaders())));
  await tick();
  admit[0].resolve({ code: GrpcStatus.UNAUTHENTICATED, message: "no token ✗" });
  await tick();
  const [headers] = socket.frames().filter((f) => f.streamId === 1);
  assert.equal(headers.flags & FLAG_END_STREAM, FLAG_END_STREAM);
  assert.deepEqual(decoder.decode(headers.payload), [
    [":status", "200"],
    ["content-type", "application/grpc"],
    ["grpc-status", "16"],
    ["grpc-message", "no token %E2%9C%97"],
  ]);
});

Deno.test("Http2Session enforces the message limit, the stream limit and unknown methods", async (t) => {
  await t.step("a message over maxMessageBytes is RESOURCE_EXHAUSTED from its prefix", async () => {
    const { socket } = open({ maxMessageBytes: 100 });
    const decoder = new HpackDecoder();
    socket.frames();
    const prefix = new Uint8Array(5);
    new DataView(prefix.buffer).setUint32(1, 1_000);
    socket.receive(
      frame(FRAME.HEADERS, FLAG_END_HEADERS, 1, encodeHeaderBlock(requestHeaders())),
      frame(FRAME.DATA, 0, 1, prefix),
    );
    await tick();
    const [headers] = socket.frames().filter((f) => f.streamId === 1 && f.type === FRAME.HEADERS);
    assert.equal(new Map(decoder.decode(headers.payload)).get("grpc-status"), "8");
  });
  await t.step("streams over MAX_CONCURRENT_STREAMS are refused", async () => {
    const { socket } = open({ autoAdmit: false });
    socket.frames();
    for (const id of [1, 3, 5, 7, 9]) {
      socket.receive(
        frame(FRAME.HEADERS, FLAG_END_HEADERS, id, encodeHeaderBlock(requestHeaders())),
      );
    }
    await tick();
    const reset = socket.frames().filter((f) => f.type === FRAME.RST_STREAM);
    assert.deepEqual(reset.map((f) => [f.streamId, f.payload[3]]), [[9, ERROR.REFUSED_STREAM]]);
  });
  await t.step("another method is UNIMPLEMENTED", async () => {
    const { socket } = open();
    const decoder = new HpackDecoder();
    socket.frames();
    const headers = requestHeaders().map((
      [k, v],
    ): [string, string] => [k, k === ":path" ? "/x/Y" : v]);
    socket.receive(
      frame(FRAME.HEADERS, FLAG_END_HEADERS | FLAG_END_STREAM, 1, encodeHeaderBlock(headers)),
    );
    await tick();
    const [answer] = socket.frames().filter((f) => f.streamId === 1);
    assert.equal(new Map(decoder.decode(answer.payload)).get("grpc-status"), "12");
  });
});

Deno.test("Http2Session answers PING, sends GOAWAY when going away and ends once calls finish", async () => {
  const { socket, session, admit } = open({ autoAdmit: false });
  socket.frames();
  socket.receive(frame(FRAME.PING, 0, 0, new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8])));
  socket.receive(
    frame(FRAME.HEADERS, FLAG_END_HEADERS, 1, encodeHeaderBlock(requestHeaders())),
    frame(FRAME.DATA, FLAG_END_STREAM, 1, grpcMessage(new Uint8Array([1]))),
  );
  await tick();
  session.goAway();
  socket.receive(frame(FRAME.HEADERS, FLAG_END_HEADERS, 3, encodeHeaderBlock(requestHeaders())));
  await tick();
  const frames = socket.frames();
  const ping = frames.find((f) => f.type === FRAME.PING)!;
  assert.equal(ping.flags, FLAG_ACK);
  assert.deepEqual(ping.payload, new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8]));
  const goaway = frames.find((f) => f.type === FRAME.GOAWAY)!;
  assert.equal(new DataView(goaway.payload.buffer, goaway.payload.byteOffset).getUint32(0), 1);
  const refused = frames.find((f) => f.type === FRAME.RST_STREAM)!;
  assert.deepEqual([refused.streamId, refused.payload[3]], [3, ERROR.REFUSED_STREAM]);
  assert.ok(!socket.ended, "the call in flight keeps the connection");
  admit[0].resolve({ release: () => {} });
  await tick();
  await tick();
  assert.ok(socket.ended);
});

Deno.test("Http2Session closes the connection on protocol errors", async (t) => {
  await t.step("a bad preface", () => {
    const socket = new FakeSocket();
    new Http2Session(socket, {
      handler: {} as UnaryHandler,
      path: PATH,
      maxConcurrentStreams: 1,
      maxMessageBytes: 1,
    });
    socket.receive(new TextEncoder().encode("GET / HTTP/1.1\r\n\r\n"));
    assert.ok(socket.destroyed);
  });
  await t.step("DATA beyond the stream's window", async () => {
    const { socket } = open({ autoAdmit: false });
    socket.frames();
    socket.receive(frame(FRAME.HEADERS, FLAG_END_HEADERS, 1, encodeHeaderBlock(requestHeaders())));
    for (let i = 0; i < 5; i++) {
      socket.receive(frame(FRAME.DATA, 0, 1, i === 0 ? bodyStart(16_000) : new Uint8Array(16_000)));
    }
    await tick();
    const frames = socket.frames();
    // The stream's window (65,535) is exceeded: that stream is reset, the connection lives.
    assert.ok(
      frames.some((f) => f.type === FRAME.RST_STREAM && f.payload[3] === ERROR.FLOW_CONTROL_ERROR),
    );
  });
  await t.step("a header block that is not HPACK", () => {
    const { socket } = open();
    socket.frames();
    socket.receive(frame(FRAME.HEADERS, FLAG_END_HEADERS, 1, new Uint8Array([0xff, 0xff, 0xff])));
    const goaway = socket.frames().find((f) => f.type === FRAME.GOAWAY)!;
    assert.equal(goaway.payload[7], ERROR.COMPRESSION_ERROR);
    assert.ok(socket.ended);
  });
  await t.step("a frame larger than SETTINGS_MAX_FRAME_SIZE", () => {
    const { socket } = open();
    socket.frames();
    socket.receive(frame(FRAME.DATA, 0, 1, new Uint8Array(20_000)));
    const goaway = socket.frames().find((f) => f.type === FRAME.GOAWAY)!;
    assert.equal(goaway.payload[7], ERROR.FRAME_SIZE_ERROR);
  });
});

Deno.test("Http2Session honours the client's windows when it answers", async () => {
  const { socket } = open();
  socket.receive(frame(FRAME.SETTINGS, 0, 0, settingsPayload([[SETTING.INITIAL_WINDOW_SIZE, 3]])));
  socket.frames();
  socket.receive(
    frame(FRAME.HEADERS, FLAG_END_HEADERS, 1, encodeHeaderBlock(requestHeaders())),
    frame(FRAME.DATA, FLAG_END_STREAM, 1, grpcMessage(new Uint8Array([1]))),
  );
  await tick();
  const first = socket.frames().filter((f) => f.streamId === 1);
  // Headers, then 3 of the reply's 7 bytes; the trailers wait for the rest.
  assert.deepEqual(first.map((f) => [f.type, f.payload.length]).slice(1), [[FRAME.DATA, 3]]);
  socket.receive(frame(FRAME.WINDOW_UPDATE, 0, 1, uint32Payload(DEFAULT_WINDOW)));
  await tick();
  const rest = socket.frames().filter((f) => f.streamId === 1);
  assert.deepEqual(rest.map((f) => f.type), [FRAME.DATA, FRAME.HEADERS]);
  assert.equal(rest[0].payload.length, 4);
});

Deno.test("Http2Session calls past their grpc-timeout get DEADLINE_EXCEEDED", async () => {
  const { socket, session } = open({ autoAdmit: false });
  const decoder = new HpackDecoder();
  socket.frames();
  socket.receive(
    frame(
      FRAME.HEADERS,
      FLAG_END_HEADERS,
      1,
      encodeHeaderBlock(requestHeaders([["grpc-timeout", "5m"]])),
    ),
  );
  await tick();
  session.tick(performance.now() + 10, {
    idleTimeoutMs: 1e9,
    keepaliveTimeMs: 1e9,
    keepaliveTimeoutMs: 1e9,
  });
  await tick();
  const [answer] = socket.frames().filter((f) => f.streamId === 1 && f.type === FRAME.HEADERS);
  assert.equal(new Map(decoder.decode(answer.payload)).get("grpc-status"), "4");
  socket.close();
});

Deno.test("parseGrpcTimeout and encodeGrpcMessage follow gRPC over HTTP/2", () => {
  assert.equal(parseGrpcTimeout("10S"), 10_000);
  assert.equal(parseGrpcTimeout("250m"), 250);
  assert.equal(parseGrpcTimeout("1H"), 3_600_000);
  assert.equal(parseGrpcTimeout("123456789S"), undefined, "at most 8 digits");
  assert.equal(parseGrpcTimeout("5x"), undefined);
  assert.equal(encodeGrpcMessage("100% sure\n"), "100%25 sure%0A");
});

Deno.test("Http2Session pings a silent peer, drops it when the PING goes unanswered, and closes when idle", async (t) => {
  const bounds = { idleTimeoutMs: 5_000, keepaliveTimeMs: 1_000, keepaliveTimeoutMs: 500 };
  await t.step("an answered PING keeps the connection", async () => {
    const { socket, session } = open();
    socket.frames();
    const now = performance.now();
    session.tick(now + 1_000, bounds);
    await tick();
    const ping = socket.frames().find((f) => f.type === FRAME.PING)!;
    assert.equal(ping.flags, 0);
    socket.receive(frame(FRAME.PING, FLAG_ACK, 0, ping.payload.slice()));
    session.tick(now + 1_600, bounds);
    assert.ok(!socket.destroyed);
  });
  await t.step("an unanswered one ends it", () => {
    const { session, socket } = open();
    const now = performance.now();
    session.tick(now + 1_000, bounds);
    session.tick(now + 1_600, bounds);
    assert.ok(socket.destroyed);
  });
  await t.step("idle: GOAWAY, then the socket ends", async () => {
    const { socket, session } = open();
    socket.frames();
    session.tick(performance.now() + 5_000, { ...bounds, keepaliveTimeMs: 1e9 });
    await tick();
    assert.ok(socket.frames().some((f) => f.type === FRAME.GOAWAY));
    assert.ok(socket.ended);
  });
});

/** The fields of each header block the session sent on `streamId`, in order. */
function headerBlocks(
  frames: ReturnType<FakeSocket["frames"]>,
  streamId: number,
  decoder = new HpackDecoder(),
): Map<string, string>[] {
  return frames.filter((f) => f.type === FRAME.HEADERS && f.streamId === streamId)
    .map((f) => new Map(decoder.decode(f.payload)));
}

Deno.test("Http2Session ends a reply held by flow control with trailers alone when its deadline passes", async () => {
  const { socket, session } = open();
  socket.receive(frame(FRAME.SETTINGS, 0, 0, settingsPayload([[SETTING.INITIAL_WINDOW_SIZE, 0]])));
  socket.frames();
  socket.receive(
    frame(
      FRAME.HEADERS,
      FLAG_END_HEADERS,
      1,
      encodeHeaderBlock(requestHeaders([["grpc-timeout", "5m"]])),
    ),
    frame(FRAME.DATA, FLAG_END_STREAM, 1, grpcMessage(new Uint8Array([1]))),
  );
  await tick();
  session.tick(performance.now() + 10, {
    idleTimeoutMs: 1e9,
    keepaliveTimeMs: 1e9,
    keepaliveTimeoutMs: 1e9,
  });
  await tick();
  const frames = socket.frames().filter((f) => f.streamId === 1);
  assert.deepEqual(frames.map((f) => f.type), [FRAME.HEADERS, FRAME.HEADERS]);
  const [headers, trailers] = headerBlocks(frames, 1);
  assert.equal(headers.get(":status"), "200");
  // Trailers may carry no pseudo-header (RFC 9113 §8.1): h2 and grpc-js reject the stream.
  assert.deepEqual([...trailers], [["grpc-status", "4"], ["grpc-message", "Deadline exceeded"]]);
  assert.equal(frames[1].flags & FLAG_END_STREAM, FLAG_END_STREAM);
});

Deno.test("Http2Session signals a lowered SETTINGS_HEADER_TABLE_SIZE at the start of its next header block", async () => {
  const { socket } = open();
  socket.receive(frame(FRAME.SETTINGS, 0, 0, settingsPayload([[SETTING.HEADER_TABLE_SIZE, 0]])));
  socket.receive(
    frame(FRAME.HEADERS, FLAG_END_HEADERS, 1, encodeHeaderBlock(requestHeaders())),
    frame(FRAME.DATA, FLAG_END_STREAM, 1, grpcMessage(new Uint8Array([1]))),
    frame(FRAME.HEADERS, FLAG_END_HEADERS, 3, encodeHeaderBlock(requestHeaders())),
    frame(FRAME.DATA, FLAG_END_STREAM, 3, grpcMessage(new Uint8Array([1]))),
  );
  await tick();
  const frames = socket.frames();
  const ack = frames.findIndex((f) => f.type === FRAME.SETTINGS && f.flags === FLAG_ACK);
  const blocks = frames.filter((f) => f.type === FRAME.HEADERS);
  assert.ok(frames.indexOf(blocks[0]) > ack);
  assert.equal(blocks[0].payload[0], 0x20, "the first block after the ACK starts with the update");
  assert.ok(blocks.slice(1).every((f) => (f.payload[0] & 0xe0) !== 0x20), "and only the first");
  const decoder = new HpackDecoder();
  assert.deepEqual(headerBlocks(frames, 1, decoder)[0].get(":status"), "200");
  assert.equal(decoder.tableSize, 0);
});

Deno.test("malformedHeaders finds what RFC 9113 calls a malformed request", async (t) => {
  assert.equal(malformedHeaders(requestHeaders([["user-agent", "tonic/0.11.0"]])), undefined);
  const cases: [string, [string, string][], RegExp][] = [
    ["an upper-case name", requestHeaders([["Agent-Id", "a"]]), /lower-case/],
    ["a connection-specific field", requestHeaders([["connection", "close"]]), /connection/],
    ["te other than trailers", requestHeaders([["te", "gzip"]]), /te: gzip/],
    ["a pseudo-header twice", [[":path", PATH], ...requestHeaders()], /twice/],
    ["a pseudo-header after a field", [...requestHeaders(), [":authority", "x"]], /after/],
    ["an unknown pseudo-header", [[":protocol", "x"], ...requestHeaders()], /:protocol/],
    ["a response pseudo-header", [[":status", "200"], ...requestHeaders()], /:status/],
    ["no :scheme", requestHeaders().filter(([name]) => name !== ":scheme"), /no :scheme/],
    [
      "an empty :path",
      requestHeaders().map(([k, v]): [string, string] => [k, k === ":path" ? "" : v]),
      /empty/,
    ],
    ["a CR in a value", requestHeaders([["agent-id", "a\r\nx: y"]]), /CR/],
  ];
  for (const [name, fields, why] of cases) {
    await t.step(name, async () => {
      assert.match(malformedHeaders(fields) ?? "", why);
      const { socket, calls } = open();
      socket.frames();
      socket.receive(frame(FRAME.HEADERS, FLAG_END_HEADERS, 1, encodeHeaderBlock(fields)));
      await tick();
      const [reset] = socket.frames().filter((f) => f.type === FRAME.RST_STREAM);
      assert.deepEqual([reset.streamId, reset.payload[3]], [1, ERROR.PROTOCOL_ERROR]);
      assert.equal(calls.length, 0);
    });
  }
  await t.step("trailers with a pseudo-header", () => {
    assert.match(malformedHeaders([[":status", "200"]], true) ?? "", /in trailers/);
    assert.equal(malformedHeaders([["x-checksum", "1"]], true), undefined);
  });
});

Deno.test("encodeGrpcMessage cuts long messages at a character, to fit one frame", async () => {
  const encoded = encodeGrpcMessage("中".repeat(2_000));
  assert.ok(encoded.length <= 4_096);
  assert.equal(encoded.length % 9, 0, "never inside a character's %XX%XX%XX");
  assert.equal(encodeGrpcMessage("a✗b", 4), "a");
  const { socket, admit } = open({ autoAdmit: false });
  socket.frames();
  socket.receive(frame(FRAME.HEADERS, FLAG_END_HEADERS, 1, encodeHeaderBlock(requestHeaders())));
  await tick();
  admit[0].resolve({ code: GrpcStatus.UNAUTHENTICATED, message: "中".repeat(5_000) });
  await tick();
  const [answer] = socket.frames().filter((f) => f.streamId === 1);
  assert.ok(answer.payload.length <= 16_384, `${answer.payload.length} bytes`);
  assert.equal(answer.flags, FLAG_END_HEADERS | FLAG_END_STREAM);
});

Deno.test("Http2Session names the encodings it accepts and refuses a compressed flag without one", async () => {
  const { socket } = open();
  socket.frames();
  const compressed = grpcMessage(new Uint8Array([1]));
  compressed[0] = 1;
  socket.receive(
    frame(
      FRAME.HEADERS,
      FLAG_END_HEADERS | FLAG_END_STREAM,
      1,
      encodeHeaderBlock(requestHeaders([["grpc-encoding", "gzip"]])),
    ),
    frame(FRAME.HEADERS, FLAG_END_HEADERS, 3, encodeHeaderBlock(requestHeaders())),
    frame(FRAME.DATA, FLAG_END_STREAM, 3, compressed),
  );
  await tick();
  const frames = socket.frames();
  const decoder = new HpackDecoder();
  const [gzip] = headerBlocks(frames, 1, decoder);
  assert.equal(gzip.get("grpc-status"), "12");
  assert.equal(gzip.get("grpc-accept-encoding"), "identity");
  assert.equal(headerBlocks(frames, 3, decoder)[0].get("grpc-status"), String(GrpcStatus.INTERNAL));
});

Deno.test("Http2Session refuses the floods of CVE-2024-27316 and CVE-2023-44487", async (t) => {
  await t.step("empty CONTINUATION frames without end", () => {
    const { socket } = open();
    socket.frames();
    socket.receive(frame(FRAME.HEADERS, 0, 1, encodeHeaderBlock(requestHeaders())));
    const empty = frame(FRAME.CONTINUATION, 0, 1, new Uint8Array(0));
    for (let i = 0; i < 10_000 && !socket.ended; i++) socket.receive(empty);
    const goaway = socket.frames().find((f) => f.type === FRAME.GOAWAY)!;
    assert.equal(goaway.payload[7], ERROR.ENHANCE_YOUR_CALM);
  });
  await t.step("calls reset as soon as they start", async () => {
    const { socket, calls } = open({ autoAdmit: false });
    socket.frames();
    let id = 1;
    for (; id < 2 * 1_000 && !socket.ended; id += 2) {
      socket.receive(
        frame(FRAME.HEADERS, FLAG_END_HEADERS, id, encodeHeaderBlock(requestHeaders())),
      );
      await tick();
      socket.receive(frame(FRAME.RST_STREAM, 0, id, uint32Payload(ERROR.CANCEL)));
    }
    const goaway = socket.frames().find((f) => f.type === FRAME.GOAWAY)!;
    assert.equal(goaway.payload[7], ERROR.ENHANCE_YOUR_CALM);
    assert.ok(calls.length <= 210, `${calls.length} calls admitted`);
  });
});

Deno.test("Http2Session PRIORITY: ignored, except a stream depending on itself", async () => {
  const { socket } = open();
  socket.frames();
  const priority = (id: number, on: number) => {
    const payload = new Uint8Array(5);
    new DataView(payload.buffer).setUint32(0, on);
    return frame(FRAME.PRIORITY, 0, id, payload);
  };
  socket.receive(priority(3, 0), priority(5, 1), priority(7, 7));
  await tick();
  const frames = socket.frames();
  assert.deepEqual(
    frames.filter((f) => f.type !== FRAME.SETTINGS).map((f) => [f.type, f.streamId, f.payload[3]]),
    [[FRAME.RST_STREAM, 7, ERROR.PROTOCOL_ERROR]],
  );
});

Deno.test("Http2Session reads a connection cut at every byte boundary", async () => {
  // Preface, SETTINGS, an unknown frame, PRIORITY, padded HEADERS with priority split over
  // CONTINUATION, a message over several padded DATA frames, a PING.
  const block = encodeHeaderBlock(requestHeaders([["agent-id", "cut"]]));
  const headersPayload = new Uint8Array([2, 0, 0, 0, 0, 16, ...block.subarray(0, 20), 0, 0]);
  const message = grpcMessage(new Uint8Array([1, 2, 3, 4, 5, 6, 7]));
  const bytes = [
    PREFACE,
    frame(FRAME.SETTINGS, 0, 0, settingsPayload([[SETTING.INITIAL_WINDOW_SIZE, 1 << 20]])),
    frame(0xfa, 0xff, 0, new Uint8Array([1, 2, 3])),
    frame(FRAME.PRIORITY, 0, 1, new Uint8Array(5)),
    frame(FRAME.HEADERS, 0x8 | 0x20, 1, headersPayload),
    frame(FRAME.CONTINUATION, FLAG_END_HEADERS, 1, block.subarray(20)),
    frame(FRAME.DATA, 0x8, 1, new Uint8Array([1, ...message.subarray(0, 6), 0])),
    frame(FRAME.DATA, 0, 1, message.subarray(6, 6)),
    frame(FRAME.DATA, FLAG_END_STREAM, 1, message.subarray(6)),
    frame(FRAME.PING, 0, 0, new Uint8Array(8)),
  ];
  const whole = new Uint8Array(bytes.reduce((sum, b) => sum + b.length, 0));
  bytes.reduce((at, b) => (whole.set(b, at), at + b.length), 0);
  const run = async (cuts: number[]) => {
    const socket = new FakeSocket();
    const messages: Uint8Array[] = [];
    new Http2Session(socket, {
      handler: {
        admit: () => Promise.resolve({ release: () => {} }),
        handle: (call, message) => {
          assert.equal(call.agentId, "cut");
          messages.push(message);
          return Promise.resolve({ code: 0, message: "", reply: new Uint8Array(0) });
        },
      },
      path: PATH,
      maxConcurrentStreams: 4,
      maxMessageBytes: 1 << 20,
    });
    let from = 0;
    for (const to of [...cuts, whole.length]) {
      socket.receive(whole.subarray(from, to));
      from = to;
      await Promise.resolve();
    }
    await tick();
    const frames = socket.frames();
    assert.ok(!frames.some((f) => f.type === FRAME.GOAWAY || f.type === FRAME.RST_STREAM));
    assert.deepEqual(messages, [message.subarray(5)], `cut at ${cuts}`);
    assert.ok(frames.some((f) => f.type === FRAME.PING && f.flags === FLAG_ACK));
  };
  for (let cut = 1; cut < whole.length; cut++) await run([cut]);
  await run(Array.from({ length: whole.length - 1 }, (_, i) => i + 1));
});
