/**
 * Agent cost on this machine: CPU ms per collection round, resident memory, child processes.
 *
 * Both measurements run the agent the way `deno task agent` does: with the Deno flags of the
 * `agent` task in deno.json (V8 flags included), so flags that trade CPU for memory are paid
 * for in the CPU figure too.
 *
 * - CPU: a fresh subprocess (this file with `--child`) loads what the agent loads, then times
 *   real rounds back to back: every enabled collector reads the real /proc and /sys, and the
 *   batch is encoded as for sending.
 * - RSS: the real agent (`agent/main.ts`) runs for `soakSecs` collecting every second and
 *   sending to a real grpc-js server on 127.0.0.1 (this process); then VmRSS, RssAnon (heap,
 *   stacks: private) and RssFile (pages of the Deno executable and libraries: shared with every
 *   other Deno process, and reclaimable) are read from /proc/<pid>/status, and the agent is
 *   stopped with SIGTERM as a service manager would.
 *
 * Child processes are counted exactly: every spawn entry point of `node:child_process` and
 * `Deno.Command` is wrapped before the agent code loads (systeminformation goes through
 * `node:child_process`). The PID counter of /proc/loadavg is reported too, as an upper bound
 * that includes other processes on the machine.
 */
import childProcess from "node:child_process";
import process from "node:process";

export interface AgentBenchResult {
  cpuMsPerRound: number;
  /** VmRSS of the agent process after the soak; NaN without /proc. */
  rssMb: number;
  rssAnonMb: number;
  rssFileMb: number;
  /** Peak VmRSS (VmHWM) during the soak. */
  rssPeakMb: number;
  soakSecs: number;
  /** Batches the server received during the soak (about one per second). */
  batchesReceived: number;
  /** The Deno flags the agent ran with (from the `agent` task). */
  denoFlags: string[];
  childProcessesPerRound: number;
  rounds: number;
  /** Wall time per round, back to back. */
  wallMsPerRound: number;
  /** PIDs allocated machine-wide per round (an upper bound on our spawns); -1 without /proc. */
  pidsAllocatedPerRound: number;
}

const AGENT_MAIN = new URL("../../agent/main.ts", import.meta.url).pathname;

/**
 * The flags between `deno run` and `agent/main.ts` in deno.json's `agent` task, e.g.
 * `["-A", "--v8-flags=--lite-mode"]`.
 */
export function agentTaskFlags(): string[] {
  const denoJson = JSON.parse(
    Deno.readTextFileSync(new URL("../../deno.json", import.meta.url)),
  ) as { tasks?: Record<string, string> };
  const task = denoJson.tasks?.agent ?? "";
  const words = task.trim().split(/\s+/);
  const run = words.indexOf("run");
  const main = words.findIndex((word) => word.endsWith("agent/main.ts"));
  if (words[0] !== "deno" || run !== 1 || main < run) {
    throw new Error(
      `Cannot read the agent's flags: expected "deno run … agent/main.ts", got "${task}"`,
    );
  }
  return words.slice(run + 1, main);
}

export async function benchAgent(
  options: {
    rounds?: number;
    portable?: boolean;
    soakSecs?: number;
    /** Default: the `agent` task's (see `agentTaskFlags`); to try other flags. */
    denoFlags?: string[];
  } = {},
): Promise<AgentBenchResult> {
  const rounds = options.rounds ?? 200;
  const denoFlags = options.denoFlags ?? agentTaskFlags();
  const args = ["run", ...denoFlags, new URL(import.meta.url).pathname, "--child"];
  args.push(`--rounds=${rounds}`);
  if (options.portable) args.push("--portable");
  const { code, stdout, stderr } = await new Deno.Command(Deno.execPath(), {
    args,
    stdout: "piped",
    stderr: "piped",
    stdin: "null",
  }).output();
  const out = new TextDecoder().decode(stdout);
  if (code !== 0) {
    throw new Error(
      `Cannot benchmark the agent: the child exited with ${code}\n${
        new TextDecoder().decode(stderr)
      }`,
    );
  }
  const cpu = JSON.parse(out.trim().split("\n").at(-1)!) as ChildResult;
  const soak = await soakAgent(denoFlags, options.soakSecs ?? 30);
  return { ...cpu, ...soak, denoFlags };
}

