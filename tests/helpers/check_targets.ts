/** Targets the check tests probe: an HTTPS server and a TCP port, on 127.0.0.1. */
import type { CertPair } from "./pki.ts";

/** An HTTPS server answering "ok" with `pair` on `port` (0: a free one); `stop` may repeat. */
export function serveHttps(pair: CertPair, port = 0): { port: number; stop(): Promise<void> } {
  const server = Deno.serve(
    { hostname: "127.0.0.1", port, cert: pair.cert, key: pair.key, onListen() {} },
    () => new Response("ok"),
  );
  let stopping: Promise<void> | undefined;
  return { port: server.addr.port, stop: () => stopping ??= server.shutdown() };
}

/**
 * A TCP port on 127.0.0.1 that accepts (and at once closes) connections until `close`: a target
 * the TCP checks reach. `port` 0 takes a free one; a port closed earlier can be taken again.
 */
export function listenTcp(port = 0): { port: number; close(): Promise<void> } {
  const listener = Deno.listen({ hostname: "127.0.0.1", port });
  const accepting = (async () => {
    for await (const conn of listener) conn.close();
  })();
  let closed = false;
  return {
    port: listener.addr.port,
    async close() {
      if (!closed) listener.close();
      closed = true;
      await accepting.catch(() => {});
    },
  };
}
