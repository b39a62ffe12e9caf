/**
 * The protocol between the gRPC listener child and the server, over a Unix domain socket the
 * server listens on and the child connects to. Every frame is `u32 body length | u8 type | fields`, big-endian, payloads raw (no JSON, no
 * base64): a 1,000-point batch costs one copy and nine bytes of header plus its metadata.
 *
 *   child → parent  READY     u16 port
 *   child → parent  REQUEST   u32 id | u16 n | authorization (n bytes UTF-8) | u16 m | agent-id
 *                             | u16 c | certificate names (UTF-8, one per line) | payload
 *   child → parent  AUTH      u32 id | the same three metadata fields, no payload: may a call
 *                             with these headers send its body? (asked before the body is read)
 *   parent → child  RESPONSE  u32 id | u8 grpc status | message (UTF-8, rest of the frame)
 *   parent → child  AUTH_RESULT  as RESPONSE; OK lets the call's body be read
 *   parent → child  DRAIN     (empty) stop accepting calls, finish those in flight, exit 0
 *   parent → child  RELOAD    (empty) read the TLS certificate files again
 *
 * Certificate names are those of a client certificate the TLS layer verified (mutual TLS).
 */
import { concatBytes } from "../../shared/http2/frames.ts";

export const FrameType = {
  READY: 1,
  REQUEST: 2,
  RESPONSE: 3,
  DRAIN: 4,
  AUTH: 5,
  AUTH_RESULT: 6,
  RELOAD: 7,
} as const;

/** Bigger than any batch the gRPC server accepts; a larger length means a corrupt stream. */
export const MAX_FRAME_BYTES = 64 * 1024 * 1024;
const MAX_U16 = 0xffff;

export interface RequestFrame {
  type: typeof FrameType.REQUEST;
  id: number;
  authorization: string;
  agentId: string;
  /** Verified client certificate names (mutual TLS); empty otherwise. */
  certificateNames: string[];
  payload: Uint8Array;
}

export interface AuthFrame {
  type: typeof FrameType.AUTH;
  id: number;
  authorization: string;
  agentId: string;
  certificateNames: string[];
}

export type Frame =
  | { type: typeof FrameType.READY; port: number }
  | RequestFrame
  | AuthFrame
  | {
    type: typeof FrameType.RESPONSE | typeof FrameType.AUTH_RESULT;
    id: number;
    code: number;
    message: string;
  }
  | { type: typeof FrameType.DRAIN }
  | { type: typeof FrameType.RELOAD };

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** UTF-8 bytes of a metadata string, cut to what a u16 length can carry. */
function shortText(text: string): Uint8Array {
  const bytes = encoder.encode(text);
  return bytes.length > MAX_U16 ? bytes.subarray(0, MAX_U16) : bytes;
}

function frame(bodyLength: number): { bytes: Uint8Array; view: DataView } {
  const bytes = new Uint8Array(4 + bodyLength);
  const view = new DataView(bytes.buffer);
  view.setUint32(0, bodyLength);
  return { bytes, view };
}

export function encodeReady(port: number): Uint8Array {
  const { bytes, view } = frame(3);
  bytes[4] = FrameType.READY;
  view.setUint16(5, port);
  return bytes;
}

function encodeCall(
  type: typeof FrameType.REQUEST | typeof FrameType.AUTH,
  id: number,
  authorization: string,
  agentId: string,
  certificateNames: readonly string[],
  payload: Uint8Array,
): Uint8Array {
  const auth = shortText(authorization);
  const agent = shortText(agentId);
  const names = shortText(certificateNames.join("\n"));
  const { bytes, view } = frame(
    1 + 4 + 2 + auth.length + 2 + agent.length + 2 + names.length + payload.length,
  );
  let at = 4;
  bytes[at++] = type;
  view.setUint32(at, id);
  at += 4;
  for (const field of [auth, agent, names]) {
    view.setUint16(at, field.length);
    bytes.set(field, at + 2);
    at += 2 + field.length;
  }
  bytes.set(payload, at);
  return bytes;
}

