import type { Hono } from "hono";
import { settlesWithin } from "../../shared/deadline.ts";
import type { Logger } from "../../shared/log.ts";

export interface ServeApiOptions {
  hostname: string;
  /** 0 picks a free port; the chosen one is in the result. */
  port: number;
  /** Aborting it shuts the server down as `shutdown()` does. */
  signal?: AbortSignal;
  log: Logger;
}

export interface ApiServer {
  /** The port actually listened on. */
  port: number;
  /** Settles once the server has stopped. */
  finished: Promise<void>;
  /**
   * Stops accepting connections and resolves once in-flight requests are answered, or once
   * `graceMs` has passed (default: no limit), so a client that stops reading cannot hold up a
   * shutdown.
   */
  shutdown(graceMs?: number): Promise<void>;
}

/** Serves `app` with `Deno.serve`. */
export function serveApi(app: Hono, options: ServeApiOptions): ApiServer {
  const { hostname, port, signal, log } = options;
  const server = Deno.serve({
    hostname,
    port,
    signal,
    // Without it Deno prints "Listening on …" to stdout, which belongs to the CLI.
    onListen: () => {},
    // Hono's onError answers every route error; this only sees failures outside the app.
    onError: (error) => {
      log.error("http request failed outside the api app", { error });
      return Response.json({ error: "Internal server error", code: "internal" }, { status: 500 });
    },
  }, (request) => app.fetch(request));
  const actualPort = (server.addr as Deno.NetAddr).port;
  log.info("http api listening", { hostname, port: actualPort });
  let stopping: Promise<void> | undefined;
  return {
    port: actualPort,
    finished: server.finished,
    shutdown(graceMs) {
      stopping ??= server.shutdown().then(() => log.info("http api stopped", { port: actualPort }));
      if (graceMs === undefined) return stopping;
      return settlesWithin(stopping, graceMs).then((finished) => {
        if (finished) return stopping;
        log.warn("http api: requests still open after the grace period, not waiting for them", {
          port: actualPort,
          grace_ms: graceMs,
        });
      });
    },
  };
}
