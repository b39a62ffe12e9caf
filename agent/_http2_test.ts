/**
 * The HTTP/2 client against a scripted peer on 127.0.0.1, for what a grpc-js server does not
 * do on demand: PING, padding, CONTINUATION, Huffman and indexed headers, RST_STREAM, GOAWAY and
 * a small flow-control window. (grpc_client_test.ts runs it against a real grpc-js server.)
 */
import assert from "node:assert/strict";
import { Http2Connection, Http2Error } from "./_http2.ts";

interface Frame {
  type: number;
  flags: number;
  streamId: number;
  payload: Uint8Array;
}

const hex = (text: string) =>
  new Uint8Array(text.replace(/\s+/g, "").match(/../g)!.map((byte) => parseInt(byte, 16)));

function encodeFrame(type: number, flags: number, streamId: number, payload = new Uint8Array()) {
  const bytes = new Uint8Array(9 + payload.length);
  const view = new DataView(bytes.buffer);
  view.setUint32(0, payload.length * 256 + type);
  bytes[4] = flags;
  view.setUint32(5, streamId);
  bytes.set(payload, 9);
  return bytes;
}

/** The server side of one connection, frame by frame. */
class ScriptedPeer {
  readonly #conn: Deno.Conn;
  #buffered = new Uint8Array(0);

  constructor(conn: Deno.Conn) {
    this.#conn = conn;
  }

