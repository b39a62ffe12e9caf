/**
 * The server side of HTTP/2 (RFC 9113) for unary gRPC calls (gRPC over HTTP/2), on a node:net
 * or node:tls socket: the connection preface and SETTINGS exchange, HPACK header blocks with
 * CONTINUATION, flow control of both the connection and each stream with WINDOW_UPDATE, PING,
 * RST_STREAM, GOAWAY, and responses as HEADERS, DATA and trailers carrying grpc-status and
 * grpc-message.
 *
 * Why not node:http2 (as grpc-js uses it): under Deno 2.9.6 it costs most of the listener's CPU
 * at a few thousand agents, and it can abort the process inside nghttp2 (denoland/deno#36788).
 *
 * A call's body is not read beyond the stream's initial window (64 KiB) until the handler admits
 * the call from its headers (`admit`): the client's flow control holds the rest. A request that
 * arrived whole with its headers is admitted with its size, so the common small batch costs no
 * extra round trip. One connection per instance; `Http2Sessions` holds them all.
 */
import {
  concatBytes,
  DEFAULT_MAX_FRAME,
  DEFAULT_WINDOW,
  ERROR,
  FLAG_ACK,
  FLAG_END_HEADERS,
  FLAG_END_STREAM,
  FLAG_PADDED,
  FLAG_PRIORITY,
  FRAME,
  frame,
  FRAME_HEADER_BYTES,
  frameName,
  goawayPayload,
  MAX_ALLOWED_FRAME,
  MAX_STREAM_ID,
  MAX_WINDOW,
  PREFACE,
  SETTING,
  settingsPayload,
  uint32Payload,
  unpad,
} from "../../shared/http2/frames.ts";
import {
  encodeHeaderBlock,
  encodeTableSizeUpdate,
  HpackDecoder,
} from "../../shared/http2/hpack.ts";
import { GrpcStatus } from "../../shared/wire/status.ts";
import {
  declaredLength,
  encodeGrpcMessage,
  malformedHeaders,
  MESSAGE_PREFIX_BYTES,
  parseGrpcTimeout,
} from "./_grpc_headers.ts";

/** What a call carries that the handler decides on. */
export interface CallInfo {
  path: string;
  authorization: string;
  agentId: string;
  /** Names of the client certificate the TLS layer verified (mutual TLS); empty otherwise. */
  certificateNames: readonly string[];
}

/** A gRPC status and message. */
export interface CallStatus {
  code: number;
  message: string;
}

/** Whether a call may send its body: a release function (called once the call ends), or why not. */
export type Admission = { release: () => void } | CallStatus;

export interface UnaryHandler {
  /**
   * A call's headers arrived. `wholeBodyBytes` is the request's size when all of it came with
   * the headers, undefined when more is to come (then `maxMessageBytes` may follow).
   */
  admit(call: CallInfo, wholeBodyBytes: number | undefined): Promise<Admission>;
  /** The call's request message arrived whole: its status, and the reply message when OK. */
  handle(call: CallInfo, message: Uint8Array): Promise<CallStatus & { reply?: Uint8Array }>;
}

/** The parts of a node `net.Socket` / `tls.TLSSocket` a session uses. */
export interface SessionSocket {
  write(bytes: Uint8Array): boolean;
  end(): void;
  destroy(): void;
  readonly writableLength: number;
  readonly destroyed: boolean;
  on(event: "data", listener: (chunk: Uint8Array) => void): unknown;
  on(event: "close", listener: () => void): unknown;
  on(event: "error", listener: (error: Error) => void): unknown;
  setNoDelay?(noDelay?: boolean): unknown;
}

export interface SessionOptions {
  handler: UnaryHandler;
  /** The one method served (`/package.Service/Method`); others are UNIMPLEMENTED. */
  path: string;
  maxConcurrentStreams: number;
  maxMessageBytes: number;
  certificateNames?: readonly string[];
  /** Called once, when the first call's headers arrive. */
  onFirstCall?: () => void;
  /** Called once, when the socket has closed. */
  onClose?: () => void;
  /** A protocol error of the peer (logged at debug by the caller). */
  onProtocolError?: (message: string) => void;
}

/** The most header block (HEADERS and CONTINUATION) buffered: gRPC metadata is a few KB. */
const MAX_HEADER_BLOCK = 65_536;
/** Received DATA is given back with WINDOW_UPDATE once this many bytes are outstanding. */
const WINDOW_UPDATE_THRESHOLD = Math.ceil(DEFAULT_WINDOW / 2);
/** A peer that does not read what we send: beyond this many unsent bytes, the connection goes. */
const MAX_UNSENT_BYTES = 1024 * 1024;
/** Streams of one connection whose unread body is being dropped, at most. */
const MAX_DISCARDING = 64;
/**
 * Calls a client may reset before they are answered, at once and then per second: every call
 * costs the parent an AUTH or REQUEST however soon it is reset ("rapid reset", CVE-2023-44487).
 * An agent resets a call only when its deadline passes.
 */