type ChildResult = Pick<
  AgentBenchResult,
  "cpuMsPerRound" | "childProcessesPerRound" | "rounds" | "wallMsPerRound" | "pidsAllocatedPerRound"
>;

/** Fields of /proc/<pid>/status in MB; NaN where there is no /proc. */
function memoryOf(pid: number): Record<"VmRSS" | "RssAnon" | "RssFile" | "VmHWM", number> {
  let status = "";
  try {
    status = Deno.readTextFileSync(`/proc/${pid}/status`);
  } catch {
    // Not Linux: the figures stay NaN.
  }
  const field = (name: string) => {
    const match = new RegExp(`^${name}:\\s+(\\d+) kB`, "m").exec(status);
    return match ? Number(match[1]) / 1024 : NaN;
  };
  return {
    VmRSS: field("VmRSS"),
    RssAnon: field("RssAnon"),
    RssFile: field("RssFile"),
    VmHWM: field("VmHWM"),
  };
}

/** Runs the real agent against a real server for `soakSecs` and reads its memory. */
async function soakAgent(
  denoFlags: string[],
  soakSecs: number,
): Promise<
  Pick<
    AgentBenchResult,
    "rssMb" | "rssAnonMb" | "rssFileMb" | "rssPeakMb" | "soakSecs" | "batchesReceived"
  >
> {
  const { startRecordingServer } = await import("../../agent/_test_server.ts");
  await using server = await startRecordingServer();
  const agent = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      ...denoFlags,
      AGENT_MAIN,
      `--server=http://127.0.0.1:${server.port}`,
      "--agent-id=bench-agent",
      "--interval=1",
    ],
    stdin: "null",
    stdout: "null",
    stderr: "piped",
  }).spawn();
  const stderr = new Response(agent.stderr).text();
  await new Promise((resolve) => setTimeout(resolve, soakSecs * 1000));
  const memory = memoryOf(agent.pid);
  agent.kill("SIGTERM");
  const [{ code }, log] = await Promise.all([agent.status, stderr]);
  const batchesReceived = server.received.length;
  if (code !== 0 || batchesReceived < soakSecs / 2) {
    throw new Error(
      `Cannot benchmark the agent: it exited with ${code} after sending ${batchesReceived} ` +
        `batches in ${soakSecs} s\n${log}`,
    );
  }
  return {
    rssMb: memory.VmRSS,
    rssAnonMb: memory.RssAnon,
    rssFileMb: memory.RssFile,
    rssPeakMb: memory.VmHWM,
    soakSecs,
    batchesReceived,
  };
}

let spawns = 0;

/** Counts every way JS code can start a process, before any agent code is loaded. */
function countSpawns(): void {
  const cp = childProcess as unknown as Record<string, (...args: unknown[]) => unknown>;
  for (
    const name of ["spawn", "spawnSync", "exec", "execSync", "execFile", "execFileSync", "fork"]
  ) {
    const original = cp[name];
    cp[name] = function (this: unknown, ...args: unknown[]) {
      spawns++;
      return original.apply(this, args);
    };
  }
  const proto = Deno.Command.prototype as unknown as Record<
    string,
    (...args: unknown[]) => unknown
  >;
  for (const name of ["spawn", "output", "outputSync"]) {
    const original = proto[name];
    proto[name] = function (this: unknown, ...args: unknown[]) {
      spawns++;
      return original.apply(this, args);
    };
  }
}

function lastPid(): number {
  try {
    return Number(Deno.readTextFileSync("/proc/loadavg").trim().split(/\s+/)[4]);
  } catch {
    return NaN;
  }
}

