import assert from "node:assert/strict";
import { GrpcStatus, grpcStatusName } from "./status.ts";

/**
 * grpc-js's `status` table, read in a child process: the test process loads no grpc-js
 * (tests/in_process_http2_test.ts).
 */
async function grpcJsStatus(): Promise<Record<string, unknown>> {
  const output = await new Deno.Command(Deno.execPath(), {
    args: [
      "eval",
      "--config",
      new URL("../../deno.json", import.meta.url).pathname,
      'import { status } from "@grpc/grpc-js"; console.log(JSON.stringify(status));',
    ],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = (bytes: Uint8Array) => new TextDecoder().decode(bytes);
  assert.ok(output.success, `reading grpc-js's status table failed: ${text(output.stderr)}`);
  return JSON.parse(text(output.stdout));
}

Deno.test("GrpcStatus holds grpc-js's codes under the same names", async () => {
  const theirs = Object.entries(await grpcJsStatus()).filter(([, code]) =>
    typeof code === "number"
  );
  assert.deepEqual(Object.entries(GrpcStatus), theirs);
});

Deno.test("grpcStatusName names a code, or gives a number it does not know", () => {
  assert.equal(grpcStatusName(14), "UNAVAILABLE");
  assert.equal(grpcStatusName(GrpcStatus.INVALID_ARGUMENT), "INVALID_ARGUMENT");
  assert.equal(grpcStatusName(0), "OK");
  assert.equal(grpcStatusName(42), "42");
  assert.equal(grpcStatusName(-1), "-1");
});
