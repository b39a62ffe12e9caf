/**
 * Neither the server nor its gRPC listener child loads grpc-js (or protobufjs): the listener
 * speaks HTTP/2 itself (`_http2_server.ts`), so Deno's node:http2 and its nghttp2 defects are
 * out of the ingest path (README, "How the server survives a Deno gRPC defect").
 */
import assert from "node:assert/strict";
import { npmPackages, staticModuleGraph } from "../../tests/helpers/module_graph.ts";

const serverMain = new URL("../main.ts", import.meta.url);
const listener = new URL("./listener.ts", import.meta.url);

Deno.test("the server's static module graph holds neither grpc-js nor protobufjs", async () => {
  const { modules } = await staticModuleGraph(serverMain);
  // The listener's module is in it (main.ts runs it in listener mode): its imports were followed.
  assert.ok(modules.has(listener.href), "server/ingest/listener.ts is not in the graph");
  const packages = npmPackages(modules);
  assert.ok(packages.has("hono"), `the walk found no npm package: ${[...packages]}`);
  assert.ok(!packages.has("@grpc/grpc-js"), "@grpc/grpc-js is imported statically");
  assert.ok(!packages.has("protobufjs"), "protobufjs is imported statically");
});

Deno.test("the listener child loads no npm package, statically or dynamically", async () => {
  const { modules, dynamicImports } = await staticModuleGraph(listener);
  assert.deepEqual([...npmPackages(modules)], []);
  assert.deepEqual([...npmPackages(dynamicImports)], []);
});

Deno.test("shared/http2 loads no npm package and no node: module, so the agent can use it", async () => {
  const { modules } = await staticModuleGraph(
    new URL("../../shared/http2/mod.ts", import.meta.url),
  );
  const foreign = [...modules].filter((specifier) => !specifier.startsWith("file:"));
  assert.deepEqual(foreign, []);
});

Deno.test("shared/wire loads no npm package and no node: module, so the agent can use it", async () => {
  const { modules } = await staticModuleGraph(new URL("../../shared/wire/mod.ts", import.meta.url));
  const foreign = [...modules].filter((specifier) => !specifier.startsWith("file:"));
  assert.deepEqual(foreign, []);
});

Deno.test("the agent loads the wire encoders but not the batch decoder's string cache", async () => {
  const { modules } = await staticModuleGraph(new URL("../../agent/main.ts", import.meta.url));
  const wire = new URL("../../shared/wire/", import.meta.url).href;
  assert.ok(modules.has(`${wire}encode_batch.ts`), "the agent does not load the encoder");
  assert.ok(!modules.has(`${wire}_string_cache.ts`), "the agent loads the 250 kB string cache");
});
