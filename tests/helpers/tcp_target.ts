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