  async #fill(size: number): Promise<void> {
    while (this.#buffered.length < size) {
      const chunk = new Uint8Array(65_536);
      const read = await this.#conn.read(chunk);
      if (read === null) throw new Error("the client closed the connection");
      const joined = new Uint8Array(this.#buffered.length + read);
      joined.set(this.#buffered);
      joined.set(chunk.subarray(0, read), this.#buffered.length);
      this.#buffered = joined;
    }
  }

  async preface(): Promise<void> {
    await this.#fill(24);
    assert.equal(
      new TextDecoder().decode(this.#buffered.subarray(0, 24)),
      "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n",
    );
    this.#buffered = this.#buffered.slice(24);
  }

  async read(): Promise<Frame> {
    await this.#fill(9);
    const view = new DataView(this.#buffered.buffer);
    const length = view.getUint32(0) >>> 8;
    await this.#fill(9 + length);
    const frame = {
      type: this.#buffered[3],
      flags: this.#buffered[4],
      streamId: new DataView(this.#buffered.buffer).getUint32(5),
      payload: this.#buffered.slice(9, 9 + length),
    };
    this.#buffered = this.#buffered.slice(9 + length);
    return frame;
  }

  /** Reads frames until one of `type` (skipping SETTINGS and WINDOW_UPDATE bookkeeping). */
  async readUntil(type: number): Promise<Frame> {
    for (;;) {
      const frame = await this.read();
      if (frame.type === type) return frame;
    }
  }

  async write(...frames: Uint8Array[]): Promise<void> {
    for (const frame of frames) {
      let written = 0;
      while (written < frame.length) written += await this.#conn.write(frame.subarray(written));
    }
  }

  close(): void {
    this.#conn.close();
  }
}

async function withPeer(
  script: (peer: ScriptedPeer) => Promise<void>,
  client: (connection: Http2Connection) => Promise<void>,
  { sendsSettings = false } = {},
): Promise<void> {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const served = (async () => {
    const peer = new ScriptedPeer(await listener.accept());
    try {
      await peer.preface();
      if (!sendsSettings) await peer.write(encodeFrame(SETTINGS, 0, 0));
      await script(peer);
    } finally {
      peer.close();
    }
  })();
  const connection = await Http2Connection.open({
    hostname: "127.0.0.1",
    port: (listener.addr as Deno.NetAddr).port,
  });
  try {
    await client(connection);
  } finally {
    connection.close();
    await served.catch(() => {});
    listener.close();
  }
}

const DATA = 0, HEADERS = 1, RST_STREAM = 3, SETTINGS = 4, PING = 6, GOAWAY = 7;
const WINDOW_UPDATE = 8, CONTINUATION = 9;
const request: [string, string][] = [[":method", "POST"], [":path", "/x"]];

Deno.test("Http2Connection reads what servers may send", async () => {
  const pingPayload = hex("0102030405060708");
  let pingAck: Frame | undefined;
  await withPeer(async (peer) => {
    const headers = await peer.readUntil(HEADERS);
    assert.equal(headers.streamId, 1);
    const data = await peer.readUntil(DATA);
    assert.deepEqual(data.payload, hex("0a0b0c"));
    assert.equal(data.flags & 1, 1, "END_STREAM");
    await peer.write(encodeFrame(PING, 0, 0, pingPayload));
    pingAck = await peer.readUntil(PING);
    // :status 200, then :authority with a Huffman value indexed into the dynamic table
    // (RFC 7541 C.4.1), split over HEADERS (padded, with priority) and CONTINUATION.
    await peer.write(
      encodeFrame(HEADERS, 0x08 | 0x20, 1, hex("02 0000000010 88 41 8cf1e3c2 0000")),
      encodeFrame(CONTINUATION, 0x04, 1, hex("e5f23a6ba0ab90f4ff")),
      encodeFrame(DATA, 0x08, 1, hex("01 aabb 00")),
      encodeFrame(DATA, 0, 1, hex("cc")),
    );
    // Trailers: the :authority entry by its dynamic index, and a literal grpc-status.
    await peer.write(
      encodeFrame(HEADERS, 0x05, 1, hex("be 00 0b 677270632d737461747573 01 30")),
    );
  }, async (connection) => {
    const response = await connection.request(request, hex("0a0b0c"));
    assert.deepEqual(response.headers, [[":status", "200"], [":authority", "www.example.com"]]);
    assert.deepEqual(response.data, hex("aabbcc"));
    assert.deepEqual(response.trailers, [[":authority", "www.example.com"], ["grpc-status", "0"]]);
  });
  assert.equal(pingAck!.flags, 1);
  assert.deepEqual(pingAck!.payload, pingPayload);
});

Deno.test("Http2Connection gives flow-control credit back once half a window is used", async () => {
  const updates: { streamId: number; increment: number }[] = [];
  await withPeer(async (peer) => {
    await peer.readUntil(DATA);
    await peer.write(
      encodeFrame(HEADERS, 0x04, 1, hex("88")),
      encodeFrame(DATA, 0, 1, hex("000000")),
      encodeFrame(HEADERS, 0x05, 1, hex("00 0b 677270632d737461747573 01 30")),
    );
    // A reply of a few bytes is not acknowledged frame by frame: the next frames the client
    // sends are the second request's.
    const next = await peer.read();
    assert.deepEqual([next.type, next.streamId], [HEADERS, 3]);
    await peer.readUntil(DATA);
    await peer.write(encodeFrame(HEADERS, 0x04, 3, hex("88")));
    for (let i = 0; i < 3; i++) await peer.write(encodeFrame(DATA, 0, 3, new Uint8Array(16_384)));
    while (updates.length < 2) {
      const frame = await peer.readUntil(WINDOW_UPDATE);
      updates.push({
        streamId: frame.streamId,
        increment: new DataView(frame.payload.buffer).getUint32(0),
      });
    }
    await peer.write(encodeFrame(HEADERS, 0x05, 3, hex("00 0b 677270632d737461747573 01 30")));
  }, async (connection) => {
    const small = await connection.request(request, hex("00"));
    assert.deepEqual(small.data, hex("000000"));
    const large = await connection.request(request, hex("00"));
    assert.equal(large.data.length, 3 * 16_384);
  });
  // The connection's credit includes the first reply's 3 bytes; the stream's is its own.
  assert.deepEqual(updates.sort((a, b) => a.streamId - b.streamId), [
    { streamId: 0, increment: 3 + 2 * 16_384 },
    { streamId: 3, increment: 2 * 16_384 },
  ]);
});

Deno.test("Http2Connection sends no more DATA than the peer's window allows", async () => {
  await withPeer(async (peer) => {
    const settings = new Uint8Array(6);
    new DataView(settings.buffer).setUint16(0, 0x4);
    new DataView(settings.buffer).setUint32(2, 10);
    await peer.write(encodeFrame(SETTINGS, 0, 0, settings));
    let received = 0;
    for (;;) {
      const frame = await peer.read();
      if (frame.type !== DATA) continue;
      received += frame.payload.length;
      assert.ok(received <= 10, `${received} bytes sent into a window of 10`);
      if (received === 10) break;
    }
    const increment = new Uint8Array(4);
    new DataView(increment.buffer).setUint32(0, 90);
    await peer.write(encodeFrame(WINDOW_UPDATE, 0, 1, increment));
    for (;;) {
      const frame = await peer.read();
      if (frame.type !== DATA) continue;
      received += frame.payload.length;
      if (frame.flags & 1) break;
    }
    assert.equal(received, 100);
    await peer.write(encodeFrame(HEADERS, 0x05, 1, hex("88")));
  }, async (connection) => {
    const response = await connection.request(request, new Uint8Array(100));
    assert.deepEqual(response.headers, [[":status", "200"]]);
  }, { sendsSettings: true });
});

Deno.test("Http2Connection fails streams the server resets or refuses", async (t) => {
  await t.step("RST_STREAM carries its error code", async () => {
    await withPeer(async (peer) => {
      await peer.readUntil(DATA);
      await peer.write(encodeFrame(RST_STREAM, 0, 1, hex("0000000b")));
      await peer.readUntil(GOAWAY).catch(() => {});
    }, async (connection) => {
      await assert.rejects(connection.request(request, hex("00")), (error: Http2Error) => {
        assert.equal(error.kind, "reset");
        assert.equal(error.errorCode, 0xb);
        return true;
      });
      assert.ok(connection.usable);
    });
  });
  await t.step("GOAWAY refuses streams past its last stream id", async () => {
    await withPeer(async (peer) => {
      await peer.readUntil(DATA);
      await peer.write(encodeFrame(GOAWAY, 0, 0, hex("00000000 00000000")));
      await peer.readUntil(GOAWAY).catch(() => {});
    }, async (connection) => {
      await assert.rejects(connection.request(request, hex("00")), (error: Http2Error) => {
        assert.equal(error.kind, "refused");
        return true;
      });
      assert.equal(connection.usable, false);
    });
  });
  await t.step("an aborted request is reset with CANCEL", async () => {
    let reset: Frame | undefined;
    const controller = new AbortController();
    await withPeer(async (peer) => {
      await peer.readUntil(DATA);
      controller.abort(new Error("stop"));
      reset = await peer.readUntil(RST_STREAM);
    }, async (connection) => {
      await assert.rejects(connection.request(request, hex("00"), controller.signal), /stop/);
      await new Promise((resolve) => setTimeout(resolve, 50));
    });
    assert.deepEqual(reset?.payload, hex("00000008"));
  });
});

Deno.test("Http2Connection fails the connection on a header block past 64 KiB", async () => {
  let goaway: Frame | undefined;
  await withPeer(async (peer) => {
    await peer.readUntil(DATA);
    // HEADERS without END_HEADERS, then CONTINUATION frames that never end the block.
    await peer.write(encodeFrame(HEADERS, 0, 1, hex("88")));
    for (let i = 0; i < 5; i++) {
      await peer.write(encodeFrame(CONTINUATION, 0, 1, new Uint8Array(16_384)));
    }
    goaway = await peer.readUntil(GOAWAY);
  }, async (connection) => {
    const outcome = await Promise.race([
      connection.request(request, hex("00")).then(() => "resolved", (error) => error),
      new Promise((resolve) => setTimeout(() => resolve("still waiting"), 1000)),
    ]);
    assert.ok(outcome instanceof Http2Error, String(outcome));
    assert.equal(outcome.kind, "connection");
    assert.equal(connection.usable, false);
  });
  assert.equal(new DataView(goaway!.payload.buffer).getUint32(4), 0xb, "ENHANCE_YOUR_CALM");
});

Deno.test("Http2Connection names the frame that broke the protocol", async (t) => {
  const cases: { name: string; frames: Uint8Array[]; message: RegExp; errorCode: number }[] = [
    {
      name: "a DATA frame inside a header block",
      frames: [encodeFrame(HEADERS, 0, 1, hex("88")), encodeFrame(DATA, 0, 1, hex("00"))],
      message: /expected a CONTINUATION frame on stream 1, got a DATA frame/,
      errorCode: 0x1,
    },
    {
      name: "CONTINUATION without HEADERS",
      frames: [encodeFrame(CONTINUATION, 0x04, 1, hex("88"))],
      message: /CONTINUATION frame on stream 1 without a HEADERS frame before it/,
      errorCode: 0x1,
    },
    {
      name: "a short GOAWAY",
      frames: [encodeFrame(GOAWAY, 0, 0, hex("00000000"))],
      message: /GOAWAY frame of 4 bytes, expected at least 8/,
      errorCode: 0x6,
    },
    {
      name: "a WINDOW_UPDATE of the wrong size",
      frames: [encodeFrame(WINDOW_UPDATE, 0, 0, hex("000001"))],
      message: /WINDOW_UPDATE frame of 3 bytes, expected 4/,
      errorCode: 0x6,
    },
    {
      name: "a frame over the maximum size",
      frames: [encodeFrame(HEADERS, 0x04, 1, new Uint8Array(16_385))],
      message: /HEADERS frame of 16385 bytes, over the 16384 this client accepts/,
      errorCode: 0x6,
    },
  ];
  for (const { name, frames, message, errorCode } of cases) {
    await t.step(name, async () => {
      let goaway: Frame | undefined;
      await withPeer(async (peer) => {
        await peer.readUntil(DATA);
        await peer.write(...frames);
        goaway = await peer.readUntil(GOAWAY);
      }, async (connection) => {
        await assert.rejects(connection.request(request, hex("00")), (error: Http2Error) => {
          assert.equal(error.kind, "connection");
          assert.match(error.message, message);
          assert.equal(error.errorCode, errorCode);
          return true;
        });
      });
      assert.equal(new DataView(goaway!.payload.buffer).getUint32(4), errorCode);
    });
  }
});

Deno.test("Http2Connection ignores the reserved bit of a frame's stream id", async () => {
  await withPeer(async (peer) => {
    await peer.readUntil(DATA);
    await peer.write(encodeFrame(HEADERS, 0x05, 0x8000_0001, hex("88")));
  }, async (connection) => {
    const response = await connection.request(request, hex("00"));
    assert.deepEqual(response.headers, [[":status", "200"]]);
  });
});
