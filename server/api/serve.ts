import type { Hono } from "hono";
import { join } from "node:path";
import { settlesWithin } from "../../shared/deadline.ts";
import type { Logger } from "../../shared/log.ts";
import { HttpFront, type HttpFrontStats, type TlsFiles } from "../http/front.ts";

export interface ServeApiOptions {
  hostname: string;
  /** 0 picks a free port; the chosen one is in the result. */
  port: number;
  /** Aborting it shuts the server down as `shutdown()` does. */
  signal?: AbortSignal;
  log: Logger;
  /** Serve HTTPS with this certificate (reloaded when the files change, or `reloadTls()`). */
  tls?: TlsFiles;
  /** Request headers (and the TLS handshake) must arrive within this. Default 10,000 ms. */
  headerTimeoutMs?: number;
  /** A connection with no byte either way for this long is closed. Default 60,000 ms. */
  idleTimeoutMs?: number;
  /** Connections beyond this are closed at once. Default 1,024. */
  maxConnections?: number;
  /** How often the certificate files are checked for a change. Default 10,000 ms. */
  certCheckMs?: number;
}

export interface ApiServer {
  /** The port actually listened on. */
  port: number;
  /** `"https"` with `tls`. */
  scheme: "http" | "https";
  /** Settles once the server has stopped. */
  finished: Promise<void>;
  /**
   * Stops accepting connections and resolves once in-flight requests are answered, or once
   * `graceMs` has passed (default: no limit), so a client that stops reading cannot hold up a
   * shutdown.
   */
  shutdown(graceMs?: number): Promise<void>;
  /** Re-reads the TLS certificate and key (SIGHUP); false when not HTTPS or they are unusable. */
  reloadTls(): Promise<boolean>;
  /** Connection counters of the front (timeouts, refusals). */
  stats(): HttpFrontStats;
}

/**
 * Serves `app` with `Deno.serve` on a private Unix socket behind an `HttpFront` that owns the
 * public address, TLS and the connection timeouts (see `server/http/front.ts` for why).
 */
export async function serveApi(app: Hono, options: ServeApiOptions): Promise<ApiServer> {
  const { hostname, port, signal, log } = options;
  // makeTempDir creates it 0700: nobody else can reach the app behind the front.
  const socketDir = await Deno.makeTempDir({ prefix: "oxmon-http-" });
  const upstreamPath = join(socketDir, "api.sock");
  const inner = Deno.serve({
    path: upstreamPath,
    // Without it Deno prints "Listening on …" to stdout, which belongs to the CLI.
    onListen: () => {},
    // Hono's onError answers every route error; this only sees failures outside the app.
    onError: (error) => {
      log.error("http request failed outside the api app", { error });
      return Response.json({ error: "Internal server error", code: "internal" }, { status: 500 });
    },
  }, (request) => app.fetch(request));
  const front = new HttpFront({
    hostname,
    port,
    upstreamPath,
    tls: options.tls,
    headerTimeoutMs: options.headerTimeoutMs ?? 10_000,
    idleTimeoutMs: options.idleTimeoutMs ?? 60_000,
    maxConnections: options.maxConnections ?? 1024,
    certCheckMs: options.certCheckMs,
    log,
  });
  let actualPort: number;
  try {
    actualPort = await front.start();
  } catch (error) {
    await inner.shutdown();
    await Deno.remove(socketDir, { recursive: true }).catch(() => {});
    throw error;
  }
  const scheme = options.tls ? "https" : "http";
  log.info("http api listening", { hostname, port: actualPort, scheme });

  let stopping: Promise<void> | undefined;
  const stop = () =>
    stopping ??= (async () => {
      await front.stopAccepting();
      await inner.shutdown();
      log.info("http api stopped", { port: actualPort });
    })();
  const finished = (async () => {
    await inner.finished;
    await front.close(1_000);
    await Deno.remove(socketDir, { recursive: true }).catch(() => {});
  })();
  signal?.addEventListener("abort", () => void stop(), { once: true });
  return {
    port: actualPort,
    scheme,
    finished,
    async shutdown(graceMs) {
      const stopped = stop();
      if (graceMs !== undefined && !(await settlesWithin(stopped, graceMs))) {
        log.warn("http api: requests still open after the grace period, not waiting for them", {
          port: actualPort,
          grace_ms: graceMs,
        });
        // Ends the relays, so Deno.serve's connections end and its shutdown completes.
        await front.close();
        return;
      }
      await stopped;
      // The app has answered and closed its side: let the relays deliver the last bytes.
      await front.close(1_000);
    },
    reloadTls: () => front.reloadTls(),
    stats: () => front.stats(),
  };
}
