/**
 * The HTTP listener's front: accepts TCP (or TLS) connections on the public address and relays
 * them to the app's `Deno.serve`, which listens on a Unix socket in a private directory.
 *
 * Why: `Deno.serve` (Deno 2.9.6) has no header, handshake or idle timeout — measured, a silent
 * socket, one that sent half a request and an idle keep-alive one all stayed open 150 s and
 * more, so a few hundred slowloris sockets hold the server's file descriptors forever. The front
 * closes a connection whose request headers (or TLS handshake) take longer than
 * `headerTimeoutMs`, one with no byte either way for `idleTimeoutMs`, and refuses connections
 * beyond `maxConnections`. It terminates TLS itself (`Deno.listenTls`), so it can see where
 * request headers end, and reloads the certificate when its files change or on `reloadTls()`
 * (SIGHUP): once the new pair is known to work, the listener is opened again on the same port;
 * connections already open keep their certificate.
 *
 * Request headers are found by their blank line (`\r\n\r\n`); a new request on a kept-alive
 * connection starts when the client sends again after the response began. A body that happens
 * to hold a blank line only ends the header timer early: correct clients are never cut.
 */
import { delay } from "../../shared/deadline.ts";
import type { Logger } from "../../shared/log.ts";

export interface TlsFiles {
  certFile: string;
  keyFile: string;
}

export interface HttpFrontOptions {
  hostname: string;
  /** 0 picks a free port; the chosen one is `port` after `start()`. */
  port: number;
  /** Where the app's `Deno.serve` listens. */
  upstreamPath: string;
  tls?: TlsFiles;
  headerTimeoutMs: number;
  idleTimeoutMs: number;
  maxConnections: number;
  /** How often certificate files are checked for a change. Default 10,000 ms. */
  certCheckMs?: number;
  log: Logger;
}

export interface HttpFrontStats {
  open: number;
  accepted: number;
  refused_over_limit: number;
  closed_header_timeout: number;
  closed_idle: number;
  tls_failures: number;
  tls_reloads: number;
}

const HEADER_END = [13, 10, 13, 10];

interface Connection {
  client: Deno.Conn;
  upstream?: Deno.Conn;
  /** Awaiting (the rest of) request headers since `headerSinceMs`. */
  awaitingHeaders: boolean;
  headerSinceMs: number;
  /** The server has answered since the last request headers ended. */
  responded: boolean;
  /** How many bytes of the header terminator the last chunk ended with. */
  matched: number;
  lastActivityMs: number;
  closed: boolean;
}

/** How long a reload keeps trying to listen on its port again while the old listener lets go. */
const RELISTEN_MS = 5_000;

