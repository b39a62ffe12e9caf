/**
 * No test file loads grpc-js or `node:http2` into the `deno test` process: under Deno 2.9.6 an
 * HTTP/2 session of either can abort its process inside nghttp2 (TOOLCHAIN.md,
 * denoland/deno#36788), and `deno test --parallel` runs all test files in one process, so one
 * crash ends the whole run without a summary. Tests reach gRPC peers in child processes
 * (`tests/helpers/recording_grpc_server.ts`, `grpc_client.ts`, `http2_client.ts`, the real
 * server's listener child) and take status codes from `shared/wire`'s `GrpcStatus`.
 */
import assert from "node:assert/strict";
import {
  findInProcessHttp2,
  findTestFiles,
  type InProcessHttp2,
} from "./helpers/in_process_http2.ts";

const ROOT = new URL("../", import.meta.url);

const describe = (found: InProcessHttp2[]) =>
  found.map(({ testFile, module, loads, dynamic }) =>
    `${testFile} → ${module}: ${loads}${dynamic ? " (dynamic)" : ""}`
  ).sort();

Deno.test("no test file loads grpc-js or node:http2 in the test process", async () => {
  const testFiles = await findTestFiles(ROOT);
  assert.ok(testFiles.includes("agent/agent_test.ts"), testFiles.join(", "));
  // The listener child speaks HTTP/2 itself (server/ingest/_http2_server.ts): even the modules
  // it runs load neither, so nothing is exempt.
  assert.deepEqual(
    describe(await findInProcessHttp2(ROOT, testFiles)),
    [],
    "run the peer in a child process, as tests/helpers/grpc_client.ts does",
  );
});

Deno.test("findInProcessHttp2 finds static, dynamic and indirect loads, not type-only imports", async () => {
  const dir = await Deno.makeTempDir({ prefix: "oxmon-in-process-fixtures-" });
  const fixtures: Record<string, string> = {
    "named_test.ts": `import { Server } from "@grpc/grpc-js";\nnew Server();\n`,
    "status_test.ts": `import { status } from "@grpc/grpc-js";\nconsole.log(status.OK);\n`,
    "dynamic_test.ts": `const grpc = await import("@grpc/grpc-js");\nconsole.log(grpc);\n`,
    "http2_test.ts": `import http2 from "node:http2";\nhttp2.createSecureServer({});\n`,
    "via_helper_test.ts": `import { serve } from "./_helper.ts";\nserve();\n`,
    "_helper.ts":
      `import { connect } from "node:http2";\nexport const serve = () => connect("");\n`,
    "via_dynamic_helper_test.ts": `await import("./_helper.ts");\n`,
    "types_test.ts": `import type { Client } from "@grpc/grpc-js";\n` +
      `import type { Http2Session } from "node:http2";\n` +
      `/** A Server, a Client and http2.connect in a comment. */\n` +
      `export const use = (_client?: Client, _session?: Http2Session) => Deno.connect({ port: 1 });\n`,
    "child_test.ts": `import "./_child.ts";\n`,
    "_child.ts": `if (import.meta.main) await import("@grpc/grpc-js");\n`,
  };
  try {
    for (const [name, source] of Object.entries(fixtures)) {
      await Deno.writeTextFile(`${dir}/${name}`, source);
    }
    const root = new URL(`file://${dir}/`);
    const testFiles = await findTestFiles(root);
    assert.equal(testFiles.length, 8, testFiles.join(", "));
    const found = await findInProcessHttp2(root, testFiles, {
      config: new URL("deno.json", ROOT).pathname,
    });
    assert.deepEqual(describe(found), [
      "child_test.ts → _child.ts: @grpc/grpc-js (dynamic)",
      "dynamic_test.ts → dynamic_test.ts: @grpc/grpc-js (dynamic)",
      "http2_test.ts → http2_test.ts: node:http2",
      "named_test.ts → named_test.ts: @grpc/grpc-js",
      "status_test.ts → status_test.ts: @grpc/grpc-js",
      "via_dynamic_helper_test.ts → _helper.ts: node:http2",
      "via_helper_test.ts → _helper.ts: node:http2",
    ]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
