/**
 * What the agent's resident memory depends on, guarded over the module graph Deno itself
 * reports (`deno info --json agent/main.ts`).
 *
 * - No `npm:` package and no `node:` built-in is loaded at start-up. An npm package makes Deno
 *   set up its npm resolver, a `node:` module loads part of the Node compatibility layer:
 *   grpc-js, protobufjs, smol-toml and `node:fs` together took the agent from under 50 MB to
 *   68 MB, and one careless static import anywhere in the graph would bring most of that back
 *   without any test failing. Precisely: no such module is reachable from `agent/main.ts` over
 *   static code imports. Imports Deno reports as dynamic (`await import("node:fs")` in
 *   `collectors/statfs.ts`, `node:os` in the portable collectors) load only when called, and
 *   type-only imports (`import type`, `typeof import(…)`) are erased: both may name them.
 *   `collectors/systeminformation.ts` imports its package through a computed specifier that
 *   `deno info` cannot see at all.
 * - No module of the graph imports another folder's private (`_`-prefixed) file.
 *
 * `agent/main_portable.ts` (the macOS/Windows builds) is exempt: it imports systeminformation
 * statically on purpose, for its portable collectors, and is not part of this graph.
 */
import assert from "node:assert/strict";
import { dirname } from "node:path";
import { fileURLToPath as fromFileUrl } from "node:url";

interface Dependency {
  specifier: string;
  code?: { specifier: string };
  type?: { specifier: string };
  isDynamic?: boolean;
}

interface ModuleInfo {
  specifier: string;
  kind: string;
  dependencies?: Dependency[];
}

interface ModuleGraph {
  roots: string[];
  modules: ModuleInfo[];
  redirects: Record<string, string>;
}

const ROOT = new URL("../", import.meta.url);

async function moduleGraph(entry: string, cwd: URL = ROOT): Promise<ModuleGraph> {
  const { code, stdout, stderr } = await new Deno.Command(Deno.execPath(), {
    args: ["info", "--json", entry],
    cwd,
    stdout: "piped",
    stderr: "piped",
    stdin: "null",
  }).output();
  if (code !== 0) {
    throw new Error(`deno info ${entry} failed:\n${new TextDecoder().decode(stderr)}`);
  }
  return JSON.parse(new TextDecoder().decode(stdout));
}

/** An `npm:` or `node:` module (as resolved: a bare name mapped to npm counts as npm). */
function isHeavy(specifier: string, graph: ModuleGraph): boolean {
  const resolved = graph.redirects[specifier] ?? specifier;
  const kind = graph.modules.find((module) => module.specifier === resolved)?.kind;
  return /^(npm|node):/.test(resolved) || kind === "npm" || kind === "node";
}

/**
 * Every `npm:`/`node:` module the entry loads at start-up, with the chain of static imports that
 * reaches it (`["agent/main.ts", "agent/agent.ts", "node:fs"]`).
 */
export function staticHeavyImports(graph: ModuleGraph, root: URL = ROOT): string[][] {
  const modules = new Map(graph.modules.map((module) => [module.specifier, module]));
  const shortName = (specifier: string) =>
    specifier.startsWith(root.href) ? specifier.slice(root.href.length) : specifier;
  const found: string[][] = [];
  const seen = new Set<string>();
  const visit = (specifier: string, chain: string[]) => {
    const resolved = graph.redirects[specifier] ?? specifier;
    if (seen.has(resolved)) return;
    seen.add(resolved);
    const here = [...chain, shortName(resolved)];
    if (isHeavy(resolved, graph)) {
      found.push(here);
      return;
    }
    for (const dependency of modules.get(resolved)?.dependencies ?? []) {
      if (dependency.code && !dependency.isDynamic) visit(dependency.code.specifier, here);
    }
  };
  for (const root of graph.roots) visit(root, []);
  return found;
}

/** `importer → imported` for every import of a `_`-prefixed file from another folder. */
export function foreignPrivateImports(graph: ModuleGraph): string[] {
  const found: string[] = [];
  for (const module of graph.modules) {
    if (!module.specifier.startsWith("file:")) continue;
    for (const dependency of module.dependencies ?? []) {
      for (const target of [dependency.code?.specifier, dependency.type?.specifier]) {
        if (!target?.startsWith("file:")) continue;
        const path = fromFileUrl(target);
        const isPrivate = path.slice(dirname(path).length + 1).startsWith("_");
        if (isPrivate && dirname(path) !== dirname(fromFileUrl(module.specifier))) {
          found.push(`${module.specifier} → ${target}`);
        }
      }
    }
  }
  return found;
}

Deno.test("agent/main.ts loads no npm package and no node: module at start-up", async () => {
  const graph = await moduleGraph("agent/main.ts");
  assert.deepEqual(
    staticHeavyImports(graph).map((chain) => chain.join(" → ")),
    [],
    "static imports that load npm or node: modules (make them dynamic, or find another way)",
  );
});

Deno.test("agent/main.ts's graph imports no other folder's private file", async () => {
  assert.deepEqual(foreignPrivateImports(await moduleGraph("agent/main.ts")), []);
});

Deno.test("the graph rules tell static imports from dynamic and type-only ones", async () => {
  const dir = await Deno.makeTempDir({ prefix: "oxmon-graph-" });
  try {
    await Deno.mkdir(`${dir}/lib`);
    await Deno.writeTextFile(`${dir}/deno.json`, "{}");
    await Deno.writeTextFile(
      `${dir}/main.ts`,
      `import { a } from "./lib/a.ts";\nimport type { B } from "./lib/_b.ts";\n` +
        `export const lazy = () => import("node:fs");\nexport type T = B;\nconsole.log(a);\n`,
    );
    await Deno.writeTextFile(
      `${dir}/lib/a.ts`,
      `import { cpus } from "node:os";\nimport { b } from "./_b.ts";\n` +
        `export const a = cpus().length + b;\n`,
    );
    await Deno.writeTextFile(`${dir}/lib/_b.ts`, `export const b = 1;\nexport type B = number;\n`);
    const root = new URL(`file://${dir}/`);
    const graph = await moduleGraph("main.ts", root);
    assert.deepEqual(staticHeavyImports(graph, root), [["main.ts", "lib/a.ts", "node:os"]]);
    const foreign = foreignPrivateImports(graph);
    assert.equal(foreign.length, 1);
    assert.match(foreign[0], /\/main\.ts → .*\/lib\/_b\.ts$/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
