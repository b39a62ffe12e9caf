import assert from "node:assert/strict";
import { Hono } from "hono";
import { deadline } from "../../shared/deadline.ts";
import { memoryLogger, silentLogger } from "../../shared/log.ts";
import { serveApi } from "./serve.ts";

Deno.test("serveApi listens on the port it was given, 0 picking a free one", async () => {
  const log = memoryLogger();
  const server = await serveApi(new Hono().get("/ping", (c) => c.text("pong")), {
    hostname: "127.0.0.1",
    port: 0,
    log,
  });
  try {
    assert.ok(server.port > 0);
    const response = await fetch(`http://127.0.0.1:${server.port}/ping`);
    assert.equal(await response.text(), "pong");
    assert.ok(log.lines.some((line) => line.includes(`port=${server.port}`)));
  } finally {
    await server.shutdown();
  }
  await server.finished;
});

Deno.test("shutdown finishes in-flight requests and then refuses new ones", async () => {
  let release!: () => void;
  const released = new Promise<void>((resolve) => (release = resolve));
  let entered!: () => void;
  const handlerEntered = new Promise<void>((resolve) => (entered = resolve));
  const app = new Hono().get("/slow", async (c) => {
    entered();
    await released;
    return c.text("done");
  });
  const server = await serveApi(app, { hostname: "127.0.0.1", port: 0, log: silentLogger });
  const url = `http://127.0.0.1:${server.port}/slow`;
  const inFlight = fetch(url);
  await handlerEntered;
  let stopped = false;
  const stopping = server.shutdown().then(() => (stopped = true));
  // Give the shutdown every chance to (wrongly) complete while the request is still open.
  await new Promise((resolve) => setTimeout(resolve, 50));
  assert.equal(stopped, false);
  release();
  const response = await inFlight;
  assert.equal(response.status, 200);
  assert.equal(await response.text(), "done");
  await stopping;
  assert.equal(stopped, true);
  await assert.rejects(fetch(url));
});

Deno.test("aborting the signal stops the server", async () => {
  const controller = new AbortController();
  const server = await serveApi(new Hono(), {
    hostname: "127.0.0.1",
    port: 0,
    signal: controller.signal,
    log: silentLogger,
  });
  const response = await fetch(`http://127.0.0.1:${server.port}/none`);
  assert.equal(response.status, 404);
  await response.body?.cancel();
  controller.abort();
  await server.finished;
  await assert.rejects(fetch(`http://127.0.0.1:${server.port}/none`));
});

Deno.test("shutdown with a grace period does not wait for a client that stops reading", async () => {
  const log = memoryLogger();
  // Far more than the socket buffers hold, so the response stays in flight.
  const body = new Uint8Array(64 * 1024 * 1024);
  const server = await serveApi(new Hono().get("/big", (c) => c.body(body)), {
    hostname: "127.0.0.1",
    port: 0,
    log,
  });
  const conn = await Deno.connect({ hostname: "127.0.0.1", port: server.port });
  try {
    await conn.write(new TextEncoder().encode("GET /big HTTP/1.1\r\nHost: test\r\n\r\n"));
    // Read the first bytes only, so the response has surely started; then stop reading.
    await conn.read(new Uint8Array(1024));
    const outcome = await deadline(server.shutdown(200).then(() => "returned"), 5_000);
    assert.equal(outcome, "returned");
    assert.ok(log.lines.some((line) => line.includes("grace period")));
  } finally {
    conn.close();
  }
  await server.finished;
});
