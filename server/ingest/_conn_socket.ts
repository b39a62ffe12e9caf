/**
 * A `Deno.Conn` with the few parts of a node `net.Socket` an HTTP/2 session uses. Plain-text
 * connections of the gRPC listener use it instead of node:net, for memory: each connection reads
 * into one buffer of its own of `readBufferBytes`, reused for every read. At 3,000 agents node:net
 * sockets held about twice the listener's resident memory (measured: notes/i10-load.md).
 */
import type { SessionSocket } from "./_http2_server.ts";

type Listener = (arg?: unknown) => void;

export class ConnSocket implements SessionSocket {
  readonly #conn: Deno.Conn;
  readonly #listeners = new Map<string, Listener[]>();
  #queue: Uint8Array[] = [];
  #writing = false;
  #ending = false;
  #closed = false;
  writableLength = 0;

  constructor(conn: Deno.Conn, options: { readBufferBytes?: number } = {}) {
    this.#conn = conn;
    // Read once a listener can hear it: the constructor's caller adds them right after.
    queueMicrotask(() => this.#readLoop(options.readBufferBytes ?? 8_192));
  }

  get destroyed(): boolean {
    return this.#closed;
  }

  setNoDelay(noDelay = true): void {
    try {
      (this.#conn as Deno.TcpConn).setNoDelay?.(noDelay);
    } catch {
      // Closed meanwhile.
    }
  }

  on(event: string, listener: (arg: never) => void): this {
    const list = this.#listeners.get(event) ?? [];
    list.push(listener as Listener);
    this.#listeners.set(event, list);
    return this;
  }

  once(event: string, listener: (arg: never) => void): this {
    const wrapped: Listener = (arg) => {
      const list = this.#listeners.get(event) ?? [];
      list.splice(list.indexOf(wrapped), 1);
      (listener as Listener)(arg);
    };
    return this.on(event, wrapped);
  }

  write(bytes: Uint8Array): boolean {
    if (this.#closed || this.#ending) return false;
    this.#queue.push(bytes);
    this.writableLength += bytes.length;
    if (!this.#writing) this.#pump();
    return true;
  }

  /** Sends what is queued, then ends our side; the socket closes when the peer ends its own. */
  end(): void {
    if (this.#ending || this.#closed) return;
    this.#ending = true;
    if (!this.#writing) this.#finishWriting();
  }

  destroy(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#queue = [];
    try {
      this.#conn.close();
    } catch {
      // Already closed.
    }
    for (const listener of [...this.#listeners.get("close") ?? []]) listener();
  }

  #emit(event: string, arg?: unknown): void {
    for (const listener of [...this.#listeners.get(event) ?? []]) listener(arg);
  }

  async #readLoop(size: number): Promise<void> {
    const buffer = new Uint8Array(size);
    try {
      while (!this.#closed) {
        const read = await this.#conn.read(buffer);
        if (read === null) break;
        this.#emit("data", buffer.subarray(0, read));
      }
    } catch (error) {
      if (!this.#closed) this.#emit("error", error);
    }
    this.destroy();
  }

  async #pump(): Promise<void> {
    this.#writing = true;
    try {
      while (this.#queue.length > 0 && !this.#closed) {
        const parts = this.#queue;
        this.#queue = [];
        let bytes = parts[0];
        if (parts.length > 1) {
          bytes = new Uint8Array(parts.reduce((sum, part) => sum + part.length, 0));
          let at = 0;
          for (const part of parts) {
            bytes.set(part, at);
            at += part.length;
          }
        }
        for (let at = 0; at < bytes.length;) at += await this.#conn.write(bytes.subarray(at));
        this.writableLength -= bytes.length;
      }
    } catch {
      return this.destroy();
    } finally {
      this.#writing = false;
    }
    if (this.#ending) this.#finishWriting();
  }

  #finishWriting(): void {
    try {
      (this.#conn as Deno.TcpConn).closeWrite();
    } catch {
      this.destroy();
    }
  }
}
