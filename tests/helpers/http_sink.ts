/**
 * A real HTTP server on 127.0.0.1 (port 0) that records every request, for tests of code that
 * calls webhooks and gateways. `respond` decides each answer (default 200 "ok"), e.g. to fail the
 * first N requests or to hang.
 */

export interface SinkRequest {
  method: string;
  path: string;
  query: URLSearchParams;
  headers: Headers;
  body: string;
  /** `performance.now()` when it arrived. */
  atMs: number;
}

export interface HttpSink {
  /** Base URL, e.g. `http://127.0.0.1:41234`. */
  url: string;
  requests: SinkRequest[];
  /** Resolves once `count` requests have arrived; rejects after `timeoutMs` (default 5,000). */
  waitFor(count: number, timeoutMs?: number): Promise<void>;
  close(): Promise<void>;
}

export interface HttpSinkOptions {
  /** The answer to request number `index` (0-based). */
  respond?: (request: SinkRequest, index: number) => Response | Promise<Response>;
}

export function startHttpSink(options: HttpSinkOptions = {}): Promise<HttpSink> {
  const requests: SinkRequest[] = [];
  const waiters: { count: number; resolve: () => void }[] = [];
  const notify = () => {
    for (const waiter of [...waiters]) {
      if (requests.length >= waiter.count) {
        waiters.splice(waiters.indexOf(waiter), 1);
        waiter.resolve();
      }
    }
  };
  return new Promise((resolveStarted) => {
    const server = Deno.serve({
      hostname: "127.0.0.1",
      port: 0,
      onListen: ({ port }) => {
        resolveStarted({
          url: `http://127.0.0.1:${port}`,
          requests,
          waitFor(count, timeoutMs = 5_000) {
            if (requests.length >= count) return Promise.resolve();
            return new Promise((resolve, reject) => {
              const timer = setTimeout(() => {
                waiters.splice(waiters.indexOf(waiter), 1);
                reject(new Error(`expected ${count} requests, got ${requests.length}`));
              }, timeoutMs);
              const waiter = {
                count,
                resolve: () => {
                  clearTimeout(timer);
                  resolve();
                },
              };
              waiters.push(waiter);
            });
          },
          close: () => server.shutdown(),
        });
      },
    }, async (request) => {
      const url = new URL(request.url);
      const record: SinkRequest = {
        method: request.method,
        path: url.pathname,
        query: url.searchParams,
        headers: request.headers,
        body: await request.text(),
        atMs: performance.now(),
      };
      const index = requests.length;
      requests.push(record);
      notify();
      return options.respond ? await options.respond(record, index) : new Response("ok");
    });
  });
}
