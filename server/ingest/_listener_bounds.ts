/**
 * What the gRPC listener child needs besides grpc-js to stay bounded under hostile clients:
 * a global budget of request bytes in flight, a cap on connections with a deadline for the
 * first call, and TLS files that are read again on change or on request (renewals).
 *
 * These work on node:http2 / node:tls objects as grpc-js creates them, so they take plain
 * structural types here and this module imports no npm package.
 */
import { Buffer } from "node:buffer";

/**
 * Request bytes being read or waiting for the server, over every connection. A call reserves
 * the largest request it may send before its body is read; when that does not fit it waits
 * (first come, first served) up to `waitMs`, then is refused. The reservation is released when
 * the call ends, however it ends.
 */
export class InflightBudget {
  readonly #capacity: number;
  readonly #maxWaiting: number;
  #used = 0;
  readonly #waiting: { bytes: number; grant: () => void }[] = [];

  constructor(capacity: number, options: { maxWaiting?: number } = {}) {
    this.#capacity = capacity;
    this.#maxWaiting = options.maxWaiting ?? 1_000;
  }

  get used(): number {
    return this.#used;
  }

  get waiting(): number {
    return this.#waiting.length;
  }

  /**
   * Resolves with a release function once `bytes` fit, or with undefined when they did not fit
   * within `waitMs` (or too many calls already wait).
   */
  reserve(bytes: number, waitMs: number): Promise<(() => void) | undefined> {
    const amount = Math.min(bytes, this.#capacity);
    if (this.#waiting.length === 0 && this.#used + amount <= this.#capacity) {
      this.#used += amount;
      return Promise.resolve(this.#releaser(amount));
    }
    if (this.#waiting.length >= this.#maxWaiting || waitMs <= 0) return Promise.resolve(undefined);
    return new Promise((resolve) => {
      const entry = {
        bytes: amount,
        grant: () => {
          clearTimeout(timer);
          resolve(this.#releaser(amount));
        },
      };
      const timer = setTimeout(() => {
        const index = this.#waiting.indexOf(entry);
        if (index !== -1) this.#waiting.splice(index, 1);
        resolve(undefined);
      }, waitMs);
      this.#waiting.push(entry);
    });
  }

  #releaser(amount: number): () => void {
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.#used -= amount;
      this.#grantWaiting();
    };
  }

  #grantWaiting(): void {
    while (this.#waiting.length > 0) {
      const next = this.#waiting[0];
      if (this.#used + next.bytes > this.#capacity) return;
      this.#waiting.shift();
      this.#used += next.bytes;
      next.grant();
    }
  }
}

/** The parts of a node `net.Socket` the connection guard uses. */
interface GuardedSocket {
  remoteAddress?: string;
  remotePort?: number;
  destroy(): void;
  once(event: "close", listener: () => void): unknown;
}

/** The parts of a node `http2.Http2Server` (or secure server) the guard uses. */
export interface GuardedServer {
  prependListener(event: "connection", listener: (socket: GuardedSocket) => void): unknown;
  on(event: "session", listener: (session: GuardedSession) => void): unknown;
}

interface GuardedSession {
  socket?: { remoteAddress?: string; remotePort?: number };
  once(event: "stream", listener: () => void): unknown;
}

export interface ConnectionGuardStats {
  open: number;
  refused_over_limit: number;
  closed_before_first_call: number;
}

/**
 * Caps open connections (closing those over the cap at once) and closes a connection that has
 * not started a call `firstCallTimeoutMs` after it was accepted: a silent socket, a stalled TLS
 * handshake or an HTTP/2 preface that never comes.
 */
export class ConnectionGuard {
  readonly #max: number;
  readonly #firstCallTimeoutMs: number;
  readonly #pending = new Map<string, ReturnType<typeof setTimeout>>();
  #open = 0;
  #refused = 0;
  #timedOut = 0;

  constructor(options: { maxConnections: number; firstCallTimeoutMs: number }) {
    this.#max = options.maxConnections;
    this.#firstCallTimeoutMs = options.firstCallTimeoutMs;
  }

  stats(): ConnectionGuardStats {
    return {
      open: this.#open,
      refused_over_limit: this.#refused,
      closed_before_first_call: this.#timedOut,
    };
  }

  watch(server: GuardedServer): void {
    server.prependListener("connection", (socket) => {
      if (this.#open >= this.#max) {
        this.#refused++;
        socket.destroy();
        return;
      }
      this.#open++;
      const key = `${socket.remoteAddress}|${socket.remotePort}`;
      const timer = setTimeout(() => {
        this.#pending.delete(key);
        this.#timedOut++;
        socket.destroy();
      }, this.#firstCallTimeoutMs);
      this.#pending.set(key, timer);
      socket.once("close", () => {
        this.#open--;
        clearTimeout(this.#pending.get(key));
        this.#pending.delete(key);
      });
    });
    server.on("session", (session) => {
      const key = `${session.socket?.remoteAddress}|${session.socket?.remotePort}`;
      session.once("stream", () => {
        clearTimeout(this.#pending.get(key));
        this.#pending.delete(key);
      });
    });
  }

  /** Stops every first-call timer (shutdown). */
  close(): void {
    for (const timer of this.#pending.values()) clearTimeout(timer);
    this.#pending.clear();
  }
}

type Listener<T> = (update: T) => void;

/**
 * The TLS files as grpc-js' certificate provider interface takes them: the server's certificate
 * and key, and with mutual TLS the CA client certificates must chain to. `reload()` reads them
 * again; a pair that cannot be read keeps the previous one. Updates reach grpc-js on a later tick:
 * grpc-js registers its watcher after subscribing, so a synchronous first update would be lost.
 */
export class TlsFiles {
  readonly #files: { certFile: string; keyFile: string; clientCaFile?: string };
  readonly #onError: (error: unknown) => void;
  #identity?: { certificate: Buffer; privateKey: Buffer };
  #ca?: { caCertificate: Buffer };
  #stamp = "";
  readonly #identityListeners = new Set<Listener<{ certificate: Buffer; privateKey: Buffer }>>();
  readonly #caListeners = new Set<Listener<{ caCertificate: Buffer }>>();

  constructor(
    files: { certFile: string; keyFile: string; clientCaFile?: string },
    onError: (error: unknown) => void,
  ) {
    this.#files = files;
    this.#onError = onError;
  }

  /** Reads the files; throws when the first read fails (the listener cannot start). */
  async load(): Promise<void> {
    const { certFile, keyFile, clientCaFile } = this.#files;
    const [certificate, privateKey, ca] = await Promise.all([
      Deno.readFile(certFile),
      Deno.readFile(keyFile),
      clientCaFile ? Deno.readFile(clientCaFile) : Promise.resolve(undefined),
    ]);
    this.#identity = { certificate: Buffer.from(certificate), privateKey: Buffer.from(privateKey) };
    if (ca) this.#ca = { caCertificate: Buffer.from(ca) };
    this.#stamp = await this.#currentStamp();
  }

  /** Reads the files again and hands them to grpc-js; false (logged) when they cannot be read. */
  async reload(): Promise<boolean> {
    try {
      await this.load();
    } catch (error) {
      this.#onError(error);
      return false;
    }
    const identity = this.#identity!;
    const ca = this.#ca;
    setTimeout(() => {
      for (const listener of this.#identityListeners) listener(identity);
      if (ca) { for (const listener of this.#caListeners) listener(ca); }
    }, 0);
    return true;
  }

  /** Reloads when a file's size or modification time changed since the last read. */
  async reloadIfChanged(): Promise<boolean> {
    const stamp = await this.#currentStamp();
    if (stamp === this.#stamp) return false;
    return await this.reload();
  }

  async #currentStamp(): Promise<string> {
    const { certFile, keyFile, clientCaFile } = this.#files;
    const parts: string[] = [];
    for (const path of [certFile, keyFile, clientCaFile]) {
      if (!path) continue;
      try {
        const info = await Deno.stat(path);
        parts.push(`${info.mtime?.getTime()}:${info.size}`);
      } catch {
        parts.push("missing");
      }
    }
    return parts.join("|");
  }

  /** The identity provider grpc-js takes. */
  identityProvider() {
    return this.#provider(false);
  }

  /** The CA provider grpc-js takes (mutual TLS). */
  caProvider() {
    return this.#provider(true);
  }

  #provider(ca: boolean) {
    const later = (run: () => void) => setTimeout(run, 0);
    return {
      addIdentityCertificateListener: (
        listener: Listener<{ certificate: Buffer; privateKey: Buffer }>,
      ) => {
        if (ca) return;
        this.#identityListeners.add(listener);
        const identity = this.#identity;
        if (identity) later(() => listener(identity));
      },
      removeIdentityCertificateListener: (
        listener: Listener<{ certificate: Buffer; privateKey: Buffer }>,
      ) => void this.#identityListeners.delete(listener),
      addCaCertificateListener: (listener: Listener<{ caCertificate: Buffer }>) => {
        if (!ca) return;
        this.#caListeners.add(listener);
        const current = this.#ca;
        if (current) later(() => listener(current));
      },
      removeCaCertificateListener: (listener: Listener<{ caCertificate: Buffer }>) =>
        void this.#caListeners.delete(listener),
    };
  }
}

/** The agent ids a verified client certificate names: its CN, then its DNS names. */
export function certificateNames(
  certificate: { subject?: { CN?: string | string[] }; subjectaltname?: string } | undefined,
): string[] {
  if (!certificate) return [];
  const names: string[] = [];
  const cn = certificate.subject?.CN;
  for (const name of Array.isArray(cn) ? cn : cn ? [cn] : []) names.push(name);
  for (const entry of (certificate.subjectaltname ?? "").split(",")) {
    const match = /^\s*DNS:(.+?)\s*$/.exec(entry);
    if (match && !names.includes(match[1])) names.push(match[1]);
  }
  // Bounded: an id is at most 1,024 characters, and a certificate names a few hosts.
  return names.filter((name) => name.length <= 1024).slice(0, 32);
}
