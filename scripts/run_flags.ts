/**
 * The Deno flags each program runs with, in one place: deno.json's `agent` and `server` tasks.
 * The demo, the compiled builds, the smoke test and the benchmarks read them from there, so none
 * can drift from what `deno task agent` / `deno task server` run (for the server, a test also
 * holds the task to `SERVER_V8_FLAGS`, which its supervisor gives the listener child).
 */

export type Program = "agent" | "server";

/** The words between `deno run` and `<program>/main.ts` in `root`'s task of that name. */
export function taskFlags(
  program: Program,
  root: URL = new URL("../", import.meta.url),
): string[] {
  const denoJson = JSON.parse(Deno.readTextFileSync(new URL("deno.json", root))) as {
    tasks?: Record<string, string>;
  };
  const task = denoJson.tasks?.[program] ?? "";
  // The task may first run other commands (`deno install -q && deno run …`): the last one runs it.
  const words = (task.split("&&").at(-1) ?? "").trim().split(/\s+/);
  const run = words.indexOf("run");
  const main = words.findIndex((word) => word.endsWith(`${program}/main.ts`));
  if (words[0] !== "deno" || run !== 1 || main < run) {
    throw new Error(
      `Cannot read the ${program}'s flags: expected "deno run … ${program}/main.ts", got "${task}"`,
    );
  }
  return words.slice(run + 1, main);
}

/**
 * Of those, the ones that shape the running process rather than how its sources are found
 * (`--v8-flags`, `--no-code-cache`): what a compiled program embeds and a bundled one is run with.
 */
export function runtimeFlags(program: Program, root?: URL): string[] {
  return taskFlags(program, root).filter((flag) =>
    flag.startsWith("--v8-flags=") || flag === "--no-code-cache"
  );
}
