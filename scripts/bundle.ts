/**
 * Builds one self-contained JavaScript file per executable with `deno bundle` (works offline):
 * `dist/oxmon-server.js`, `dist/oxmon-agent.js` (Linux) and `dist/oxmon-agent-portable.js`
 * (macOS/Windows: includes systeminformation for the portable collectors), each runnable with
 * `deno run -A FILE` from any folder.
 */
const root = new URL("../", import.meta.url);
const entries = [
  { entry: "server/main.ts", output: "dist/oxmon-server.js" },
  { entry: "agent/main.ts", output: "dist/oxmon-agent.js" },
  { entry: "agent/main_portable.ts", output: "dist/oxmon-agent-portable.js" },
];

for (const { entry, output } of entries) {
  const { code } = await new Deno.Command(Deno.execPath(), {
    args: ["bundle", "--quiet", "--platform", "deno", "-o", output, entry],
    cwd: root,
    stdout: "inherit",
    stderr: "inherit",
  }).output();
  if (code !== 0) {
    console.error(`bundle: ${entry} failed with exit code ${code}`);
    Deno.exit(code);
  }
  const { size } = await Deno.stat(new URL(output, root));
  console.log(`bundle: ${output} (${(size / 1024).toFixed(0)} KiB)`);
}
