/**
 * The Deno flags the agent runs with, in one place: deno.json's `agent` task. The demo, the
 * compiled builds and the agent benchmark read them from there, so none can drift from what
 * `deno task agent` measures.
 */

/** The words between `deno run` and `agent/main.ts` in `root`'s `agent` task. */
export function agentTaskFlags(root: URL = new URL("../", import.meta.url)): string[] {
  const denoJson = JSON.parse(Deno.readTextFileSync(new URL("deno.json", root))) as {
    tasks?: Record<string, string>;
  };
  const task = denoJson.tasks?.agent ?? "";
  // The task may first run other commands (`deno install -q && deno run …`): the last one runs it.
  const words = (task.split("&&").at(-1) ?? "").trim().split(/\s+/);
  const run = words.indexOf("run");
  const main = words.findIndex((word) => word.endsWith("agent/main.ts"));
  if (words[0] !== "deno" || run !== 1 || main < run) {
    throw new Error(
      `Cannot read the agent's flags: expected "deno run … agent/main.ts", got "${task}"`,
    );
  }
  return words.slice(run + 1, main);
}

/**
 * Of those, the ones that shape the running process rather than how its sources are found
 * (`--v8-flags`, `--no-code-cache`): what a compiled agent embeds and a bundled one is run with.
 */
export function agentRuntimeFlags(root?: URL): string[] {
  return agentTaskFlags(root).filter((flag) =>
    flag.startsWith("--v8-flags=") || flag === "--no-code-cache"
  );
}
