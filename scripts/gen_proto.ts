/**
 * Regenerates `shared/proto/metrics.js` and `metrics.d.ts` from `proto/metrics.proto`.
 * The generated files are committed: nothing reads a `.proto` at run time. They are the oracle
 * of the hand-written codec in `shared/wire/`, which production code uses: a changed message
 * is then changed there by hand, and its differential tests show where the two disagree.
 */
const outDir = new URL("../shared/proto/", import.meta.url);

async function run(args: string[]): Promise<void> {
  const { code } = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", ...args],
    cwd: outDir,
    stdout: "inherit",
    stderr: "inherit",
  }).output();
  if (code !== 0) throw new Error(`${args[0]} failed with exit code ${code}`);
}

await run([
  "npm:protobufjs-cli@2.7.1/pbjs",
  "-t",
  "static-module",
  "-w",
  "es6",
  "--no-create",
  "--no-verify",
  "--no-convert",
  "--no-delimited",
  "--no-service",
  "--force-number",
  "-o",
  "metrics.js",
  "../../proto/metrics.proto",
]);
await run(["npm:protobufjs-cli@2.7.1/pbts", "-o", "metrics.d.ts", "metrics.js"]);
// int64 fields are plain numbers (--force-number), so the `long` typings pbts imports are unused.
const typesUrl = new URL("metrics.d.ts", outDir);
const types = await Deno.readTextFile(typesUrl);
await Deno.writeTextFile(typesUrl, types.replace(/^import Long = require\("long"\);\n/m, ""));
console.log("regenerated shared/proto/metrics.js and metrics.d.ts");