const RESET_BURST = 200;
const RESETS_PER_SECOND = 20;
/** The stream a PRIORITY frame, or HEADERS' priority fields at `offset`, depend on. */
function dependency(payload: Uint8Array, offset: number): number {
  if (payload.length < offset + 4) return -1;
  return ((payload[offset] << 24) | (payload[offset + 1] << 16) | (payload[offset + 2] << 8) |
    payload[offset + 3]) & MAX_STREAM_ID;
}

interface Stream {
  id: number;
  call: CallInfo;
  /** Request bytes received (padding excluded), kept until the call is handled. */
  chunks: Uint8Array[];
  received: number;
  /** Our receive window for the stream: what the peer may still send. */
  recvWindow: number;
  /** Received and not yet given back (only after admission). */
  unacknowledged: number;
  /** The peer's window for what we send on this stream. */
  sendWindow: number;
  remoteEnded: boolean;
  admitted: boolean;
  /** admit or handle is under way, or done. */
  asked: boolean;
  dispatched: boolean;
  release?: () => void;
  /** performance.now() after which the call has run out of time. */
  deadline?: number;
  /** Response frames waiting for flow-control window: DATA payload and trailers. */
  pending?: { data: Uint8Array; trailers: readonly [string, string][] };
  closed: boolean;
}

const enum Phase {
  PREFACE,
  SETTINGS,
  OPEN,
}

/**
 * One HTTP/2 connection of the gRPC listener. Frames are parsed as bytes arrive; what is sent
 * in one turn of the event loop goes out in one write.
 */
