/**
 * The gRPC listener's hand-written HTTP/2 server against Python's hyper-h2 (Debian's python3-h2),
 * a strict and independent HTTP/2 stack that checks every frame the server sends, and against
 * hand-made frames for what a well-behaved client never sends. The cases live in
 * `helpers/h2_probe.py`; each prints "<case> ok" or "<case> FAIL <why>".
 */
import assert from "node:assert/strict";
import { withTestServer } from "./helpers/server_process.ts";

const TOKEN = "agent-token-0123456789";
const PROBE = new URL("./helpers/h2_probe.py", import.meta.url).pathname;
const CASES = [
  "unary",
  "byte_by_byte",
  "many_data_frames",
  "padding_priority_unknown",
  "window_settings",
  "header_table_size_0",
  "small_max_frame_and_long_message",
  "grpc_variants",
  "odd_messages",
  "malformed_requests",
  "stream_errors",
  "padded_headers",
  "size_update_after_field",
  "continuation_flood",
];

Deno.test({
  name: "hyper-h2 calls the gRPC listener, and hand-made frames get the errors RFC 9113 names",
  // Debian's python3-h2 (.ci/run installs it); macOS CI has no system Python packages.
  ignore: Deno.build.os !== "linux",
  async fn() {
    await withTestServer(
      `[[agent_tokens]]\ntoken = "${TOKEN}"\nagents = ["*"]\n`,
      async (server) => {
        const output = await new Deno.Command("/usr/bin/python3", {
          args: [PROBE, String(server.grpcPort), TOKEN],
          stdout: "piped",
          stderr: "piped",
        }).output();
        const stderr = new TextDecoder().decode(output.stderr);
        assert.ok(output.success, stderr);
        const lines = new TextDecoder().decode(output.stdout).trim().split("\n");
        assert.deepEqual(
          lines.filter((line) => !line.endsWith(" ok")),
          [],
          "every case passes",
        );
        assert.deepEqual(lines.map((line) => line.split(" ")[0]).sort(), [...CASES].sort());
        const health = await server.getJson("/api/v1/health");
        const ingest = health.body.ingest as Record<string, number>;
        assert.ok(ingest.batches_accepted >= 14, `${ingest.batches_accepted} batches stored`);
      },
    );
  },
});
