import assert from "node:assert/strict";
import { makeTestPki } from "../../tests/helpers/pki.ts";
import { join } from "node:path";
import { fetchTransport, runHttpCheck } from "./http.ts";
import { CheckTimeoutError } from "./_errors.ts";
import { DEFAULT_EXPECTED_STATUS, parseStatusRange } from "./config.ts";
import type { HttpCheckSpec } from "./spec.ts";

function spec(url: string, overrides: Partial<HttpCheckSpec> = {}): HttpCheckSpec {
  return {
    name: "t",
    type: "http",
    intervalSecs: 60,
    timeoutSecs: 5,
    url,
    method: "GET",
    headers: {},
    expectedStatus: DEFAULT_EXPECTED_STATUS,
    tlsVerify: true,
    followRedirects: true,
    ...overrides,
  };
}

/** A real HTTP server on 127.0.0.1 with the routes the tests need. */
function startServer(options: { cert?: string; key?: string } = {}) {
  const release = Promise.withResolvers<void>();
  const seen: { path: string; method: string; header: string | null; body: string }[] = [];
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen() {}, ...options },
    async (request) => {
      const url = new URL(request.url);
      seen.push({
        path: url.pathname,
        method: request.method,
        header: request.headers.get("x-probe"),
        body: await request.text(),
      });
      switch (url.pathname) {
        case "/ok":
          return new Response("status: all good");
        case "/down":
          return new Response("maintenance", { status: 503, statusText: "Service Unavailable" });
        case "/moved":
          return Response.redirect(new URL("/ok", url), 302);
        case "/loop":
          return Response.redirect(new URL("/loop", url), 302);
        case "/hang":
          // Answers only when the client goes away.
          await new Promise((resolve) => request.signal.addEventListener("abort", resolve));
          return new Response("late");
        default:
          return new Response("no", { status: 404 });
      }
    },
  );
  const port = server.addr.port;
  return {
    port,
    seen,
    base: `http://127.0.0.1:${port}`,
    shutdown: () => {
      release.resolve();
      return server.shutdown();
    },
  };
}

Deno.test("http check: up on an expected status, down naming the status otherwise", async () => {
  const { shutdown, base, seen } = startServer();
  const { transport, close } = fetchTransport();
  const signal = new AbortController().signal;
  try {
    const up = await runHttpCheck(spec(`${base}/ok`, { headers: { "x-probe": "oxmon" } }), {
      signal,
      transport,
    });
    assert.equal(up.up, true);
    assert.equal(up.statusCode, 200);
    assert.equal(up.message, "200 OK");
    assert.ok(up.durationMs > 0 && up.durationMs < 5_000);
    assert.equal(seen[0].header, "oxmon", "configured headers are sent");

    const down = await runHttpCheck(spec(`${base}/down`), { signal, transport });
    assert.equal(down.up, false);
    assert.equal(down.statusCode, 503);
    assert.equal(down.message, "status 503 Service Unavailable is not 2xx");

    const accepted = await runHttpCheck(
      spec(`${base}/down`, {
        expectedStatus: [parseStatusRange("200-299")!, parseStatusRange(503)!],
      }),
      { signal, transport },
    );
    assert.equal(accepted.up, true, "503 listed as expected");

    const posted = await runHttpCheck(
      spec(`${base}/ok`, { method: "POST", body: '{"ping":1}' }),
      { signal, transport },
    );
    assert.equal(posted.up, true);
    assert.deepEqual(seen.at(-1), {
      path: "/ok",
      method: "POST",
      header: null,
      body: '{"ping":1}',
    });
  } finally {
    close();
    await shutdown();
  }
});

Deno.test("http check: body substring and regex are checked against the response", async () => {
  const { shutdown, base } = startServer();
  const { transport, close } = fetchTransport();
  const signal = new AbortController().signal;
  try {
    const hit = await runHttpCheck(
      spec(`${base}/ok`, { bodyContains: "all good", bodyRegex: "^status: \\w+" }),
      { signal, transport },
    );
    assert.equal(hit.up, true);
    const miss = await runHttpCheck(spec(`${base}/ok`, { bodyContains: "healthy" }), {
      signal,
      transport,
    });
    assert.deepEqual([miss.up, miss.message], [false, 'body does not contain "healthy"']);
    const noMatch = await runHttpCheck(spec(`${base}/ok`, { bodyRegex: "^ok$" }), {
      signal,
      transport,
    });
    assert.deepEqual([noMatch.up, noMatch.message], [false, "body does not match /^ok$/"]);
  } finally {
    close();
    await shutdown();
  }
});

Deno.test("http check: redirects are followed unless follow_redirects is false, and loops end", async () => {
  const { shutdown, base } = startServer();
  const { transport, close } = fetchTransport();
  const signal = new AbortController().signal;
  try {
    const followed = await runHttpCheck(spec(`${base}/moved`), { signal, transport });
    assert.deepEqual([followed.up, followed.statusCode], [true, 200]);
    const kept = await runHttpCheck(spec(`${base}/moved`, { followRedirects: false }), {
      signal,
      transport,
    });
    assert.deepEqual([kept.up, kept.statusCode], [false, 302]);
    const loop = await runHttpCheck(spec(`${base}/loop`), { signal, transport });
    assert.deepEqual([loop.up, loop.message], [false, "more than 10 redirects"]);
  } finally {
    close();
    await shutdown();
  }
});

Deno.test("http check: a refused connection and a timeout are failures with the reason", async () => {
  const { shutdown, base } = startServer();
  const closed = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const closedPort = closed.addr.port;
  closed.close();
  const { transport, close } = fetchTransport();
  try {
    const refused = await runHttpCheck(spec(`http://127.0.0.1:${closedPort}/`), {
      signal: new AbortController().signal,
      transport,
    });
    assert.equal(refused.up, false);
    assert.match(refused.message, /refused/i);
    assert.equal(refused.statusCode, undefined);

    const timeout = new AbortController();
    const timer = setTimeout(() => timeout.abort(new CheckTimeoutError(300)), 300);
    const hung = await runHttpCheck(spec(`${base}/hang`), { signal: timeout.signal, transport });
    clearTimeout(timer);
    assert.deepEqual([hung.up, hung.message], [false, "timed out after 300 ms"]);
    assert.ok(hung.durationMs >= 250 && hung.durationMs < 2_000, `took ${hung.durationMs} ms`);
  } finally {
    close();
    await shutdown();
  }
});

Deno.test("http check over https: a private CA is trusted through tls_ca_file, an unknown one fails", async () => {
  const pki = await makeTestPki();
  const { shutdown, port } = startServer({ cert: pki.valid.cert, key: pki.valid.key });
  const { transport, close } = fetchTransport();
  const signal = new AbortController().signal;
  try {
    const url = `https://localhost:${port}/ok`;
    const trusted = await runHttpCheck(spec(url, { tlsCaFile: pki.caFile }), { signal, transport });
    assert.deepEqual([trusted.up, trusted.statusCode], [true, 200]);
    const untrusted = await runHttpCheck(spec(url), { signal, transport });
    assert.equal(untrusted.up, false);
    assert.match(untrusted.message, /certificate|UnknownIssuer/i);
    const missing = await runHttpCheck(spec(url, { tlsCaFile: join(pki.dir, "nope.pem") }), {
      signal,
      transport,
    });
    assert.equal(missing.up, false);
    assert.match(missing.message, /cannot read tls_ca_file/);
  } finally {
    close();
    await shutdown();
    await pki.remove();
  }
});
