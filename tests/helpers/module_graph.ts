/**
 * The static import graph of a module, from `deno info --json`: what loading it loads before any
 * of its code runs. Dynamic imports and type-only imports are not followed.
 */
interface InfoDependency {
  code?: { specifier?: string };
  isDynamic?: boolean;
}

interface Info {
  roots: string[];
  modules: { specifier: string; dependencies?: InfoDependency[] }[];
  redirects: Record<string, string>;
}

export interface ModuleGraph {
  /** Every module specifier reached, resolved (`file:///…`, `npm:/name@version/…`, `node:x`). */
  modules: Set<string>;
  /** Specifiers of dynamic imports found in the reached modules, resolved. */
  dynamicImports: Set<string>;
}

/**
 * With `"nodeModulesDir": "manual"`, `deno info` resolves an npm module to its file in
 * `node_modules/.deno/`; this names it as the npm specifier it came from again
 * (`file:///…/node_modules/.deno/@grpc+grpc-js@1.14.7/node_modules/@grpc/grpc-js/x.js` →
 * `npm:/@grpc/grpc-js@1.14.7/x.js`), so a graph reads the same whichever way packages are laid out.
 */
function asNpmSpecifier(specifier: string): string {
  const match =
    /^file:\/\/.*\/node_modules\/\.deno\/[^/]+@([^/@]+)\/node_modules\/((?:@[^/]+\/)?[^/]+)\/(.*)$/
      .exec(specifier);
  return match ? `npm:/${match[2]}@${match[1]}/${match[3]}` : specifier;
}

/** The static graph of `entry` (a path or URL). */
export async function staticModuleGraph(entry: string | URL): Promise<ModuleGraph> {
  const output = await new Deno.Command(Deno.execPath(), {
    args: ["info", "--json", entry instanceof URL ? entry.href : entry],
    stdout: "piped",
    stderr: "piped",
  }).output();
  if (!output.success) {
    throw new Error(`deno info failed: ${new TextDecoder().decode(output.stderr)}`);
  }
  const info: Info = JSON.parse(new TextDecoder().decode(output.stdout));
  const byId = new Map(info.modules.map((module) => [module.specifier, module]));
  const resolve = (specifier: string) => info.redirects[specifier] ?? specifier;
  const modules = new Set<string>();
  const dynamicImports = new Set<string>();
  const pending = info.roots.map(resolve);
  const visited = new Set<string>();
  while (pending.length > 0) {
    const specifier = pending.pop()!;
    if (visited.has(specifier)) continue;
    visited.add(specifier);
    modules.add(asNpmSpecifier(specifier));
    for (const dependency of byId.get(specifier)?.dependencies ?? []) {
      const target = dependency.code?.specifier;
      if (target === undefined) continue; // type-only
      if (dependency.isDynamic) dynamicImports.add(asNpmSpecifier(resolve(target)));
      else pending.push(resolve(target));
    }
  }
  return { modules, dynamicImports };
}

/** The npm package names among `specifiers`: `npm:/@grpc/grpc-js@1.14.7/x` → `@grpc/grpc-js`. */
export function npmPackages(specifiers: Iterable<string>): Set<string> {
  const names = new Set<string>();
  for (const specifier of specifiers) {
    const match = /^npm:\/?((?:@[^/]+\/)?[^@/]+)/.exec(specifier);
    if (match) names.add(match[1]);
  }
  return names;
}
