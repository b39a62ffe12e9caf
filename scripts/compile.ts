/**
 * Builds standalone executables with `deno compile`, named as the release assets are:
 * `dist/oxmon-server-linux-x64`, `dist/oxmon-agent-windows-x64.exe`, …
 *
 *   deno task compile                                  # every target, both programs
 *   deno task compile --target linux-x64 --target macos-arm64
 *   deno task compile --target host --program agent   # this machine's target, the agent only
 *   deno task compile --out DIR                        # default dist/
 *
 * `deno compile` embeds a runtime (denort) that it downloads for each target. Whether it can be
 * had is checked before anything is built: from Deno's cache, from DENORT_BIN (a local denort of
 * this Deno version, for one target), or by asking the download server. Without it the script
 * stops with one message saying what to do, and writes nothing.
 */
import { parseArgs } from "node:util";
import { runtimeFlags } from "./run_flags.ts";
import {
  entryOf,
  executableName,
  findTarget,
  hostTarget,
  type Target,
  TARGETS,
} from "./targets.ts";

const PROGRAMS = ["server", "agent"] as const;
type Program = typeof PROGRAMS[number];
/** Where deno compile downloads denort from; OXMON_DENORT_URL points the check elsewhere. */
const DOWNLOAD_BASE = Deno.env.get("OXMON_DENORT_URL") ?? "https://dl.deno.land";
const PROBE_TIMEOUT_MS = 10_000;

const root = new URL("../", import.meta.url);
const fail = (message: string, code = 1): never => {
  console.error(`compile: ${message}`);
  Deno.exit(code);
};

function parseCommandLine(): { targets: Target[]; programs: Program[]; outDir: string } {
  let values;
  try {
    ({ values } = parseArgs({
      options: {
        target: { type: "string", multiple: true },
        program: { type: "string", multiple: true },
        out: { type: "string", default: "dist" },
      },
    }));
  } catch (error) {
    return fail((error as Error).message, 2);
  }
  const targets: Target[] = [];
  for (const text of values.target ?? TARGETS.map((t) => t.name)) {
    try {
      const target = text === "host" ? hostTarget() : findTarget(text);
      if (!target) return fail(`this machine (${Deno.build.target}) is not a build target`, 2);
      if (!targets.includes(target)) targets.push(target);
    } catch (error) {
      return fail((error as Error).message, 2);
    }
  }
  const programs = (values.program ?? [...PROGRAMS]) as Program[];
  for (const program of programs) {
    if (!PROGRAMS.includes(program)) {
      return fail(`unknown --program "${program}"; expected server or agent`, 2);
    }
  }
  return { targets, programs, outDir: values.out };
}

async function denoDir(): Promise<string | undefined> {
  const { code, stdout } = await new Deno.Command(Deno.execPath(), {
    args: ["info", "--json"],
    stdout: "piped",
    stderr: "null",
  }).output();
  if (code !== 0) return undefined;
  return JSON.parse(new TextDecoder().decode(stdout)).denoDir;
}

function isFile(path: string): boolean {
  try {
    return Deno.statSync(path).isFile;
  } catch {
    return false;
  }
}

/** Why denort for `target` cannot be had; empty when it can. */
async function runtimeProblem(target: Target, cacheDir: string | undefined): Promise<string> {
  const version = Deno.version.deno;
  const zip = `denort-${target.triple}.zip`;
  if (cacheDir && isFile(`${cacheDir}/dl/release/v${version}/${zip}`)) return "";
  const url = `${DOWNLOAD_BASE}/release/v${version}/${zip}`;
  try {
    const response = await fetch(url, {
      method: "HEAD",
      signal: AbortSignal.timeout(PROBE_TIMEOUT_MS),
    });
    await response.body?.cancel();
    return response.ok ? "" : `${url} answered ${response.status}`;
  } catch (error) {
    // "error sending request for url (…): client error (Connect): dns error: …": the end says it.
    const message = ((error as Error).cause as Error | undefined)?.message ??
      (error as Error).message;
    return `${DOWNLOAD_BASE} cannot be reached (${message.split(": ").slice(-3).join(": ")})`;
  }
}

/** Checks every target up front; stops with one message when any runtime is missing. */
async function checkRuntimes(targets: Target[]): Promise<void> {
  const version = Deno.version.deno;
  const denortBin = Deno.env.get("DENORT_BIN");
  const advice = [
    `Either build where ${DOWNLOAD_BASE} is reachable (the release workflow compiles on`,
    `GitHub's runners), or set DENORT_BIN to a denort ${version} for the one --target you build`,
    `(denort-<triple>.zip of the Deno ${version} release).`,
    "Without a runtime, `deno task bundle` builds dist/oxmon-server.js and dist/oxmon-agent.js,",
    "which run anywhere Deno does with `deno run -A FILE`.",
  ].join("\n  ");
  if (denortBin !== undefined) {
    if (!isFile(denortBin)) fail(`DENORT_BIN=${denortBin} is not a file.\n  ${advice}`);
    if (targets.length !== 1) {
      fail(
        `DENORT_BIN is the runtime of one target; give exactly one --target ` +
          `(got ${targets.map((t) => t.name).join(", ")}).`,
        2,
      );
    }
    return;
  }
  const cacheDir = await denoDir();
  const problems = await Promise.all(targets.map((t) => runtimeProblem(t, cacheDir)));
  // One line per distinct reason, naming the targets it stops.
  const byReason = new Map<string, string[]>();
  problems.forEach((problem, i) => {
    if (problem) byReason.set(problem, [...byReason.get(problem) ?? [], targets[i].name]);
  });
  if (byReason.size > 0) {
    const lines = [...byReason].map(([reason, names]) => `${names.join(", ")}: ${reason}`);
    fail(
      `deno compile needs its runtime (denort ${version}) for each target and cannot get it.\n  ` +
        `${lines.join("\n  ")}\n  ${advice}`,
    );
  }
}

async function compileOne(program: Program, target: Target, outDir: string): Promise<string> {
  const output = `${outDir}/${executableName(program, target)}`;
  // Each program embeds the runtime flags of its task (V8 flags; the agent's no code cache): see
  // deno.json, tests/bench/agent_bench.ts and server/v8_flags.ts for what they save. A compiled
  // server's listener child is the same binary, so it runs with the server's flags.
  const flags = runtimeFlags(program);
  const { code } = await new Deno.Command(Deno.execPath(), {
    args: [
      "compile",
      "-A",
      ...flags,
      "--quiet",
      "--target",
      target.triple,
      "-o",
      output,
      entryOf(program, target),
    ],
    cwd: root,
    stdout: "inherit",
    stderr: "inherit",
  }).output();
  if (code !== 0) {
    await Deno.remove(new URL(output, root)).catch(() => {});
    throw new Error(`${output}: deno compile exited with ${code}`);
  }
  return output;
}

const { targets, programs, outDir } = parseCommandLine();
await checkRuntimes(targets);
const outUrl = new URL(`${outDir.replace(/\/?$/, "/")}`, root);
let createdOutDir = false;
try {
  await Deno.stat(outUrl);
} catch {
  await Deno.mkdir(outUrl, { recursive: true });
  createdOutDir = true;
}
let failed = 0;
for (const target of targets) {
  for (const program of programs) {
    try {
      console.log(`compile: ${await compileOne(program, target, outDir)}`);
    } catch (error) {
      failed++;
      console.error(`compile: ${(error as Error).message}`);
    }
  }
}
if (createdOutDir && [...Deno.readDirSync(outUrl)].length === 0) await Deno.remove(outUrl);
Deno.exit(failed === 0 ? 0 : 1);
