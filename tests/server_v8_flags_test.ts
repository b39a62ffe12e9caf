/**
 * The server's V8 flags (server/v8_flags.ts) reach both of its processes: `deno task server`
 * passes them to the server, and the server's supervisor passes the same list to its listener
 * child. (A compiled server embeds them: scripts/compile.ts reads the same task.)
 */
import assert from "node:assert/strict";
import { runtimeFlags } from "../scripts/run_flags.ts";
import { SERVER_V8_FLAGS, SERVER_V8_FLAGS_ARG } from "../server/v8_flags.ts";
import { childPids } from "./helpers/crash.ts";
import { spawnServer } from "./helpers/server_cli.ts";

Deno.test("deno task server runs with the V8 flags the supervisor gives the listener", () => {
  assert.deepEqual(runtimeFlags("server"), [SERVER_V8_FLAGS_ARG]);
  assert.ok(SERVER_V8_FLAGS.includes("--no-allocation-site-pretenuring"));
  assert.ok(SERVER_V8_FLAGS.includes("--max-semi-space-size=2"));
  assert.ok(SERVER_V8_FLAGS.includes("--heap-growing-percent=75"));
});

Deno.test({
  name: "the server and its listener child both run with the server's V8 flags",
  ignore: Deno.build.os !== "linux",
  fn: async () => {
    const dataDir = await Deno.makeTempDir({ prefix: "oxmon-v8-flags-" });
    const server = spawnServer(dataDir);
    try {
      await server.ready;
      const argv = (pid: number) => Deno.readTextFileSync(`/proc/${pid}/cmdline`).split("\0");
      assert.ok(argv(server.process.pid).includes(SERVER_V8_FLAGS_ARG), "server");
      const [listener] = childPids(server.process.pid);
      assert.ok(listener, "the server has a listener child");
      const listenerArgv = argv(listener);
      assert.ok(listenerArgv.includes("--grpc-listener"), listenerArgv.join(" "));
      assert.ok(listenerArgv.includes(SERVER_V8_FLAGS_ARG), listenerArgv.join(" "));
    } finally {
      await server.stop();
      await Deno.remove(dataDir, { recursive: true });
    }
  },
});