export function encodeRequest(
  id: number,
  authorization: string,
  agentId: string,
  payload: Uint8Array,
  certificateNames: readonly string[] = [],
): Uint8Array {
  return encodeCall(FrameType.REQUEST, id, authorization, agentId, certificateNames, payload);
}

/** Asks the parent whether a call with these headers may send its body. */
export function encodeAuth(
  id: number,
  authorization: string,
  agentId: string,
  certificateNames: readonly string[] = [],
): Uint8Array {
  return encodeCall(
    FrameType.AUTH,
    id,
    authorization,
    agentId,
    certificateNames,
    new Uint8Array(),
  );
}

export function encodeAuthResult(id: number, code: number, message: string): Uint8Array {
  const bytes = encodeResponse(id, code, message);
  bytes[4] = FrameType.AUTH_RESULT;
  return bytes;
}

export function encodeReload(): Uint8Array {
  const { bytes } = frame(1);
  bytes[4] = FrameType.RELOAD;
  return bytes;
}

export function encodeResponse(id: number, code: number, message: string): Uint8Array {
  const text = encoder.encode(message);
  const { bytes, view } = frame(1 + 4 + 1 + text.length);
  bytes[4] = FrameType.RESPONSE;
  view.setUint32(5, id);
  bytes[9] = code;
  bytes.set(text, 10);
  return bytes;
}

/** Several RESPONSE frames in one buffer, so they reach the child in one write. */
export function encodeResponses(
  responses: readonly { id: number; code: number; message: string }[],
): Uint8Array {
  return concatBytes(responses.map(({ id, code, message }) => encodeResponse(id, code, message)));
}

export function encodeDrain(): Uint8Array {
  const { bytes } = frame(1);
  bytes[4] = FrameType.DRAIN;
  return bytes;
}

function decodeBody(body: Uint8Array): Frame {
  const view = new DataView(body.buffer, body.byteOffset, body.byteLength);
  const need = (length: number) => {
    if (body.length < length) {
      throw new RangeError(`Cannot decode a type ${body[0]} frame: truncated body`);
    }
  };
  need(1);
  switch (body[0]) {
    case FrameType.READY:
      need(3);
      return { type: FrameType.READY, port: view.getUint16(1) };
    case FrameType.REQUEST:
    case FrameType.AUTH: {
      need(5);
      const id = view.getUint32(1);
      let at = 5;
      const fields: string[] = [];
      for (let i = 0; i < 3; i++) {
        need(at + 2);
        const length = view.getUint16(at);
        need(at + 2 + length);
        fields.push(decoder.decode(body.subarray(at + 2, at + 2 + length)));
        at += 2 + length;
      }
      const [authorization, agentId, names] = fields;
      const certificateNames = names === "" ? [] : names.split("\n");
      if (body[0] === FrameType.AUTH) {
        return { type: FrameType.AUTH, id, authorization, agentId, certificateNames };
      }
      return {
        type: FrameType.REQUEST,
        id,
        authorization,
        agentId,
        certificateNames,
        payload: body.subarray(at),
      };
    }
    case FrameType.RESPONSE:
    case FrameType.AUTH_RESULT:
      need(6);
      return {
        type: body[0],
        id: view.getUint32(1),
        code: body[5],
        message: decoder.decode(body.subarray(6)),
      };
    case FrameType.DRAIN:
      return { type: FrameType.DRAIN };
    case FrameType.RELOAD:
      return { type: FrameType.RELOAD };
    default:
      throw new RangeError(`Cannot decode a frame: unknown type ${body[0]}`);
  }
}

/**
 * Reassembles frames from the chunks a socket delivers. Frames returned by `push` own their bytes
 * (they stay valid after later pushes); those of `pushBorrowed` do not.
 */
