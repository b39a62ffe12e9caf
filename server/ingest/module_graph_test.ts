/**
 * grpc-js (and protobufjs) are loaded in the gRPC listener child only: the server process keeps
 * storage, alerts and the API without Deno's Node gRPC stack, and never runs into its defects
 * itself (README, "How the server survives a Deno gRPC defect").
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

Deno.test("the listener child imports grpc-js dynamically, when it starts", async () => {
  const { modules, dynamicImports } = await staticModuleGraph(listener);
  assert.ok(!npmPackages(modules).has("@grpc/grpc-js"));
  assert.ok(npmPackages(dynamicImports).has("@grpc/grpc-js"), [...dynamicImports].join(", "));
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
