/**
 * Builds one self-contained JavaScript file per executable with `deno bundle` (works offline):
 * `oxmon-server.js`, `oxmon-agent.js` (Linux) and `oxmon-agent-portable.js` (macOS/Windows:
 * includes systeminformation for the portable collectors), each runnable with `deno run -A FILE`
 * from any folder.
 *
 *   deno task bundle [--out DIR]     (default dist/)
 */
import { parseArgs } from "node:util";

const { values } = parseArgs({ options: { out: { type: "string", default: "dist" } } });
const root = new URL("../", import.meta.url);
const outDir = values.out.replace(/\/?$/, "");
const entries = [
  { entry: "server/main.ts", output: "oxmon-server.js" },
  { entry: "agent/main.ts", output: "oxmon-agent.js" },
  { entry: "agent/main_portable.ts", output: "oxmon-agent-portable.js" },
];

for (const { entry, output } of entries) {
  const path = `${outDir}/${output}`;
  const { code } = await new Deno.Command(Deno.execPath(), {
    args: ["bundle", "--quiet", "--platform", "deno", "-o", path, entry],
    cwd: root,
    stdout: "inherit",
    stderr: "inherit",
  }).output();
  if (code !== 0) {
    console.error(`bundle: ${entry} failed with exit code ${code}`);
    Deno.exit(code);
  }
  const { size } = await Deno.stat(new URL(path, root));
  console.log(`bundle: ${path} (${(size / 1024).toFixed(0)} KiB)`);
}