export class FrameReader {
  #buffer = new Uint8Array(64 * 1024);
  #start = 0;
  #end = 0;

  /** The frames completed by `chunk`; each owns its bytes. */
  push(chunk: Uint8Array): Frame[] {
    return this.#frames(chunk, true);
  }

  /**
   * As `push`, but a request's payload is a view of the reader's buffer, valid only until the
   * next push: for a caller done with the frames by then. The server handles a read's requests
   * (hundreds at a fleet's rate) in one synchronous turn before it reads again; a copy of each
   * lived through that turn's young collections into the old generation, and at 3,000 agents
   * ~90 MB of dead copies built up there between full collections (fleet bench).
   */
  pushBorrowed(chunk: Uint8Array): Frame[] {
    return this.#frames(chunk, false);
  }

  #frames(chunk: Uint8Array, copy: boolean): Frame[] {
    this.#append(chunk);
    const frames: Frame[] = [];
    while (this.#end - this.#start >= 4) {
      const view = new DataView(this.#buffer.buffer, this.#start, 4);
      const length = view.getUint32(0);
      if (length > MAX_FRAME_BYTES) {
        throw new RangeError(`Cannot read a frame of ${length} bytes: at most ${MAX_FRAME_BYTES}`);
      }
      if (this.#end - this.#start < 4 + length) break;
      const bodyStart = this.#start + 4;
      const body = copy
        ? this.#buffer.slice(bodyStart, bodyStart + length)
        : this.#buffer.subarray(bodyStart, bodyStart + length);
      frames.push(decodeBody(body));
      this.#start = bodyStart + length;
    }
    if (this.#start === this.#end) this.#start = this.#end = 0;
    return frames;
  }

  #append(chunk: Uint8Array): void {
    const pending = this.#end - this.#start;
    if (this.#end + chunk.length > this.#buffer.length) {
      if (pending + chunk.length <= this.#buffer.length) {
        this.#buffer.copyWithin(0, this.#start, this.#end);
      } else {
        let size = this.#buffer.length * 2;
        while (size < pending + chunk.length) size *= 2;
        const grown = new Uint8Array(size);
        grown.set(this.#buffer.subarray(this.#start, this.#end));
        this.#buffer = grown;
      }
      this.#start = 0;
      this.#end = pending;
    }
    this.#buffer.set(chunk, this.#end);
    this.#end += chunk.length;
  }
}

/** Where `FrameWriter` writes: a `Deno.Conn`, or anything that may write part of a buffer. */
export interface FrameSink {
  write(bytes: Uint8Array): Promise<number>;
}

/** A `FrameWriter`'s buffers start at this size. */
const WRITER_BUFFER_BYTES = 64 * 1024;
/** A buffer grown past this (for a large request) is dropped once written, not kept. */
const WRITER_KEEP_BYTES = 1024 * 1024;

/**
 * Writes frames in order, one write in flight at a time: frames written meanwhile are copied
 * into a second buffer that goes out whole in the next write, so the peer reads many in one go
 * (the server then commits them as a group) and a busy moment costs one system call, not one per
 * frame. The two buffers are reused: queuing the frames themselves and joining them per write
 * kept every frame of a busy moment alive into the old generation (the listener's ~3,000 frames
 * a second at 3,000 agents). A failed write drops everything queued and calls `onError` once:
 * the peer is gone.
 */
export class FrameWriter {
  readonly #sink: FrameSink;
  readonly #onError: (error: unknown) => void;
  #filling: Uint8Array = new Uint8Array(WRITER_BUFFER_BYTES);
  #filled = 0;
  /** The buffer of the last write, for the next one; undefined while a write is in flight. */
  #spare: Uint8Array | undefined = new Uint8Array(WRITER_BUFFER_BYTES);
  #flushing?: Promise<void>;
  #failed = false;

  constructor(sink: FrameSink, onError: (error: unknown) => void = () => {}) {
    this.#sink = sink;
    this.#onError = onError;
  }

  write(frame: Uint8Array): void {
    if (this.#failed) return;
    if (this.#filled === 0 && frame.length > WRITER_KEEP_BYTES) {
      // A large request goes out as it is, not copied; a later frame goes to a new buffer (the
      // frame is full), and it is not kept once written.
      this.#filling = frame;
      this.#filled = frame.length;
      this.#flushing ??= this.#flush();
      return;
    }
    const needed = this.#filled + frame.length;
    if (needed > this.#filling.length) {
      const grown = new Uint8Array(Math.max(needed, this.#filling.length * 2));
      grown.set(this.#filling.subarray(0, this.#filled));
      this.#filling = grown;
    }
    this.#filling.set(frame, this.#filled);
    this.#filled = needed;
    this.#flushing ??= this.#flush();
  }

  /** Resolves once everything queued so far is written, or the connection has failed. */
  flushed(): Promise<void> {
    return this.#flushing ?? Promise.resolve();
  }

  async #flush(): Promise<void> {
    try {
      while (this.#filled > 0) {
        const bytes = this.#filling;
        const length = this.#filled;
        this.#filling = this.#spare ?? new Uint8Array(WRITER_BUFFER_BYTES);
        this.#spare = undefined;
        this.#filled = 0;
        for (let at = 0; at < length;) at += await this.#sink.write(bytes.subarray(at, length));
        this.#spare = bytes.length <= WRITER_KEEP_BYTES ? bytes : undefined;
      }
    } catch (error) {
      this.#failed = true;
      this.#filled = 0;
      this.#onError(error);
    } finally {
      this.#flushing = undefined;
    }
  }
}

/** First argument that makes the server program run as the gRPC listener child. */
export const LISTENER_FLAG = "--grpc-listener";
/** Environment variable carrying the listener's settings as JSON. */
export const LISTENER_ENV = "OXMON_GRPC_LISTENER";

/** What the supervisor tells the listener child. */
export interface ListenerSettings {
  host: string;
  /** The Unix domain socket the server listens on for this child; the child connects to it. */
  socketPath: string;
  /** 0 picks a free port; the child reports the bound one in its READY frame. */
  port: number;
  /** grpc-js `max_receive_message_length`. Default 16 MiB. */
  maxMessageBytes?: number;
  /** The child's log level (its lines go to stderr, which the parent relays). Default "warn". */
  logLevel?: "debug" | "info" | "warn" | "error";
  /** Serve TLS with these files; with `clientCaFile`, mutual TLS. Default: plain text. */
  tls?: { certFile: string; keyFile: string; clientCaFile?: string };
  /** Ask the parent to authenticate each call from its headers before its body is read. */
  authenticateHeaders?: boolean;
  /** Bounds applied before bodies are read; defaults in `DEFAULT_LISTENER_BOUNDS`. */
  bounds?: Partial<ListenerBounds>;
}

/** The listener's resource bounds (see `[grpc]` in the server config). */
export interface ListenerBounds {
  maxConnections: number;
  maxConcurrentStreams: number;
  maxInflightBytes: number;
  inflightWaitMs: number;
  idleTimeoutMs: number;
  keepaliveTimeMs: number;
  keepaliveTimeoutMs: number;
  /** A connection must start its first call within this (TLS handshake included). */
  handshakeTimeoutMs: number;
  /** How often the TLS files are checked for a change. */
  certCheckMs: number;
}

export const DEFAULT_LISTENER_BOUNDS: Readonly<ListenerBounds> = Object.freeze({
  maxConnections: 1_000,
  maxConcurrentStreams: 16,
  maxInflightBytes: 64 * 1024 * 1024,
  inflightWaitMs: 5_000,
  idleTimeoutMs: 300_000,
  keepaliveTimeMs: 60_000,
  keepaliveTimeoutMs: 20_000,
  handshakeTimeoutMs: 10_000,
  certCheckMs: 10_000,
});
