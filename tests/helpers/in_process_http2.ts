/**
 * Finds test files that would load grpc-js or `node:http2` into the `deno test` process.
 *
 * Why: under Deno 2.9.6 an HTTP/2 session of either can abort its whole process inside nghttp2
 * (exit 134 or SIGSEGV; TOOLCHAIN.md, denoland/deno#36788) — a server after connect–call–close
 * cycles, a client that made a few calls when the server sends GOAWAY — and a grpc-js client
 * reconnecting fast to a server killed again and again grew the test process to its 4 GB heap
 * limit. `deno test --parallel` runs every test file in one process, so either ends the whole run
 * without a summary. Such peers belong in child processes. (Deno's own `fetch`, `Deno.serve` and
 * the agent's HTTP/2 client over `Deno.connect` do not use nghttp2.)
 *
 * How: one `deno info --json` gives the module graph of all test files at once, with each
 * module's code imports and whether they are dynamic. From each test file the imports of local
 * modules are followed; a local module reached that imports grpc-js or `node:http2` as code is
 * reported: a static import loads it with the test file, a dynamic one when the code runs (unless
 * that code runs only in a child process, which the caller judges). Type-only imports (`import type`) are erased and do not count (`import { type X }` counts: Deno
 * reports it as a code import).
 */
import { fileURLToPath as fromFileUrl } from "node:url";

export interface InProcessHttp2 {
  /** The test file, relative to the root. */
  testFile: string;
  /** The local module that imports it, relative to the root. */
  module: string;
  /** `@grpc/grpc-js` or `node:http2`. */
  loads: string;
  dynamic: boolean;
}

export interface FindInProcessHttp2Options {
  /** `deno.json` whose import map resolves the modules. Default: `deno.json` in `root`. */
  config?: string;
}

interface InfoDependency {
  code?: { specifier?: string };
  isDynamic?: boolean;
}

interface Info {
  modules: { specifier: string; dependencies?: InfoDependency[] }[];
  redirects: Record<string, string>;
}

/** What the banned modules resolve to: npm's grpc-js (in node_modules or as `npm:`), node:http2. */
function banned(specifier: string): string | undefined {
  if (specifier === "node:http2") return "node:http2";
  if (/\/node_modules\/(?:.*\/)?@grpc\/grpc-js\/|^npm:\/?@grpc\/grpc-js@/.test(specifier)) {
    return "@grpc/grpc-js";
  }
}

/** Deno's default test file names: `x_test.ts`, `x.test.ts`, `test.ts` (and js/tsx/… forms). */
const TEST_FILE = /(?:^|[_.])test\.(?:ts|tsx|mts|js|jsx|mjs)$/;
const SKIPPED_FOLDERS = new Set([".git", "node_modules", "dist", ".oxmon-demo"]);

/** The test files `deno test` would run under `root` (a folder URL), relative to it, sorted. */
export async function findTestFiles(root: URL): Promise<string[]> {
  const found: string[] = [];
  async function walk(relative: string): Promise<void> {
    for await (const entry of Deno.readDir(new URL(relative || ".", root))) {
      const path = relative ? `${relative}/${entry.name}` : entry.name;
      if (entry.isDirectory && !SKIPPED_FOLDERS.has(entry.name)) await walk(path);
      else if (entry.isFile && TEST_FILE.test(entry.name)) found.push(path);
    }
  }
  await walk("");
  return found.sort();
}

/** One `deno info --json` over an entry that imports every test file. */
async function moduleGraph(root: URL, testFiles: readonly string[], config: string) {
  const dir = await Deno.makeTempDir({ prefix: "oxmon-in-process-http2-" });
  try {
    const entry = `${dir}/entry.ts`;
    await Deno.writeTextFile(
      entry,
      testFiles.map((file) => `import ${JSON.stringify(new URL(file, root).href)};\n`).join(""),
    );
    const output = await new Deno.Command(Deno.execPath(), {
      args: ["info", "--json", "--config", config, entry],
      stdout: "piped",
      stderr: "piped",
      stdin: "null",
    }).output();
    if (!output.success) {
      throw new Error(
        `Cannot read the test files' module graph: deno info failed:\n${
          new TextDecoder().decode(output.stderr)
        }`,
      );
    }
    return JSON.parse(new TextDecoder().decode(output.stdout)) as Info;
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/**
 * Every (test file, local module, banned module) where loading a test file from `testFiles`
 * (paths relative to `root`, a folder URL) loads grpc-js or `node:http2` in the test process.
 */
export async function findInProcessHttp2(
  root: URL,
  testFiles: readonly string[],
  options: FindInProcessHttp2Options = {},
): Promise<InProcessHttp2[]> {
  const info = await moduleGraph(
    root,
    testFiles,
    options.config ?? fromFileUrl(new URL("deno.json", root)),
  );
  const resolve = (specifier: string) => info.redirects[specifier] ?? specifier;
  const byId = new Map(info.modules.map((module) => [module.specifier, module]));
  const isLocal = (specifier: string) =>
    specifier.startsWith(root.href) && !specifier.includes("/node_modules/");
  const relative = (specifier: string) => specifier.slice(root.href.length);

  const found: InProcessHttp2[] = [];
  for (const testFile of testFiles) {
    const pending = [resolve(new URL(testFile, root).href)];
    const visited = new Set<string>();
    while (pending.length > 0) {
      const specifier = pending.pop()!;
      if (visited.has(specifier)) continue;
      visited.add(specifier);
      const module = relative(specifier);
      for (const dependency of byId.get(specifier)?.dependencies ?? []) {
        const target = dependency.code?.specifier;
        if (target === undefined) continue; // type-only
        const resolved = resolve(target);
        const dynamic = dependency.isDynamic === true;
        const loads = banned(resolved);
        if (loads !== undefined) found.push({ testFile, module, loads, dynamic });
        else if (isLocal(resolved)) pending.push(resolved);
      }
    }
  }
  return found;
}
