/**
 * What the gRPC listener child needs besides HTTP/2 to stay bounded under hostile clients:
 * a global budget of request bytes in flight, a cap on connections with a deadline for the
 * first call, and TLS files that are read again on change or on request (renewals).
 *
 * These take plain structural types for the node:net / node:tls sockets they watch.
 */

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
export interface GuardedSocket {
  destroy(): void;
  once(event: "close", listener: () => void): unknown;
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
  readonly #pending = new Set<ReturnType<typeof setTimeout>>();
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

  /**
   * Takes a socket just accepted: closes it when over the cap (and returns undefined), else
   * returns what to call once its first call starts.
   */
  accept(socket: GuardedSocket): (() => void) | undefined {
    if (this.#open >= this.#max) {
      this.#refused++;
      socket.destroy();
      return undefined;
    }
    this.#open++;
    const timer = setTimeout(() => {
      this.#pending.delete(timer);
      this.#timedOut++;
      socket.destroy();
    }, this.#firstCallTimeoutMs);
    this.#pending.add(timer);
    const started = () => {
      clearTimeout(timer);
      this.#pending.delete(timer);
    };
    socket.once("close", () => {
      this.#open--;
      started();
    });
    return started;
  }

  /** Stops every first-call timer (shutdown). */
  close(): void {
    for (const timer of this.#pending) clearTimeout(timer);
    this.#pending.clear();
  }
}

/** PEM text of the TLS files, as node:tls takes them. */
export interface TlsMaterial {
  cert: string;
  key: string;
  /** With mutual TLS: the CA client certificates must chain to. */
  ca?: string;
}

/**
 * The TLS files of the listener: the server's certificate and key, and with mutual TLS the CA
 * client certificates must chain to. `reload()` reads them again; a set that cannot be read
 * keeps the previous one.
 */
export class TlsFiles {
  readonly #files: { certFile: string; keyFile: string; clientCaFile?: string };
  readonly #onError: (error: unknown) => void;
  #material?: TlsMaterial;
  #stamp = "";

  constructor(
    files: { certFile: string; keyFile: string; clientCaFile?: string },
    onError: (error: unknown) => void,
  ) {
    this.#files = files;
    this.#onError = onError;
  }

  /** What was read last; `load()` must have succeeded. */
  get material(): TlsMaterial {
    return this.#material!;
  }

  /** Reads the files; throws when the read fails (the listener cannot start). */
  async load(): Promise<void> {
    const { certFile, keyFile, clientCaFile } = this.#files;
    const [cert, key, ca] = await Promise.all([
      Deno.readTextFile(certFile),
      Deno.readTextFile(keyFile),
      clientCaFile ? Deno.readTextFile(clientCaFile) : Promise.resolve(undefined),
    ]);
    this.#material = ca === undefined ? { cert, key } : { cert, key, ca };
    this.#stamp = await this.#currentStamp();
  }

  /** Reads the files again; false (reported to `onError`) when they cannot be read. */
  async reload(): Promise<boolean> {
    try {
      await this.load();
      return true;
    } catch (error) {
      this.#onError(error);
      return false;
    }
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
