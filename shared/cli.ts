/**
 * Helpers for the two command-line entry points. Kept free of imports: the agent counts every
 * module it loads against its memory budget.
 */

/** The last segment of a path, with `/` or `\` separators. */
function baseName(path: string): string {
  return path.slice(Math.max(path.lastIndexOf("/"), path.lastIndexOf("\\")) + 1);
}

export interface Invocation {
  standalone: boolean;
  execPath: string;
  mainModule: string;
  cwd: string;
}

/**
 * How the user started this program, for `--help` and `--version`: the executable's own name
 * when it is a compiled build (`oxmon-server-linux-x64`, `oxmon-agent.exe`), otherwise
 * `deno run -A <main module>`, relative to the working directory when the module is below it
 * (`deno run -A dist/oxmon-server.js`, `deno run -A server/main.ts`).
 */
export function invokedAs(
  runtime: Invocation = {
    standalone: Deno.build.standalone,
    execPath: Deno.execPath(),
    mainModule: Deno.mainModule,
    cwd: Deno.cwd(),
  },
): string {
  if (runtime.standalone) return baseName(runtime.execPath);
  let main = runtime.mainModule;
  if (main.startsWith("file://")) {
    main = decodeURIComponent(new URL(main).pathname);
    // file:///C:/x on Windows.
    if (/^\/[A-Za-z]:\//.test(main)) main = main.slice(1);
    const cwd = runtime.cwd.replaceAll("\\", "/").replace(/\/?$/, "/");
    const normalized = main.replaceAll("\\", "/");
    if (normalized.startsWith(cwd)) main = normalized.slice(cwd.length);
  }
  return `deno run -A ${main}`;
}
