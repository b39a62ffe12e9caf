/**
 * No test file opens a grpc-js or `node:http2` session — server or client — inside the `deno
 * test` process: under Deno 2.9.6 one can abort its process inside nghttp2 (TOOLCHAIN.md,
 * denoland/deno#36788), and `deno test --parallel` runs all test files in one process, so one
 * crash ends the whole run without a summary. Tests reach gRPC peers in child processes:
 * `agent/_test_server.ts`, `tests/helpers/grpc_client.ts`, `tests/helpers/http2_client.ts`, and
 * the real server's listener child.
 */
import assert from "node:assert/strict";
import { findInProcessHttp2, findTestFiles } from "./helpers/in_process_http2.ts";

const ROOT = new URL("../", import.meta.url);

/** Modules that use a session API but only in a child process, and why. */
const RUN_IN_A_CHILD: Record<string, string> = {
  "server/ingest/listener.ts":
    "the gRPC listener: runListener runs only in the listener child (server/main.ts " +
    "--grpc-listener, or the file run as main); tests import its settings parser",
};

const describe = (found: Awaited<ReturnType<typeof findInProcessHttp2>>) =>
  found.map(({ testFile, module, api }) => `${testFile} → ${module}: ${api}`).sort();

Deno.test("no test file opens a grpc-js or node:http2 server or client in the test process", async () => {
  const testFiles = await findTestFiles(ROOT);
  assert.ok(testFiles.includes("agent/agent_test.ts"), testFiles.join(", "));
  const found = await findInProcessHttp2(ROOT, testFiles, {
    exempt: Object.keys(RUN_IN_A_CHILD),
  });
  assert.deepEqual(
    describe(found),
    [],
    "run the peer in a child process, as tests/helpers/grpc_client.ts does",
  );
});

Deno.test("findInProcessHttp2 finds servers and clients, not status codes, types or comments", async () => {
  const dir = await Deno.makeTempDir({ prefix: "oxmon-in-process-fixtures-" });
  const fixtures: Record<string, string> = {
    "named_test.ts": `import { Server } from "@grpc/grpc-js";\nnew Server();\n`,
    "namespace_test.ts": `import * as grpc from "@grpc/grpc-js";\nnew grpc.Server();\n`,
    "dynamic_test.ts": `const grpc = await import("@grpc/grpc-js");\n` +
      `grpc.ServerCredentials.createInsecure();\n`,
    "http2_test.ts": `import http2 from "node:http2";\nhttp2.createSecureServer({});\n`,
    "grpc_client_test.ts":
      `import { makeGenericClientConstructor as make } from "@grpc/grpc-js";\n` +
      `export const Client = make({}, "MetricService");\n`,
    "http2_client_test.ts": `import http2, { constants } from "node:http2";\n` +
      `http2.connect("http://127.0.0.1:1", { settings: constants });\n`,
    "via_helper_test.ts": `import { serve } from "./_helper.ts";\nserve();\n`,
    "_helper.ts": `import { createServer } from "node:http2";\n` +
      `export const serve = () => createServer();\n`,
    "harmless_test.ts": `import { status, type Client } from "@grpc/grpc-js";\n` +
      `import type { Server } from "@grpc/grpc-js";\n` +
      `/** A Server, a Client and http2.connect in a comment. */\n` +
      `export const use = (_client?: Client, _server?: Server) => ` +
      `[status.OK, Deno.connect({ port: 1 })];\n`,
    "exempt_test.ts": `import "./_child.ts";\n`,
    "_child.ts": `import { Server } from "@grpc/grpc-js";\n` +
      `if (import.meta.main) new Server();\n`,
  };
  try {
    for (const [name, source] of Object.entries(fixtures)) {
      await Deno.writeTextFile(`${dir}/${name}`, source);
    }
    const root = new URL(`file://${dir}/`);
    const testFiles = await findTestFiles(root);
    assert.equal(testFiles.length, 9, testFiles.join(", "));
    const found = await findInProcessHttp2(root, testFiles, {
      config: new URL("deno.json", ROOT).pathname,
      exempt: ["_child.ts"],
    });
    assert.deepEqual(describe(found), [
      "dynamic_test.ts → dynamic_test.ts: @grpc/grpc-js ServerCredentials",
      "grpc_client_test.ts → grpc_client_test.ts: @grpc/grpc-js makeGenericClientConstructor",
      "http2_client_test.ts → http2_client_test.ts: node:http2 connect",
      "http2_test.ts → http2_test.ts: node:http2 createSecureServer",
      "named_test.ts → named_test.ts: @grpc/grpc-js Server",
      "namespace_test.ts → namespace_test.ts: @grpc/grpc-js Server",
      "via_helper_test.ts → _helper.ts: node:http2 createServer",
    ]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
