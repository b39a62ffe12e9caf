/**
 * Agent cost per collection round on this machine: CPU ms, RSS and child processes.
 *
 * The rounds run in a fresh subprocess (this file with `--child`), so the RSS is the agent's own
 * and not the benchmark runner's. That process loads everything the agent loads (collectors,
 * protobuf code, grpc-js with a channel), then times real rounds: every enabled collector reads
 * the real /proc and /sys, and the batch is protobuf-encoded as for sending.
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
  rssMb: number;
  childProcessesPerRound: number;
  rounds: number;
  /** Wall time per round, back to back. */
  wallMsPerRound: number;
  /** PIDs allocated machine-wide per round (an upper bound on our spawns); -1 without /proc. */
  pidsAllocatedPerRound: number;
}

export async function benchAgent(
  options: { rounds?: number; portable?: boolean } = {},
): Promise<AgentBenchResult> {
  const rounds = options.rounds ?? 200;
  const args = ["run", "-A", new URL(import.meta.url).pathname, "--child", `--rounds=${rounds}`];
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
  return JSON.parse(out.trim().split("\n").at(-1)!) as AgentBenchResult;
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

async function child(rounds: number, portable: boolean): Promise<AgentBenchResult> {
  countSpawns();
  const { collectorOptionsOf } = await import("../../agent/agent.ts");
  const { Collection } = await import("../../agent/collect.ts");
  const { createCollectors } = await import("../../agent/collectors/registry.ts");
  const { defaultAgentConfig } = await import("../../agent/config.ts");
  const { GrpcBatchSender, toProto } = await import("../../agent/sender.ts");
  const { MetricBatchProto } = await import("../../shared/proto/mod.ts");
  const { silentLogger } = await import("../../shared/log.ts");
  const { systemClock } = await import("../../shared/clock.ts");

  const config = defaultAgentConfig();
  // Constructed, like in the agent, though nothing is sent: its code and channel count in RSS.
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
    MetricBatchProto.encode(toProto(batch)).finish();
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
    rssMb: Deno.memoryUsage().rss / 1024 / 1024,
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
  if (Deno.args.includes("--child")) {
    console.log(JSON.stringify(await child(rounds, portable)));
  } else {
    const result = await benchAgent({ rounds, portable });
    const f = (n: number) => n.toFixed(3);
    console.log(`agent collection round (${result.rounds} rounds${portable ? ", portable" : ""})`);
    console.log(`  CPU per round          ${f(result.cpuMsPerRound)} ms   (target <= 5)`);
    console.log(`  wall per round         ${f(result.wallMsPerRound)} ms`);
    console.log(`  RSS                    ${result.rssMb.toFixed(1)} MB   (target <= 50)`);
    console.log(`  child processes/round  ${result.childProcessesPerRound}   (target 0)`);
    console.log(
      `  PIDs allocated/round   ${f(result.pidsAllocatedPerRound)}   (machine-wide bound)`,
    );
    console.log(JSON.stringify(result));
  }
}
