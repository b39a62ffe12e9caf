import assert from "node:assert/strict";
import { Hono } from "hono";
import { memoryLogger, silentLogger } from "../../shared/log.ts";
import { serveApi } from "../api/serve.ts";
import { makeTestCerts } from "../../tests/helpers/pki.ts";
import { closedWithin } from "../../tests/helpers/closed_within.ts";

const app = new Hono().get("/ping", (c) => c.text("pong"));

/**
 * Runs `openssl s_client` against the port and returns the served certificate's serial, or
 * undefined when the connection failed (e.g. during the reload's re-listen).
 */
async function servedSerial(port: number, caFile: string): Promise<string | undefined> {
  const client = await new Deno.Command("openssl", {
    args: [
      "s_client",
      "-connect",
      `127.0.0.1:${port}`,
      "-servername",
      "localhost",
      "-CAfile",
      caFile,
      "-verify_return_error",
    ],
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output(); // deno-fmt-ignore
  const pem = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/.exec(
    new TextDecoder().decode(client.stdout),
  )?.[0];
  if (!pem) return undefined;
  const x509 = new Deno.Command("openssl", {
    args: ["x509", "-noout", "-serial"],
    stdin: "piped",
    stdout: "piped",
  }).spawn();
  const writer = x509.stdin.getWriter();
  await writer.write(new TextEncoder().encode(pem));
  await writer.close();
  return new TextDecoder().decode((await x509.output()).stdout).trim();
}

Deno.test("HTTPS answers a client that trusts the CA, refuses plain text and wrong trust, and takes a renewed certificate without a restart", async () => {
  const certs = await makeTestCerts();
  const certFile = `${certs.dir}/live.crt`;
  const keyFile = `${certs.dir}/live.key`;
  await Deno.copyFile(certs.server.cert, certFile);
  await Deno.copyFile(certs.server.key, keyFile);
  const log = memoryLogger();
  const server = await serveApi(app, {
    hostname: "127.0.0.1",
    port: 0,
    log,
    tls: { certFile, keyFile },
    certCheckMs: 100,
  });
  const trusting = Deno.createHttpClient({ caCerts: [await Deno.readTextFile(certs.caFile)] });
  const otherTrust = Deno.createHttpClient({
    caCerts: [await Deno.readTextFile(certs.otherCaFile)],
  });
  try {
    assert.equal(server.scheme, "https");
    const response = await fetch(`https://localhost:${server.port}/ping`, { client: trusting });
    assert.equal(await response.text(), "pong");

    await t_rejects(fetch(`https://localhost:${server.port}/ping`, { client: otherTrust }));
    await t_rejects(fetch(`http://127.0.0.1:${server.port}/ping`));

    assert.equal(await servedSerial(server.port, certs.caFile), await certs.serialOf(certFile));
    // Renewal: the files change in place; the front notices within its check interval.
    await Deno.copyFile(certs.serverRenewed.key, keyFile);
    await Deno.copyFile(certs.serverRenewed.cert, certFile);
    const renewed = await certs.serialOf(certs.serverRenewed.cert);
    // Checked every 100 ms; the deadline is for a loaded machine (each probe runs openssl twice).
    const deadline = Date.now() + 20_000;
    while ((await servedSerial(server.port, certs.caFile)) !== renewed) {
      assert.ok(Date.now() < deadline, "the renewed certificate was not served within 20 s");
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    assert.ok(log.lines.some((line) => line.includes("https certificate reloaded")));
    const again = await fetch(`https://localhost:${server.port}/ping`, { client: trusting });
    assert.equal(await again.text(), "pong");
    assert.ok(server.stats().tls_failures >= 1, "the plain-text client counts as a TLS failure");
  } finally {
    trusting.close();
    otherTrust.close();
    await server.shutdown();
    await certs.remove();
  }
});

async function t_rejects(promise: Promise<Response>): Promise<void> {
  let response: Response | undefined;
  try {
    response = await promise;
  } catch {
    return;
  }
  await response.body?.cancel();
  assert.fail(`expected the request to fail, got HTTP ${response.status}`);
}

Deno.test("200 idle, silent and half-sent sockets are closed by the header and idle timeouts while requests still work", async () => {
  const server = await serveApi(app, {
    hostname: "127.0.0.1",
    port: 0,
    log: silentLogger,
    headerTimeoutMs: 1_000,
    idleTimeoutMs: 2_000,
  });
  const sockets: { conn: Deno.Conn; kind: string }[] = [];
  const encoder = new TextEncoder();
  try {
    for (let i = 0; i < 200; i++) {
      const conn = await Deno.connect({ hostname: "127.0.0.1", port: server.port });
      const kind = i % 3 === 0 ? "silent" : i % 3 === 1 ? "half" : "kept-alive";
      if (kind === "half") await conn.write(encoder.encode("GET /ping HTTP/1.1\r\nHost: x\r\n"));
      if (kind === "kept-alive") {
        await conn.write(encoder.encode("GET /ping HTTP/1.1\r\nHost: localhost\r\n\r\n"));
      }
      sockets.push({ conn, kind });
    }
    // A well-behaved client is served while the sockets are open.
    const response = await fetch(`http://127.0.0.1:${server.port}/ping`);
    assert.equal(await response.text(), "pong");
    const waits = await Promise.all(sockets.map(({ conn }) => closedWithin(conn, 8_000)));
    const longest = (kind: string) => Math.max(...waits.filter((_, i) => sockets[i].kind === kind));
    // Header timeout 1 s (checked every 250 ms); idle 2 s.
    assert.ok(longest("silent") < 3_000, `silent sockets lasted ${longest("silent")} ms`);
    assert.ok(longest("half") < 3_000, `half-sent requests lasted ${longest("half")} ms`);
    assert.ok(longest("kept-alive") < 5_000, `kept-alive lasted ${longest("kept-alive")} ms`);
    const stats = server.stats();
    assert.equal(stats.open, 0);
    assert.ok(stats.closed_header_timeout >= 133, JSON.stringify(stats));
    assert.ok(stats.closed_idle >= 60, JSON.stringify(stats));
  } finally {
    for (const { conn } of sockets) {
      try {
        conn.close();
      } catch {
        // Closed by the server.
      }
    }
    await server.shutdown();
  }
});

Deno.test("connections beyond max_connections are closed at once", async () => {
  const server = await serveApi(app, {
    hostname: "127.0.0.1",
    port: 0,
    log: silentLogger,
    maxConnections: 3,
  });
  const held: Deno.Conn[] = [];
  try {
    for (let i = 0; i < 3; i++) {
      held.push(await Deno.connect({ hostname: "127.0.0.1", port: server.port }));
    }
    // Let the front take the three before the fourth arrives.
    while (server.stats().open < 3) await new Promise((resolve) => setTimeout(resolve, 10));
    const extra = await Deno.connect({ hostname: "127.0.0.1", port: server.port });
    await closedWithin(extra, 2_000);
    extra.close();
    assert.equal(server.stats().refused_over_limit, 1);
  } finally {
    for (const conn of held) conn.close();
    await server.shutdown();
  }
});