async function child(rounds: number, portable: boolean): Promise<ChildResult> {
  countSpawns();
  const { collectorOptionsOf } = await import("../../agent/agent.ts");
  const { Collection } = await import("../../agent/collect.ts");
  const { createCollectors } = await import("../../agent/collectors/registry.ts");
  const { defaultAgentConfig } = await import("../../agent/config.ts");
  const { GrpcBatchSender } = await import("../../agent/sender.ts");
  const { encodeMetricBatch } = await import("../../shared/wire/encode_batch.ts");
  const { silentLogger } = await import("../../shared/log.ts");
  const { systemClock } = await import("../../shared/clock.ts");

  const config = defaultAgentConfig();
  // Constructed, like in the agent, though nothing is sent here (the soak sends).
  const sender = new GrpcBatchSender({ server: config.server, agentId: config.agentId });
  const collection = new Collection({
    agentId: config.agentId,
    collectors: createCollectors(collectorOptionsOf(config), {
      enabled: config.collectors,
      platform: portable ? "portable" : undefined,
    }),
    clock: systemClock,
    log: silentLogger,
  });
  const round = async () => {
    const batch = await collection.collect();
    encodeMetricBatch(batch);
  };
  // Warm-up: the JIT and the collectors' first (rate-less) round.
  for (let i = 0; i < 5; i++) await round();

  const spawnsBefore = spawns;
  const pidBefore = lastPid();
  const cpuBefore = process.cpuUsage();
  const wallBefore = performance.now();
  for (let i = 0; i < rounds; i++) await round();
  const wallMs = performance.now() - wallBefore;
  const cpu = process.cpuUsage(cpuBefore);
  const pidAfter = lastPid();
  sender.close();
  return {
    cpuMsPerRound: (cpu.user + cpu.system) / 1000 / rounds,
    childProcessesPerRound: (spawns - spawnsBefore) / rounds,
    rounds,
    wallMsPerRound: wallMs / rounds,
    pidsAllocatedPerRound: Number.isFinite(pidBefore) ? (pidAfter - pidBefore) / rounds : -1,
  };
}

if (import.meta.main) {
  const roundsArg = Deno.args.find((arg) => arg.startsWith("--rounds="));
  const rounds = roundsArg ? Number(roundsArg.slice("--rounds=".length)) : 200;
  const portable = Deno.args.includes("--portable");
  const soakArg = Deno.args.find((arg) => arg.startsWith("--soak="));
  const soakSecs = soakArg ? Number(soakArg.slice("--soak=".length)) : 30;
  // e.g. --agent-flags="-A --v8-flags=--lite-mode"; default: the agent task's flags.
  const flagsArg = Deno.args.find((arg) => arg.startsWith("--agent-flags="));
  const denoFlags = flagsArg?.slice("--agent-flags=".length).trim().split(/\s+/);
  if (Deno.args.includes("--child")) {
    console.log(JSON.stringify(await child(rounds, portable)));
  } else {
    const result = await benchAgent({ rounds, portable, soakSecs, denoFlags });
    const f = (n: number) => n.toFixed(3);
    console.log(`agent collection round (${result.rounds} rounds${portable ? ", portable" : ""})`);
    console.log(`  CPU per round          ${f(result.cpuMsPerRound)} ms   (target <= 5)`);
    console.log(`  wall per round         ${f(result.wallMsPerRound)} ms`);
    console.log(`  agent flags            ${result.denoFlags.join(" ")}`);
    console.log(
      `  RSS after a ${result.soakSecs} s run  ${result.rssMb.toFixed(1)} MB   (target <= 50)`,
    );
    console.log(
      `    anon ${result.rssAnonMb.toFixed(1)} MB, file ${result.rssFileMb.toFixed(1)} MB, ` +
        `peak ${result.rssPeakMb.toFixed(1)} MB; ${result.batchesReceived} batches sent`,
    );
    console.log(`  child processes/round  ${result.childProcessesPerRound}   (target 0)`);
    console.log(
      `  PIDs allocated/round   ${f(result.pidsAllocatedPerRound)}   (machine-wide bound)`,
    );
    console.log(JSON.stringify(result));
  }
}