export class HttpFront {
  readonly #options: HttpFrontOptions;
  readonly #log: Logger;
  #listener?: Deno.Listener;
  #port = 0;
  #connections = new Set<Connection>();
  #sweeper?: ReturnType<typeof setInterval>;
  #certWatcher?: ReturnType<typeof setInterval>;
  #certStamp = "";
  #reloading: Promise<unknown> = Promise.resolve();
  #closing = false;
  #loops = new Set<Promise<void>>();
  #handlers = new Set<Promise<void>>();
  readonly #stats: HttpFrontStats = {
    open: 0,
    accepted: 0,
    refused_over_limit: 0,
    closed_header_timeout: 0,
    closed_idle: 0,
    tls_failures: 0,
    tls_reloads: 0,
  };

  constructor(options: HttpFrontOptions) {
    this.#options = options;
    this.#log = options.log;
  }

  get port(): number {
    return this.#port;
  }

  stats(): HttpFrontStats {
    return { ...this.#stats, open: this.#connections.size };
  }

  /** Binds the public address; throws when it cannot (port in use, bad certificate). */
  async start(): Promise<number> {
    const listener = await this.#listen(this.#options.port);
    this.#port = (listener.addr as Deno.NetAddr).port;
    this.#serve(listener);
    const tick = Math.max(50, Math.min(1000, this.#options.headerTimeoutMs / 4));
    this.#sweeper = setInterval(() => this.#sweep(), tick);
    if (this.#options.tls) {
      this.#certStamp = await this.#stamp();
      this.#certWatcher = setInterval(async () => {
        const stamp = await this.#stamp();
        if (stamp !== this.#certStamp && !this.#closing) {
          this.#certStamp = stamp;
          await this.reloadTls();
        }
      }, this.#options.certCheckMs ?? 10_000);
    }
    return this.#port;
  }

  /**
   * Re-reads the certificate and key and serves new connections with them. A file that cannot
   * be read or used is logged and the certificate in use is kept. Reloads run one at a time (the
   * file watcher and SIGHUP may ask at once).
   */
  reloadTls(): Promise<boolean> {
    const reload = this.#reloading.then(() => this.#reloadNow());
    this.#reloading = reload.catch(() => false);
    return reload;
  }

  async #reloadNow(): Promise<boolean> {
    if (!this.#options.tls || this.#closing || !this.#listener) return false;
    // The files are tried on a throw-away listener first: a bad pair leaves the old one serving.
    try {
      const probe = await this.#listen(0, "127.0.0.1");
      probe.close();
    } catch (error) {
      this.#log.error("https: certificate reload failed; keeping the current one", { error });
      return false;
    }
    // Deno.listenTls takes SO_REUSEPORT only behind --unstable-net: the old listener closes
    // first, and connections arriving in the next milliseconds are refused (clients retry).
    try {
      this.#listener.close();
    } catch {
      // Closed by a reload that could not listen again.
    }
    // The port is free only once the old listener's pending accept has ended, which a busy
    // event loop gets to some milliseconds later: a single try found it in use under load
    // and left the front listening nowhere.
    const deadline = Date.now() + RELISTEN_MS;
    for (let waitMs = 5;; waitMs = Math.min(waitMs * 2, 200)) {
      try {
        const listener = await this.#listen(this.#port);
        if (this.#closing) {
          listener.close();
          return false;
        }
        this.#serve(listener);
        break;
      } catch (error) {
        if (error instanceof Deno.errors.AddrInUse && Date.now() < deadline && !this.#closing) {
          await delay(waitMs);
          continue;
        }
        this.#log.error("https: cannot listen again after a certificate reload", { error });
        // The watcher tries again on its next check.
        this.#certStamp = "";
        return false;
      }
    }
    this.#stats.tls_reloads++;
    this.#log.info("https certificate reloaded", { cert_file: this.#options.tls.certFile });
    return true;
  }

  /** Closes the public address; connections already open go on. */
  stopAccepting(): Promise<void> {
    this.#closing = true;
    clearInterval(this.#certWatcher);
    try {
      this.#listener?.close();
    } catch {
      // Already closed.
    }
    return Promise.allSettled([...this.#loops]).then(() => {});
  }

  /**
   * Stops accepting and closes every connection, after letting relays finish for up to
   * `graceMs` (default: none). Once the app behind has shut down, its side of every relay is
   * closed, so what it answered still reaches the client within the grace.
   */
  async close(graceMs = 0): Promise<void> {
    await this.stopAccepting();
    for (const connection of this.#connections) {
      if (!connection.upstream) this.#end(connection);
    }
    const deadline = Date.now() + graceMs;
    while (this.#connections.size > 0 && Date.now() < deadline) {
      await delay(10);
    }
    clearInterval(this.#sweeper);
    for (const connection of this.#connections) this.#end(connection);
    await Promise.allSettled([...this.#loops, ...this.#handlers]);
  }

  async #stamp(): Promise<string> {
    const { certFile, keyFile } = this.#options.tls!;
    try {
      const [cert, key] = await Promise.all([Deno.stat(certFile), Deno.stat(keyFile)]);
      return `${cert.mtime?.getTime()}:${cert.size}:${key.mtime?.getTime()}:${key.size}`;
    } catch {
      return this.#certStamp;
    }
  }

  async #listen(port: number, hostname = this.#options.hostname): Promise<Deno.Listener> {
    const { tls } = this.#options;
    if (!tls) return Deno.listen({ hostname, port });
    const [cert, key] = await Promise.all([
      Deno.readTextFile(tls.certFile),
      Deno.readTextFile(tls.keyFile),
    ]);
    // HTTP/1.1 only: the front reads request headers as HTTP/1.1 frames them.
    return Deno.listenTls({ hostname, port, cert, key, alpnProtocols: ["http/1.1"] });
  }

  #serve(listener: Deno.Listener): void {
    this.#listener = listener;
    const loop = (async () => {
      while (true) {
        let client: Deno.Conn;
        try {
          client = await listener.accept();
        } catch {
          return; // Closed (shutdown or replaced by a reload).
        }
        this.#stats.accepted++;
        if (this.#closing || this.#connections.size >= this.#options.maxConnections) {
          if (!this.#closing) this.#stats.refused_over_limit++;
          closeQuietly(client);
          continue;
        }
        const handler = this.#handle(client);
        this.#handlers.add(handler);
        handler.finally(() => this.#handlers.delete(handler));
      }
    })();
    this.#loops.add(loop);
    loop.finally(() => this.#loops.delete(loop));
  }

  async #handle(client: Deno.Conn): Promise<void> {
    const now = Date.now();
    const connection: Connection = {
      client,
      awaitingHeaders: true,
      headerSinceMs: now,
      responded: false,
      matched: 0,
      lastActivityMs: now,
      closed: false,
    };
    this.#connections.add(connection);
    // A relay writes what it reads at once: Nagle's algorithm would hold a response's second
    // write for the client's delayed ACK (40 ms).
    try {
      (client as Deno.TcpConn).setNoDelay?.(true);
    } catch {
      // Not a TCP socket.
    }
    try {
      if (this.#options.tls) {
        try {
          await (client as Deno.TlsConn).handshake();
        } catch {
          // A plain-text client, a wrong host name, or the header timeout closing us.
          if (!connection.closed) this.#stats.tls_failures++;
          return;
        }
      }
      if (connection.closed) return;
      try {
        connection.upstream = await Deno.connect({
          transport: "unix",
          path: this.#options.upstreamPath,
        });
      } catch (error) {
        this.#log.error("http front: the app is unreachable", { error });
        return;
      }
      if (connection.closed) return;
      await Promise.all([
        this.#pump(connection, client, connection.upstream, true),
        this.#pump(connection, connection.upstream, client, false),
      ]);
    } finally {
      this.#end(connection);
    }
  }

  async #pump(
    connection: Connection,
    from: Deno.Conn,
    to: Deno.Conn,
    fromClient: boolean,
  ): Promise<void> {
    const buffer = new Uint8Array(16 * 1024);
    try {
      while (!connection.closed) {
        const read = await from.read(buffer);
        if (read === null) break;
        const chunk = buffer.subarray(0, read);
        connection.lastActivityMs = Date.now();
        if (fromClient) this.#sawRequestBytes(connection, chunk);
        else if (!connection.awaitingHeaders) connection.responded = true;
        let written = 0;
        while (written < chunk.length) written += await to.write(chunk.subarray(written));
      }
    } catch {
      // Reset by either side, or closed by a timeout.
    }
    // Half-close is not relayed: either side finishing ends the connection.
    this.#end(connection);
  }

  #sawRequestBytes(connection: Connection, chunk: Uint8Array): void {
    if (!connection.awaitingHeaders) {
      if (!connection.responded) return; // More of the current request (its body).
      connection.awaitingHeaders = true;
      connection.responded = false;
      connection.matched = 0;
      connection.headerSinceMs = Date.now();
    }
    let matched = connection.matched;
    for (let i = 0; i < chunk.length; i++) {
      const byte = chunk[i];
      if (byte === HEADER_END[matched]) matched++;
      else matched = byte === 13 ? 1 : 0;
      if (matched === 4) {
        connection.awaitingHeaders = false;
        connection.matched = 0;
        return;
      }
    }
    connection.matched = matched;
  }

  #sweep(): void {
    const now = Date.now();
    const { headerTimeoutMs, idleTimeoutMs } = this.#options;
    for (const connection of this.#connections) {
      // Between requests of a kept-alive connection only the idle timeout applies.
      if (connection.awaitingHeaders && now - connection.headerSinceMs > headerTimeoutMs) {
        this.#stats.closed_header_timeout++;
        this.#end(connection);
      } else if (now - connection.lastActivityMs > idleTimeoutMs) {
        this.#stats.closed_idle++;
        this.#end(connection);
      }
    }
  }

  #end(connection: Connection): void {
    if (connection.closed) return;
    connection.closed = true;
    this.#connections.delete(connection);
    closeQuietly(connection.client);
    if (connection.upstream) closeQuietly(connection.upstream);
  }
}

function closeQuietly(resource: { close(): void }): void {
  try {
    resource.close();
  } catch {
    // Already closed.
  }
}
