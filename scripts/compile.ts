/**
 * Builds standalone executables with `deno compile`, one per OS/architecture:
 * `dist/<target>/oxmon-server` and `dist/<target>/oxmon-agent`.
 *
 *   deno task compile                      # every target
 *   deno task compile --target x86_64-unknown-linux-gnu
 *
 * `deno compile` downloads the runtime it embeds (denort) for each target. On a machine without
 * that download, point DENORT_BIN at a local denort of the same Deno version (one target only).
 */
import { parseArgs } from "node:util";
import { agentRuntimeFlags } from "./agent_flags.ts";

const TARGETS = [
  "x86_64-unknown-linux-gnu",
  "aarch64-unknown-linux-gnu",
  "x86_64-apple-darwin",
  "aarch64-apple-darwin",
  "x86_64-pc-windows-msvc",
];

/**
 * Linux agents leave systeminformation out (it costs resident memory and Linux never needs it);
 * macOS and Windows agents start from an entry that imports it for their portable collectors.
 */
function entryOf(name: string, target: string): string {
  if (name === "agent" && !target.includes("linux")) return "agent/main_portable.ts";
  return `${name}/main.ts`;
}

const { values } = parseArgs({ options: { target: { type: "string", multiple: true } } });
const targets = values.target ?? TARGETS;
const root = new URL("../", import.meta.url);
let failed = 0;

for (const target of targets) {
  if (!TARGETS.includes(target)) {
    console.error(`compile: unknown --target "${target}"; expected one of ${TARGETS.join(", ")}`);
    Deno.exit(2);
  }
  for (const name of ["server", "agent"]) {
    const suffix = target.includes("windows") ? ".exe" : "";
    const output = `dist/${target}/oxmon-${name}${suffix}`;
    // The agent embeds the runtime flags of `deno task agent` (V8 flags, no code cache): see
    // deno.json and tests/bench/agent_bench.ts for what they save.
    const flags = name === "agent" ? agentRuntimeFlags() : [];
    const { code } = await new Deno.Command(Deno.execPath(), {
      args: [
        "compile",
        "-A",
        ...flags,
        "--quiet",
        "--target",
        target,
        "-o",
        output,
        entryOf(name, target),
      ],
      cwd: root,
      stdout: "inherit",
      stderr: "inherit",
    }).output();
    if (code === 0) console.log(`compile: ${output}`);
    else {
      failed++;
      console.error(
        `compile: ${output} failed (exit ${code}); deno compile needs to download denort for ` +
          `${target}, or DENORT_BIN pointing at a local one`,
      );
    }
  }
}
Deno.exit(failed === 0 ? 0 : 1);
