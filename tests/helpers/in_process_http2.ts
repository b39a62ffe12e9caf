/**
 * Finds HTTP/2 sessions that test files would open inside the `deno test` process: a grpc-js
 * server or client (`Server`, `Client`, `makeGenericClientConstructor`…) or a `node:http2`
 * server or client (`createServer`, `createSecureServer`, `connect`), in any local module a test
 * file reaches through static imports.
 *
 * Why: under Deno 2.9.6 an HTTP/2 session can abort its whole process inside nghttp2 (exit 134
 * or SIGSEGV; TOOLCHAIN.md, denoland/deno#36788) — a server after connect–call–close cycles, a
 * client that made a few calls when the server sends GOAWAY — and `deno test --parallel` runs
 * every test file in one process, so one crash ends the run without a summary. Such peers belong
 * in child processes. (Deno's own `fetch` and `Deno.serve` do not use nghttp2.)
 *
 * How: `deno info --json` gives the module graph of all test files at once, with each module's
 * imports and whether they are dynamic or type-only. A local module opens sessions when it
 * imports grpc-js or `node:http2` as code (statically or dynamically: a dynamic import still runs
 * in this process when called) and its code imports one of the session APIs by name or reads it
 * off the module (`grpc.Server`, `http2.connect`). Importing grpc-js for its `status` codes is
 * fine.
 */
import { fileURLToPath as fromFileUrl } from "node:url";

export interface InProcessHttp2 {
  /** The test file, relative to the root. */
  testFile: string;
  /** The module that uses the API, relative to the root. */
  module: string;
  /** What it uses: `@grpc/grpc-js Server`, `node:http2 connect`… */
  api: string;
}

export interface FindInProcessHttp2Options {
  /** `deno.json` whose import map resolves the modules. Default: `deno.json` in `root`. */
  config?: string;
  /** Modules (relative to `root`) known to open their sessions only in a child process. */
  exempt?: Iterable<string>;
}

interface InfoDependency {
  code?: { specifier?: string };
  isDynamic?: boolean;
}

interface Info {
  modules: { specifier: string; dependencies?: InfoDependency[] }[];
  redirects: Record<string, string>;
}

const FROM = String.raw`(?:from\s*|=\s*(?:await\s+)?import\s*\(\s*)(["'])([^"']*)\2`;

/**
 * What `code` takes from the modules whose specifier matches `module`: names bound by
 * `import { … }` or `const { … } = await import(…)`, and names read off a namespace bound by
 * `import x from`, `import * as x from` or `const x = await import(…)` (`x.connect`).
 */
function usedNames(code: string, module: RegExp): string[] {
  const names: string[] = [];
  for (const [, list, , specifier] of code.matchAll(new RegExp(`\\{([^{}]*)\\}\\s*${FROM}`, "g"))) {
    if (!module.test(specifier)) continue;
    // `{ Server as GrpcServer }` and `{ Server: GrpcServer }` bind Server all the same.
    for (const item of list.split(",")) names.push(item.trim().split(/\s+as\s+|\s*:\s*/)[0]);
  }
  const namespace = new RegExp(
    `(?:import\\s+(?:\\*\\s+as\\s+)?|const\\s+)([\\w$]+)\\s*(?:,\\s*\\{[^{}]*\\}\\s*)?${FROM}`,
    "g",
  );
  for (const [, name, , specifier] of code.matchAll(namespace)) {
    if (!module.test(specifier)) continue;
    const reads = new RegExp(`(?<![\\w$.])${name.replaceAll("$", "\\$")}\\s*\\.\\s*([\\w$]+)`, "g");
    for (const [, property] of code.matchAll(reads)) names.push(property);
  }
  return names;
}

/**
 * The packages whose sessions are banned from the test process: how `deno info` resolves each,
 * how the code names it, and the APIs that open (or make things that open) sessions.
 */
const HTTP2_APIS: { name: string; resolved: RegExp; specifier: RegExp; api: Set<string> }[] = [
  {
    name: "@grpc/grpc-js",
    resolved:
      /\/node_modules\/(?:\.deno\/[^/]+\/node_modules\/)?@grpc\/grpc-js\/|^npm:\/?@grpc\/grpc-js@/,
    specifier: /@grpc\/grpc-js/,
    api: new Set([
      "Server",
      "ServerCredentials",
      "Client",
      "Channel",
      "makeClientConstructor",
      "makeGenericClientConstructor",
      "loadPackageDefinition",
    ]),
  },
  {
    name: "node:http2",
    resolved: /^node:http2$/,
    specifier: /^(?:node:)?http2$/,
    api: new Set(["createServer", "createSecureServer", "connect"]),
  },
];

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

/**
 * The source without comments and type-only imports (`import type …;`, `type Server` in braces):
 * enough to keep a doc comment's words or a type from counting.
 */
function codeOf(source: string): string {
  return source
    .replace(/\/\*[\s\S]*?\*\/|(?<![:"'`\\])\/\/.*$/gm, "")
    .replace(/\bimport\s+type\s[^;]*;/g, "")
    .replace(/(?<![\w$])type\s+[\w$]+/g, "");
}

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
 * Every (test file, module, API) where a local module reached from `testFiles` (paths relative
 * to `root`, a folder URL) would open HTTP/2 sessions in the test process.
 */
export async function findInProcessHttp2(
  root: URL,
  testFiles: readonly string[],
  options: FindInProcessHttp2Options = {},
): Promise<InProcessHttp2[]> {
  const exempt = new Set(options.exempt ?? []);
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

  // The session APIs each local module uses, from the packages it imports as code.
  const apisOf = new Map<string, string[]>();
  const sessionApis = async (specifier: string): Promise<string[]> => {
    let apis = apisOf.get(specifier);
    if (apis) return apis;
    apis = [];
    const targets = (byId.get(specifier)?.dependencies ?? [])
      .map((dependency) => dependency.code?.specifier)
      .filter((target) => target !== undefined)
      .map(resolve);
    const imported = HTTP2_APIS.filter(({ resolved }) =>
      targets.some((target) => resolved.test(target))
    );
    if (imported.length > 0) {
      const code = codeOf(await Deno.readTextFile(fromFileUrl(specifier)));
      for (const { name, specifier: pattern, api } of imported) {
        for (const used of new Set(usedNames(code, pattern))) {
          if (api.has(used)) apis.push(`${name} ${used}`);
        }
      }
    }
    apisOf.set(specifier, apis);
    return apis;
  };

  const found: InProcessHttp2[] = [];
  for (const testFile of testFiles) {
    const pending = [resolve(new URL(testFile, root).href)];
    const visited = new Set<string>();
    while (pending.length > 0) {
      const specifier = pending.pop()!;
      if (visited.has(specifier) || !isLocal(specifier)) continue;
      visited.add(specifier);
      if (!exempt.has(relative(specifier))) {
        for (const api of await sessionApis(specifier)) {
          found.push({ testFile, module: relative(specifier), api });
        }
      }
      for (const dependency of byId.get(specifier)?.dependencies ?? []) {
        const target = dependency.code?.specifier;
        // Dynamic imports load only when called: their module is checked if a static path
        // reaches it; the importer itself is checked for what it does with the result.
        if (target !== undefined && !dependency.isDynamic) pending.push(resolve(target));
      }
    }
  }
  return found;
}