export class Http2Session {
  readonly #socket: SessionSocket;
  readonly #options: SessionOptions;
  readonly #decoder = new HpackDecoder();
  readonly #streams = new Map<number, Stream>();
  #phase = Phase.PREFACE;
  #buffer = new Uint8Array(0);
  #lastStreamId = 0;
  #recvWindow = DEFAULT_WINDOW;
  #recvUnacknowledged = 0;
  #sendWindow = DEFAULT_WINDOW;
  #peerInitialWindow = DEFAULT_WINDOW;
  #peerMaxFrame = DEFAULT_MAX_FRAME;
  #continuation?: {
    streamId: number;
    endStream: boolean;
    /** The HEADERS frame made the stream depend on itself (a stream error, RFC 9113 §5.3.1). */
    selfDependent: boolean;
    fragments: Uint8Array[];
    size: number;
  };
  /** SETTINGS_HEADER_TABLE_SIZE in force for our encoder: 4096 until the client lowers it. */
  #encoderTableSize = 4096;
  /** A dynamic table size update owed at the start of our next header block (RFC 7541 §4.2). */
  #tableSizeUpdate?: number;
  /** Streams the client may still reset mid-call before it is cut off (CVE-2023-44487). */
  #resetBudget = RESET_BURST;
  #resetBudgetAt = performance.now();
  #outbox: Uint8Array[] = [];
  #flushQueued = false;
  /** Streams whose headers arrived in the chunk being read: admitted once it is read whole. */
  #newStreams: Stream[] = [];
  /** Streams answered before their body ended: what may still come, and what to give back. */
  readonly #discarding = new Map<number, { left: number; unacknowledged: number }>();
  #goingAway = false;
  #closed = false;
  #sawCall = false;
  /** performance.now() of the last frame received, and of the last time no stream was open. */
  lastReceived = performance.now();
  idleSince = performance.now();
  #pingSentAt?: number;

  constructor(socket: SessionSocket, options: SessionOptions) {
    this.#socket = socket;
    this.#options = options;
    socket.setNoDelay?.(true);
    socket.on("data", (chunk) => this.#onBytes(chunk));
    socket.on("error", () => {});
    socket.on("close", () => this.#onClosed());
    // The server's preface is its SETTINGS (RFC 9113 §3.4); it may go before the client's.
    this.#send(frame(
      FRAME.SETTINGS,
      0,
      0,
      settingsPayload([
        [SETTING.MAX_CONCURRENT_STREAMS, options.maxConcurrentStreams],
        [SETTING.MAX_HEADER_LIST_SIZE, MAX_HEADER_BLOCK],
      ]),
    ));
  }

  get openStreams(): number {
    return this.#streams.size;
  }

  get closed(): boolean {
    return this.#closed;
  }

  /**
   * Sends GOAWAY: calls already started finish, later ones are refused; the connection closes
   * once none is left.
   */
  goAway(): void {
    if (this.#goingAway || this.#closed) return;
    this.#goingAway = true;
    this.#send(frame(FRAME.GOAWAY, 0, 0, goawayPayload(this.#lastStreamId, ERROR.NO_ERROR)));
    if (this.#streams.size === 0) this.#endSoon();
  }

  /** Closes the socket at once; calls in flight are never answered. */
  destroy(): void {
    this.#closed = true;
    this.#socket.destroy();
  }

  /**
   * Timers, from the listener's sweep: deadlines of calls, keepalive PING, the idle timeout.
   * `now` is performance.now().
   */
  tick(
    now: number,
    bounds: { idleTimeoutMs: number; keepaliveTimeMs: number; keepaliveTimeoutMs: number },
  ): void {
    if (this.#closed) return;
    for (const stream of this.#streams.values()) {
      if (stream.deadline !== undefined && now >= stream.deadline) {
        this.#finish(stream, { code: GrpcStatus.DEADLINE_EXCEEDED, message: "Deadline exceeded" });
      }
    }
    if (this.#pingSentAt !== undefined) {
      if (now - this.#pingSentAt >= bounds.keepaliveTimeoutMs) this.destroy();
    } else if (now - this.lastReceived >= bounds.keepaliveTimeMs) {
      this.#pingSentAt = now;
      this.#send(frame(FRAME.PING, 0, 0, new Uint8Array(8)));
    }
    if (this.#streams.size === 0 && now - this.idleSince >= bounds.idleTimeoutMs) this.goAway();
  }

  #onClosed(): void {
    this.#closed = true;
    for (const stream of this.#streams.values()) this.#forget(stream);
    this.#streams.clear();
    this.#options.onClose?.();
  }

  // ---- Reading

  #onBytes(chunk: Uint8Array): void {
    if (this.#closed) return;
    let bytes = chunk;
    if (this.#buffer.length > 0) bytes = concatBytes([this.#buffer, chunk]);
    let offset = 0;
    if (this.#phase === Phase.PREFACE) {
      const have = Math.min(bytes.length, PREFACE.length);
      for (let i = 0; i < have; i++) {
        if (bytes[i] !== PREFACE[i]) return this.destroy();
      }
      if (bytes.length < PREFACE.length) {
        this.#buffer = bytes.slice();
        return;
      }
      offset = PREFACE.length;
      this.#phase = Phase.SETTINGS;
    }
    this.lastReceived = performance.now();
    while (bytes.length - offset >= FRAME_HEADER_BYTES && !this.#closed) {
      const length = (bytes[offset] << 16) | (bytes[offset + 1] << 8) | bytes[offset + 2];
      const type = bytes[offset + 3];
      if (length > DEFAULT_MAX_FRAME) {
        return this.#connectionError(
          ERROR.FRAME_SIZE_ERROR,
          `${frameName(type)} frame of ${length} bytes, over ${DEFAULT_MAX_FRAME}`,
        );
      }
      if (bytes.length - offset < FRAME_HEADER_BYTES + length) break;
      const flags = bytes[offset + 4];
      const streamId = ((bytes[offset + 5] << 24) | (bytes[offset + 6] << 16) |
        (bytes[offset + 7] << 8) | bytes[offset + 8]) & MAX_STREAM_ID;
      const payload = bytes.subarray(
        offset + FRAME_HEADER_BYTES,
        offset + FRAME_HEADER_BYTES + length,
      );
      offset += FRAME_HEADER_BYTES + length;
      this.#onFrame(type, flags, streamId, payload);
    }
    // What is left is part of a frame: keep a copy (the chunk's buffer may be reused).
    this.#buffer = offset === bytes.length ? new Uint8Array(0) : bytes.slice(offset);
    const fresh = this.#newStreams;
    this.#newStreams = [];
    for (const stream of fresh) this.#admit(stream);
  }

  #onFrame(type: number, flags: number, streamId: number, payload: Uint8Array): void {
    if (this.#phase === Phase.SETTINGS) {
      if (type !== FRAME.SETTINGS || (flags & FLAG_ACK)) {
        return this.#connectionError(ERROR.PROTOCOL_ERROR, "the client preface lacks SETTINGS");
      }
      this.#phase = Phase.OPEN;
    }
    if (this.#continuation && type !== FRAME.CONTINUATION) {
      return this.#connectionError(
        ERROR.PROTOCOL_ERROR,
        `expected CONTINUATION on stream ${this.#continuation.streamId}, got ${frameName(type)}`,
      );
    }
    switch (type) {
      case FRAME.DATA:
        return this.#onData(flags, streamId, payload);
      case FRAME.HEADERS:
        return this.#onHeaders(flags, streamId, payload);
      case FRAME.CONTINUATION:
        return this.#onContinuation(flags, streamId, payload);
      case FRAME.PRIORITY:
        if (streamId === 0) {
          return this.#connectionError(ERROR.PROTOCOL_ERROR, "PRIORITY on stream 0");
        }
        if (payload.length !== 5) return this.#resetStream(streamId, ERROR.FRAME_SIZE_ERROR);
        // Otherwise ignored (RFC 9113 §5.3.2), but a stream may not depend on itself (§5.3.1).
        if (dependency(payload, 0) === streamId) {
          return this.#resetStream(streamId, ERROR.PROTOCOL_ERROR);
        }
        return;
      case FRAME.RST_STREAM:
        return this.#onReset(streamId, payload);
      case FRAME.SETTINGS:
        return this.#onSettings(flags, streamId, payload);
      case FRAME.PUSH_PROMISE:
        return this.#connectionError(ERROR.PROTOCOL_ERROR, "PUSH_PROMISE from a client");
      case FRAME.PING:
        if (streamId !== 0) return this.#connectionError(ERROR.PROTOCOL_ERROR, "PING on a stream");
        if (payload.length !== 8) {
          return this.#connectionError(ERROR.FRAME_SIZE_ERROR, "PING frame not of 8 bytes");
        }
        if (flags & FLAG_ACK) this.#pingSentAt = undefined;
        else this.#send(frame(FRAME.PING, FLAG_ACK, 0, payload.slice()));
        return;
      case FRAME.GOAWAY:
        if (streamId !== 0) {
          return this.#connectionError(ERROR.PROTOCOL_ERROR, "GOAWAY on a stream");
        }
        if (payload.length < 8) {
          return this.#connectionError(ERROR.FRAME_SIZE_ERROR, "GOAWAY frame under 8 bytes");
        }
        // The client will start no more calls; those under way finish.
        this.#goingAway = true;
        if (this.#streams.size === 0) this.#endSoon();
        return;
      case FRAME.WINDOW_UPDATE:
        return this.#onWindowUpdate(streamId, payload);
      default:
        // Unknown frame types are ignored (RFC 9113 §4.1).
        return;
    }
  }

  #onHeaders(flags: number, streamId: number, payload: Uint8Array): void {
    if (streamId === 0) return this.#connectionError(ERROR.PROTOCOL_ERROR, "HEADERS on stream 0");
    const fragment = unpad(payload, flags, true);
    if (!fragment) {
      return this.#connectionError(ERROR.PROTOCOL_ERROR, "padding longer than HEADERS");
    }
    const padded = flags & FLAG_PADDED ? 1 : 0;
    this.#continuation = {
      streamId,
      endStream: (flags & FLAG_END_STREAM) !== 0,
      selfDependent: (flags & FLAG_PRIORITY) !== 0 && dependency(payload, padded) === streamId,
      // Decoded at once when complete; otherwise kept past this read, whose buffer is reused.
      fragments: [flags & FLAG_END_HEADERS ? fragment : fragment.slice()],
      size: fragment.length,
    };
    if (flags & FLAG_END_HEADERS) this.#onHeaderBlock();
  }

  #onContinuation(flags: number, streamId: number, payload: Uint8Array): void {
    const continuation = this.#continuation;
    if (!continuation || continuation.streamId !== streamId) {
      return this.#connectionError(
        ERROR.PROTOCOL_ERROR,
        `CONTINUATION without HEADERS on ${streamId}`,
      );
    }
    // Frame headers count too: a flood of empty CONTINUATION frames is not free to hold.
    continuation.size += FRAME_HEADER_BYTES + payload.length;
    if (continuation.size > MAX_HEADER_BLOCK) {
      return this.#connectionError(
        ERROR.ENHANCE_YOUR_CALM,
        `header block over ${MAX_HEADER_BLOCK} bytes`,
      );
    }
    if (payload.length > 0) continuation.fragments.push(payload.slice());
    if (flags & FLAG_END_HEADERS) this.#onHeaderBlock();
  }

  #onHeaderBlock(): void {
    const { streamId, endStream, selfDependent, fragments } = this.#continuation!;
    this.#continuation = undefined;
    let fields: [string, string][];
    try {
      fields = this.#decoder.decode(concatBytes(fragments));
    } catch (error) {
      return this.#connectionError(ERROR.COMPRESSION_ERROR, (error as Error).message);
    }
    const existing = this.#streams.get(streamId);
    if (existing) {
      // Trailers from the client: they must end the stream.
      if (
        !endStream || existing.remoteEnded || selfDependent || malformedHeaders(fields, true)
      ) {
        return this.#resetStream(streamId, ERROR.PROTOCOL_ERROR);
      }
      return this.#onRemoteEnd(existing);
    }
    if (this.#discarding.has(streamId)) {
      // Trailers of a call answered early: the body it was sending ends here.
      this.#discarding.delete(streamId);
      if (!endStream) this.#resetStream(streamId, ERROR.PROTOCOL_ERROR);
      return;
    }
    if (streamId % 2 === 0 || streamId <= this.#lastStreamId) {
      // A closed stream (RFC 9113 §5.1): a stream error on one we know, else a connection error.
      if (streamId % 2 === 1) return this.#resetStream(streamId, ERROR.STREAM_CLOSED);
      return this.#connectionError(ERROR.PROTOCOL_ERROR, `HEADERS opening stream ${streamId}`);
    }
    this.#lastStreamId = streamId;
    const malformed = selfDependent ? "a stream depending on itself" : malformedHeaders(fields);
    if (malformed !== undefined) {
      this.#options.onProtocolError?.(`malformed request on stream ${streamId}: ${malformed}`);
      return this.#resetStream(streamId, ERROR.PROTOCOL_ERROR);
    }
    if (this.#goingAway) return this.#resetStream(streamId, ERROR.REFUSED_STREAM);
    if (this.#streams.size >= this.#options.maxConcurrentStreams) {
      return this.#resetStream(streamId, ERROR.REFUSED_STREAM);
    }
    if (!this.#sawCall) {
      this.#sawCall = true;
      this.#options.onFirstCall?.();
    }
    const header = (name: string) => {
      for (const [key, value] of fields) if (key === name) return value;
      return undefined;
    };
    const method = header(":method")!;
    const path = header(":path")!;
    const stream: Stream = {
      id: streamId,
      call: {
        path,
        authorization: header("authorization") ?? "",
        agentId: header("agent-id") ?? "",
        certificateNames: this.#options.certificateNames ?? [],
      },
      chunks: [],
      received: 0,
      recvWindow: DEFAULT_WINDOW,
      unacknowledged: 0,
      sendWindow: this.#peerInitialWindow,
      remoteEnded: endStream,
      admitted: false,
      asked: false,
      dispatched: false,
      closed: false,
    };
    const timeoutMs = parseGrpcTimeout(header("grpc-timeout"));
    if (timeoutMs !== undefined) stream.deadline = performance.now() + timeoutMs;
    this.#streams.set(streamId, stream);
    const contentType = header("content-type") ?? "";
    if (method !== "POST" || !/^application\/grpc([+;]|$)/.test(contentType)) {
      // Not gRPC: HTTP 415 for the content type, as gRPC over HTTP/2 asks.
      return this.#finish(stream, {
        code: GrpcStatus.UNKNOWN,
        message: `expected a gRPC POST, got ${method} with content-type ${contentType}`,
      }, method === "POST" ? "415" : "405");
    }
    const encoding = header("grpc-encoding");
    if (encoding !== undefined && encoding !== "identity") {
      // gRPC over HTTP/2 (compression): UNIMPLEMENTED, naming what we accept.
      return this.#finish(
        stream,
        {
          code: GrpcStatus.UNIMPLEMENTED,
          message: `message encoding ${encoding} is not supported`,
        },
        "200",
        [["grpc-accept-encoding", "identity"]],
      );
    }
    this.#newStreams.push(stream);
  }

  #onData(flags: number, streamId: number, payload: Uint8Array): void {
    if (streamId === 0) return this.#connectionError(ERROR.PROTOCOL_ERROR, "DATA on stream 0");
    // Padding and all count against both windows (RFC 9113 §6.9.1).
    this.#recvWindow -= payload.length;
    if (this.#recvWindow < 0) {
      return this.#connectionError(ERROR.FLOW_CONTROL_ERROR, "DATA beyond the connection window");
    }
    // The connection's window is given back at once: each stream's own window bounds what waits.
    this.#recvUnacknowledged += payload.length;
    if (this.#recvUnacknowledged >= WINDOW_UPDATE_THRESHOLD) {
      this.#send(frame(FRAME.WINDOW_UPDATE, 0, 0, uint32Payload(this.#recvUnacknowledged)));
      this.#recvWindow += this.#recvUnacknowledged;
      this.#recvUnacknowledged = 0;
    }
    const stream = this.#streams.get(streamId);
    if (!stream) {
      if (this.#discarding.has(streamId)) {
        return this.#onDiscardedData(streamId, flags, payload.length);
      }
      if (streamId % 2 === 1 && streamId <= this.#lastStreamId) {
        // A stream we finished (answered early, reset or refused): its data is dropped.
        return;
      }
      return this.#connectionError(ERROR.PROTOCOL_ERROR, `DATA on idle stream ${streamId}`);
    }
    if (stream.remoteEnded) return this.#resetStream(streamId, ERROR.STREAM_CLOSED, stream);
    stream.recvWindow -= payload.length;
    if (stream.recvWindow < 0) return this.#resetStream(streamId, ERROR.FLOW_CONTROL_ERROR, stream);
    const content = unpad(payload, flags, false);
    if (!content) return this.#connectionError(ERROR.PROTOCOL_ERROR, "padding longer than DATA");
    if (stream.closed) return;
    if (content.length > 0) {
      stream.chunks.push(content.slice());
      stream.received += content.length;
    }
    if (stream.received >= MESSAGE_PREFIX_BYTES && stream.chunks.length > 0) {
      const declared = this.#declaredLength(stream);
      if (declared > this.#options.maxMessageBytes) {
        return this.#finish(stream, {
          code: GrpcStatus.RESOURCE_EXHAUSTED,
          message:
            `Received message larger than max (${declared} vs. ${this.#options.maxMessageBytes})`,
        });
      }
      if (stream.received > MESSAGE_PREFIX_BYTES + declared) {
        return this.#finish(stream, {
          code: GrpcStatus.UNIMPLEMENTED,
          message: "more than one request message in a unary call",
        });
      }
    }
    if (stream.admitted) {
      stream.unacknowledged += payload.length;
      if (!(flags & FLAG_END_STREAM) && stream.unacknowledged >= WINDOW_UPDATE_THRESHOLD) {
        this.#grantStream(stream, stream.unacknowledged);
      }
    }
    if (flags & FLAG_END_STREAM) this.#onRemoteEnd(stream);
  }

  /** The length the gRPC message prefix declares (the stream has at least 5 bytes). */
  #declaredLength(stream: Stream): number {
    return declaredLength(
      stream.chunks[0].length >= MESSAGE_PREFIX_BYTES
        ? stream.chunks[0]
        : concatBytes(stream.chunks),
    );
  }

  #grantStream(stream: Stream, increment: number): void {
    if (increment <= 0 || stream.remoteEnded) return;
    stream.unacknowledged = 0;
    stream.recvWindow += increment;
    this.#send(frame(FRAME.WINDOW_UPDATE, 0, stream.id, uint32Payload(increment)));
  }

  #onRemoteEnd(stream: Stream): void {
    stream.remoteEnded = true;
    if (stream.admitted && !stream.dispatched) this.#dispatch(stream);
  }

  #onReset(streamId: number, payload: Uint8Array): void {
    if (streamId === 0) {
      return this.#connectionError(ERROR.PROTOCOL_ERROR, "RST_STREAM on stream 0");
    }
    if (payload.length !== 4) {
      return this.#connectionError(ERROR.FRAME_SIZE_ERROR, "RST_STREAM frame not of 4 bytes");
    }
    if (streamId > this.#lastStreamId) {
      return this.#connectionError(ERROR.PROTOCOL_ERROR, `RST_STREAM on idle stream ${streamId}`);
    }
    this.#discarding.delete(streamId);
    const stream = this.#streams.get(streamId);
    if (!stream) return;
    this.#close(stream);
    const now = performance.now();
    this.#resetBudget = Math.min(
      RESET_BURST,
      this.#resetBudget + (now - this.#resetBudgetAt) * RESETS_PER_SECOND / 1000,
    );
    this.#resetBudgetAt = now;
    if (--this.#resetBudget < 0) {
      this.#connectionError(ERROR.ENHANCE_YOUR_CALM, "too many calls reset by the client");
    }
  }

  #onSettings(flags: number, streamId: number, payload: Uint8Array): void {
    if (streamId !== 0) return this.#connectionError(ERROR.PROTOCOL_ERROR, "SETTINGS on a stream");
    if (flags & FLAG_ACK) {
      if (payload.length !== 0) {
        return this.#connectionError(ERROR.FRAME_SIZE_ERROR, "SETTINGS ACK with a payload");
      }
      return;
    }
    if (payload.length % 6 !== 0) {
      return this.#connectionError(ERROR.FRAME_SIZE_ERROR, "SETTINGS not a multiple of 6 bytes");
    }
    const view = new DataView(payload.buffer, payload.byteOffset, payload.byteLength);
    for (let offset = 0; offset < payload.length; offset += 6) {
      const id = view.getUint16(offset);
      const value = view.getUint32(offset + 2);
      if (id === SETTING.ENABLE_PUSH && value > 1) {
        return this.#connectionError(ERROR.PROTOCOL_ERROR, `SETTINGS_ENABLE_PUSH of ${value}`);
      } else if (id === SETTING.INITIAL_WINDOW_SIZE) {
        if (value > MAX_WINDOW) {
          return this.#connectionError(
            ERROR.FLOW_CONTROL_ERROR,
            `SETTINGS_INITIAL_WINDOW_SIZE of ${value}`,
          );
        }
        const delta = value - this.#peerInitialWindow;
        this.#peerInitialWindow = value;
        for (const stream of this.#streams.values()) {
          stream.sendWindow += delta;
          if (stream.sendWindow > MAX_WINDOW) {
            return this.#connectionError(ERROR.FLOW_CONTROL_ERROR, "a stream window over 2^31-1");
          }
        }
      } else if (id === SETTING.MAX_FRAME_SIZE) {
        if (value < DEFAULT_MAX_FRAME || value > MAX_ALLOWED_FRAME) {
          return this.#connectionError(ERROR.PROTOCOL_ERROR, `SETTINGS_MAX_FRAME_SIZE of ${value}`);
        }
        this.#peerMaxFrame = value;
      } else if (id === SETTING.HEADER_TABLE_SIZE && value < this.#encoderTableSize) {
        // Our encoder never indexes, but a lower limit must still be signalled (RFC 7541 §4.2).
        this.#encoderTableSize = value;
        this.#tableSizeUpdate = value;
      }
      // Others are advisory.
    }
    this.#send(frame(FRAME.SETTINGS, FLAG_ACK, 0, new Uint8Array(0)));
    this.#sendPending();
  }

  #onWindowUpdate(streamId: number, payload: Uint8Array): void {
    if (payload.length !== 4) {
      return this.#connectionError(ERROR.FRAME_SIZE_ERROR, "WINDOW_UPDATE frame not of 4 bytes");
    }
    const increment = new DataView(payload.buffer, payload.byteOffset, 4).getUint32(0) & MAX_WINDOW;
    if (streamId === 0) {
      if (increment === 0) return this.#connectionError(ERROR.PROTOCOL_ERROR, "WINDOW_UPDATE of 0");
      this.#sendWindow += increment;
      if (this.#sendWindow > MAX_WINDOW) {
        return this.#connectionError(ERROR.FLOW_CONTROL_ERROR, "connection window over 2^31-1");
      }
    } else {
      const stream = this.#streams.get(streamId);
      if (!stream) {
        if (streamId > this.#lastStreamId) {
          return this.#connectionError(
            ERROR.PROTOCOL_ERROR,
            `WINDOW_UPDATE on idle stream ${streamId}`,
          );
        }
        return;
      }
      if (increment === 0) return this.#resetStream(streamId, ERROR.PROTOCOL_ERROR, stream);
      stream.sendWindow += increment;
      if (stream.sendWindow > MAX_WINDOW) {
        return this.#resetStream(streamId, ERROR.FLOW_CONTROL_ERROR, stream);
      }
    }
    this.#sendPending();
  }

  // ---- Calls

  async #admit(stream: Stream): Promise<void> {
    if (this.#closed || stream.closed || stream.asked) return;
    stream.asked = true;
    if (stream.call.path !== this.#options.path) {
      return this.#finish(stream, {
        code: GrpcStatus.UNIMPLEMENTED,
        message: `unknown method ${stream.call.path}`,
      });
    }
    let admission: Admission;
    try {
      admission = await this.#options.handler.admit(
        stream.call,
        stream.remoteEnded ? stream.received : undefined,
      );
    } catch (error) {
      admission = { code: GrpcStatus.INTERNAL, message: (error as Error).message };
    }
    if (!("release" in admission)) return this.#finish(stream, admission);
    if (stream.closed) return admission.release();
    stream.release = admission.release;
    stream.admitted = true;
    // The budget holds room for the whole message: let it come without more round trips.
    const room = Math.min(MAX_WINDOW, this.#options.maxMessageBytes + MESSAGE_PREFIX_BYTES) -
      stream.received;
    this.#grantStream(stream, room - stream.recvWindow);
    if (stream.remoteEnded) this.#dispatch(stream);
  }

  /**
   * Hands a call's whole request to the handler. Not async, so that nothing keeps the request's
   * bytes alive until the answer comes (the listener's calls wait for the server's commit).
   */
  #dispatch(stream: Stream): void {
    if (stream.closed || stream.dispatched) return;
    stream.dispatched = true;
    const message = this.#takeMessage(stream);
    if (!(message instanceof Uint8Array)) return this.#finish(stream, message);
    let answer: Promise<CallStatus & { reply?: Uint8Array }>;
    try {
      answer = this.#options.handler.handle(stream.call, message);
    } catch (error) {
      answer = Promise.reject(error);
    }
    Promise.resolve(answer).then(
      (result) => this.#finish(stream, result),
      (error) =>
        this.#finish(stream, { code: GrpcStatus.INTERNAL, message: (error as Error).message }),
    );
  }

  /** The request message of a call whose body has ended, or why it cannot be handled. */
  #takeMessage(stream: Stream): Uint8Array | CallStatus {
    const body = concatBytes(stream.chunks);
    stream.chunks = [];
    if (body.length < MESSAGE_PREFIX_BYTES) {
      return { code: GrpcStatus.UNIMPLEMENTED, message: "the request carries no message" };
    }
    if (body[0] !== 0) {
      // A compressed flag without a grpc-encoding (only identity gets here) is INTERNAL, as in
      // grpc-go and grpc-java.
      return {
        code: GrpcStatus.INTERNAL,
        message: "the message is flagged compressed without a grpc-encoding",
      };
    }
    const declared = declaredLength(body);
    if (body.length !== MESSAGE_PREFIX_BYTES + declared) {
      return {
        code: GrpcStatus.INTERNAL,
        message: `the request message is cut short (${body.length - 5} of ${declared} bytes)`,
      };
    }
    return body.subarray(MESSAGE_PREFIX_BYTES);
  }

  /**
   * Answers a call (unless it is over), then forgets it. `extraFields` go with a trailers-only
   * answer.
   */
  #finish(
    stream: Stream,
    status: CallStatus & { reply?: Uint8Array },
    httpStatus = "200",
    extraFields: readonly [string, string][] = [],
  ): void {
    if (stream.closed || this.#closed) return;
    const trailerFields: [string, string][] = [["grpc-status", String(status.code)]];
    if (status.message) trailerFields.push(["grpc-message", encodeGrpcMessage(status.message)]);
    if (stream.pending) {
      // The reply's HEADERS went out and its DATA waits for window (a deadline passed): the
      // trailers alone end it, with no pseudo-header, which trailers may not carry.
      stream.pending = undefined;
      this.#sendHeaderBlock(stream.id, true, trailerFields);
      this.#afterAnswer(stream);
    } else if (status.code === GrpcStatus.OK && status.reply) {
      this.#sendHeaderBlock(stream.id, false, [[":status", "200"], [
        "content-type",
        "application/grpc",
      ]]);
      const data = new Uint8Array(MESSAGE_PREFIX_BYTES + status.reply.length);
      new DataView(data.buffer).setUint32(1, status.reply.length);
      data.set(status.reply, MESSAGE_PREFIX_BYTES);
      stream.pending = { data, trailers: trailerFields };
      this.#sendStream(stream);
    } else {
      // Trailers-only (gRPC over HTTP/2): one header block ends the stream.
      this.#sendHeaderBlock(stream.id, true, [
        [":status", httpStatus],
        ["content-type", "application/grpc"],
        ...trailerFields,
        ...extraFields,
      ]);
      this.#afterAnswer(stream);
    }
  }

  /**
   * A header block as one HEADERS frame, led by a table size update when one is owed. Our blocks
   * never need CONTINUATION: the largest is a trailers-only answer with a grpc-message of at most
   * 4,096 characters, well under the 16,384 bytes every peer's frames may hold (RFC 9113 §4.2).
   */
  #sendHeaderBlock(
    streamId: number,
    endStream: boolean,
    fields: readonly (readonly [string, string])[],
  ): void {
    let block = encodeHeaderBlock(fields);
    if (this.#tableSizeUpdate !== undefined) {
      block = concatBytes([encodeTableSizeUpdate(this.#tableSizeUpdate), block]);
      this.#tableSizeUpdate = undefined;
    }
    const flags = FLAG_END_HEADERS | (endStream ? FLAG_END_STREAM : 0);
    this.#send(frame(FRAME.HEADERS, flags, streamId, block));
  }

  /** Sends a stream's pending reply as far as both windows allow. */
  #sendStream(stream: Stream): void {
    const pending = stream.pending;
    if (!pending) return;
    while (pending.data.length > 0) {
      const size = Math.min(
        pending.data.length,
        stream.sendWindow,
        this.#sendWindow,
        this.#peerMaxFrame,
      );
      if (size <= 0) return;
      this.#send(frame(FRAME.DATA, 0, stream.id, pending.data.subarray(0, size)));
      pending.data = pending.data.subarray(size);
      stream.sendWindow -= size;
      this.#sendWindow -= size;
    }
    stream.pending = undefined;
    this.#sendHeaderBlock(stream.id, true, pending.trailers);
    this.#afterAnswer(stream);
  }

  #sendPending(): void {
    for (const stream of this.#streams.values()) if (stream.pending) this.#sendStream(stream);
  }

  /**
   * Our side ended before the client's. The rest of its body is taken and dropped, up to a whole
   * message, as grpc-js did: RST_STREAM(NO_ERROR), which RFC 9113 §8.1 allows here, leaves Deno's
   * node:http2 client (and so grpc-js under Deno) waiting forever for the stream to close.
   */
  #afterAnswer(stream: Stream): void {
    if (!stream.remoteEnded) {
      if (this.#discarding.size >= MAX_DISCARDING) {
        // A client that leaves bodies hanging: the oldest is cut off.
        const [oldest] = this.#discarding.keys();
        this.#discarding.delete(oldest);
        this.#send(frame(FRAME.RST_STREAM, 0, oldest, uint32Payload(ERROR.CANCEL)));
      }
      this.#discarding.set(stream.id, {
        left: this.#options.maxMessageBytes + MESSAGE_PREFIX_BYTES - stream.received,
        unacknowledged: DEFAULT_WINDOW - stream.recvWindow,
      });
      this.#grantDiscarded(stream.id);
    }
    this.#close(stream);
  }

  /** Gives back the window of a stream whose data is being dropped. */
  #grantDiscarded(streamId: number): void {
    const discarding = this.#discarding.get(streamId)!;
    if (
      discarding.unacknowledged >= WINDOW_UPDATE_THRESHOLD || discarding.unacknowledged > 0 &&
        discarding.left <= DEFAULT_WINDOW
    ) {
      this.#send(frame(FRAME.WINDOW_UPDATE, 0, streamId, uint32Payload(discarding.unacknowledged)));
      discarding.unacknowledged = 0;
    }
  }

  #onDiscardedData(streamId: number, flags: number, length: number): void {
    const discarding = this.#discarding.get(streamId)!;
    discarding.left -= length;
    discarding.unacknowledged += length;
    if (flags & FLAG_END_STREAM) {
      this.#discarding.delete(streamId);
    } else if (discarding.left < 0) {
      this.#discarding.delete(streamId);
      this.#send(frame(FRAME.RST_STREAM, 0, streamId, uint32Payload(ERROR.CANCEL)));
    } else this.#grantDiscarded(streamId);
  }

  #resetStream(streamId: number, errorCode: number, stream = this.#streams.get(streamId)): void {
    this.#send(frame(FRAME.RST_STREAM, 0, streamId, uint32Payload(errorCode)));
    if (stream) this.#close(stream);
  }

  #close(stream: Stream): void {
    this.#forget(stream);
    this.#streams.delete(stream.id);
    if (this.#streams.size === 0) {
      this.idleSince = performance.now();
      if (this.#goingAway) this.#endSoon();
    }
  }

  #forget(stream: Stream): void {
    stream.closed = true;
    stream.chunks = [];
    stream.pending = undefined;
    stream.release?.();
    stream.release = undefined;
  }

  // ---- Writing

  #connectionError(errorCode: number, message: string): void {
    if (this.#closed) return;
    this.#options.onProtocolError?.(message);
    this.#send(frame(FRAME.GOAWAY, 0, 0, goawayPayload(this.#lastStreamId, errorCode, message)));
    this.#flush();
    this.#closed = true;
    this.#socket.end();
    // A peer that does not close its side is not waited for.
    setTimeout(() => this.#socket.destroy(), 1_000);
  }

  /** Everything sent, then the socket ends (after GOAWAY, once no call is left). */
  #endSoon(): void {
    if (this.#closed) return;
    this.#flush();
    this.#closed = true;
    this.#socket.end();
    setTimeout(() => this.#socket.destroy(), 1_000);
  }

  #send(bytes: Uint8Array): void {
    if (this.#closed) return;
    this.#outbox.push(bytes);
    if (this.#flushQueued) return;
    this.#flushQueued = true;
    queueMicrotask(() => this.#flush());
  }

  #flush(): void {
    this.#flushQueued = false;
    if (this.#outbox.length === 0 || this.#socket.destroyed) return;
    const bytes = concatBytes(this.#outbox);
    this.#outbox = [];
    this.#socket.write(bytes);
    if (this.#socket.writableLength > MAX_UNSENT_BYTES) this.destroy();
  }
}
