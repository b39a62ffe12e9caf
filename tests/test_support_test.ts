/**
 * Test support lives in `tests/helpers/` and nowhere else, and no program loads it: a fake store
 * or a fixture builder that a production module imports would ship with the server or the agent
 * (and, in the agent, count against its memory budget).
 */
import assert from "node:assert/strict";
import { staticModuleGraph } from "./helpers/module_graph.ts";

const ROOT = new URL("../", import.meta.url);

/** The programs we ship; the gRPC listener child is part of `server/main.ts`'s graph. */
const ENTRIES = ["server/main.ts", "agent/main.ts", "agent/main_portable.ts"];

/** Names test support had before it moved to `tests/helpers/`, and test files themselves. */
const TEST_SUPPORT_NAME = /(^|_)(testing|test_util|test_server)\.ts$|_test\.ts$/;

function isTestSupport(path: string): boolean {
  const name = path.slice(path.lastIndexOf("/") + 1);
  return path.startsWith("tests/") || TEST_SUPPORT_NAME.test(name);
}

Deno.test("no program loads test support", async (t) => {
  for (const entry of ENTRIES) {
    await t.step(entry, async () => {
      const { modules, dynamicImports } = await staticModuleGraph(new URL(entry, ROOT));
      assert.ok(modules.has(new URL(entry, ROOT).href), `${entry} is not in its own graph`);
      const reached = [...modules, ...dynamicImports]
        .filter((specifier) => specifier.startsWith(ROOT.href))
        .map((specifier) => specifier.slice(ROOT.href.length));
      assert.ok(reached.length > 10, `the walk of ${entry} found only ${reached.join(", ")}`);
      assert.deepEqual(reached.filter(isTestSupport), []);
    });
  }
});

Deno.test("test support has no file outside tests/", async () => {
  const misplaced: string[] = [];
  const walk = async (dir: URL, path: string) => {
    for await (const entry of Deno.readDir(dir)) {
      const child = path + entry.name;
      if (entry.isDirectory) {
        if (!["tests", "node_modules", "dist"].includes(child) && !entry.name.startsWith(".")) {
          await walk(new URL(`${entry.name}/`, dir), `${child}/`);
        }
      } else if (/\.(ts|js|mjs)$/.test(entry.name) && !entry.name.endsWith("_test.ts")) {
        if (isTestSupport(child)) misplaced.push(child);
      }
    }
  };
  await walk(ROOT, "");
  assert.deepEqual(misplaced, [], "move these to tests/helpers/");
});
