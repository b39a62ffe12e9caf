/**
 * The agent's cost as a user measures it: whole processes, from outside.
 *
 * Every process under test runs side by side in the same run, so they share the machine's noise:
 *
 * - the agent (`agent/main.ts` with the Deno flags of deno.json's `agent` task) collecting every
 *   second and sending to a real oxmon server on 127.0.0.1 (started in this process, with its
 *   gRPC listener child, as the shipped server runs);
 * - optionally more agents: another tree (`--agent-root=/work/wt/base`, with that tree's own
 *   task flags: a before/after in one run), other Deno flags on this tree (`--flags=…`), or this
 *   tree's agent bundled as `deno task bundle` ships it, run with the task's runtime flags
 *   (`--bundle`);
 * - node_exporter (`/usr/bin/prometheus-node-exporter`, Debian's `prometheus-node-exporter`) with
 *   the eight collectors that cover what the agent collects (cpu, meminfo, filesystem, diskstats,
 *   netdev, loadavg, stat, time), scraped every second by this process. When it is not installed
 *   the run says so and goes on without it.
 *
 * Each agent is first started once with `--help`, so that Deno's caches (module analysis,
 * transpiled sources, in `DENO_DIR`) hold its sources before the measured process starts: the
 * first run after a source changed writes them from a burst of worker threads, whose stacks and
 * malloc arenas stay resident for the life of that process (measured: 57.9 MB against 49.7 MB
 * for the same agent started again). A deployed agent starts on warm caches from its second
 * start on, and the compiled one has none to write.
 *
 * After `warmupSecs` (start-up, the JIT, the first rate-less round) the CPU time of each process
 * is read, then again `secs` later:
 *
 * - CPU per round: the growth of utime+stime of `/proc/PID/stat` (what `top` and `ps` show, all
 *   threads including ended ones) divided by the rounds in between. It counts in clock ticks of
 *   10 ms, so a 60 s window is exact to ±0.17 ms per round: repeat runs and read the range.
 *   Beside it, the same from the threads' `schedstat` (nanoseconds), given only when no thread
 *   started or ended in the window (it cannot see an ended thread's time).
 * - RSS: VmRSS, RssAnon, RssFile, VmHWM of `/proc/PID/status` at the end.
 * - Child processes: `/proc/PID/task/TID/children` of every process, polled every 100 ms over the
 *   whole run, plus cutime+cstime (CPU of children it waited for): both must stay 0.
 * - Rounds the server actually stored (points of `system.uptime` in the window), so an agent
 *   that silently stopped sending cannot look cheap.
 *
 *   deno run -A tests/bench/agent_bench.ts [--secs=60] [--warmup=15] [--repeat=1]
 *     [--agent-root=DIR]… [--flags="-A --v8-flags=…"]… [--bundle] [--no-node-exporter]
 */
import { runtimeFlags, taskFlags } from "../../scripts/run_flags.ts";
import { startTestServer, type TestServer } from "../helpers/server_process.ts";

const TREE = new URL("../../", import.meta.url).pathname.replace(/\/$/, "");
export const NODE_EXPORTER = "/usr/bin/prometheus-node-exporter";
/** The node_exporter collectors that match the agent's: cpu, memory, disks, network, load, uptime. */
export const NODE_EXPORTER_COLLECTORS = [
  "cpu",
  "meminfo",
  "filesystem",
  "diskstats",
  "netdev",
  "loadavg",
  "stat",
  "time",
] as const;
const CLOCK_TICK_MS = 10;

/** One process measured: what it cost per round in the measured window. */
export interface ProcessCost {
  label: string;
  /** Command line, for the record. */
  command: string[];
  /** utime+stime growth per round, from /proc/PID/stat (10 ms ticks). */
  cpuMsPerRound: number;
  /** The same from the threads' schedstat (ns); NaN when the set of threads changed. */
  cpuMsPerRoundExact: number;
  /** utime+stime when the window opened: start-up plus the warm-up rounds. */
  cpuMsStartup: number;
  rssMb: number;
  rssAnonMb: number;
  rssFileMb: number;
  rssPeakMb: number;
  threads: number;
  /** Distinct child processes seen, and whether waited-for children used CPU. */
  childProcesses: number;
  childCpuMs: number;
  /** Rounds in the window: batches stored by the server, or scrapes answered. */
  rounds: number;
}

export interface AgentBenchResult {
  secs: number;
  warmupSecs: number;
  agents: ProcessCost[];
  /** Absent when node_exporter is not installed. */
  nodeExporter?: ProcessCost;
  nodeExporterMissing?: string;
}

export interface AgentVariant {
  label: string;
  /** The tree whose `agent/main.ts` runs. Default: this one. */
  root?: string;
  /** Deno flags between `run` and the entry. Default: that tree's `agent` task flags. */
  denoFlags?: string[];
  /** The program to run, e.g. a bundle. Default: `agent/main.ts` of `root`. */
  entry?: string;
}

interface CpuSample {
  /** utime+stime and cutime+cstime (fields 14–17 of /proc/PID/stat), in clock ticks. */
  ticks: number;
  childTicks: number;
  /** Time on CPU of each current thread, from its schedstat, in ns. */
  threadNs: Map<string, number>;
}

function cpuOf(pid: number): CpuSample {
  const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
  // The command name (field 2) may hold spaces; the fields after its ")" are plain.
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  const [utime, stime, cutime, cstime] = fields.slice(11, 15).map(Number);
  const threadNs = new Map<string, number>();
  for (const task of Deno.readDirSync(`/proc/${pid}/task`)) {
    try {
      const schedstat = Deno.readTextFileSync(`/proc/${pid}/task/${task.name}/schedstat`);
      threadNs.set(task.name, Number(schedstat.split(" ")[0]));
    } catch {
      // The thread ended between the listing and the read: the sets will differ.
    }
  }
  return { ticks: utime + stime, childTicks: cutime + cstime, threadNs };
}

/** CPU ms between two samples from the threads' schedstat; NaN when the threads changed. */
function exactCpuMs(before: CpuSample, after: CpuSample): number {
  const same = before.threadNs.size === after.threadNs.size &&
    [...before.threadNs.keys()].every((tid) => after.threadNs.has(tid));
  if (!same) return NaN;
  let ns = 0;
  for (const [tid, atEnd] of after.threadNs) ns += atEnd - before.threadNs.get(tid)!;
  return ns / 1e6;
}

/** Fields of /proc/PID/status in MB (Threads as a count). */
function memoryOf(pid: number) {
  const status = Deno.readTextFileSync(`/proc/${pid}/status`);
  const field = (name: string) => {
    const match = new RegExp(`^${name}:\\s+(\\d+)`, "m").exec(status);
    return match ? Number(match[1]) : NaN;
  };
  return {
    rssMb: field("VmRSS") / 1024,
    rssAnonMb: field("RssAnon") / 1024,
    rssFileMb: field("RssFile") / 1024,
    rssPeakMb: field("VmHWM") / 1024,
    threads: field("Threads"),
  };
}

/** Live children of every thread of `pid`. */
function childrenOf(pid: number): number[] {
  const children: number[] = [];
  try {
    for (const task of Deno.readDirSync(`/proc/${pid}/task`)) {
      const text = Deno.readTextFileSync(`/proc/${pid}/task/${task.name}/children`).trim();
      if (text) children.push(...text.split(" ").map(Number));
    }
  } catch {
    // The process or a thread ended meanwhile.
  }
  return children;
}

function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  return port;
}

interface Running {
  label: string;
  command: string[];
  process: Deno.ChildProcess;
  stderr: Promise<string>;
  children: Set<number>;
  /** Rounds in the window, counted by whoever can see them. */
  rounds: (fromMs: number, toMs: number) => Promise<number>;
  stop(): Promise<void>;
}

function spawn(command: string[], env?: Record<string, string>) {
  const process = new Deno.Command(command[0], {
    args: command.slice(1),
    stdin: "null",
    stdout: "null",
    stderr: "piped",
    env,
  }).spawn();
  const stderr = new Response(process.stderr).text();
  return { process, stderr };
}

/** `deno run <flags> <entry>` of a variant, without the agent's own arguments. */
function agentCommand(variant: AgentVariant): string[] {
  const root = variant.root ?? TREE;
  return [
    Deno.execPath(),
    "run",
    ...(variant.denoFlags ?? taskFlags("agent", new URL(`file://${root}/`))),
    variant.entry ?? `${root}/agent/main.ts`,
  ];
}

/** Runs a command to its end; throws "Cannot `what`" with its exit code and stderr if it fails. */
async function runOrThrow(cmd: string, args: string[], what: string): Promise<void> {
  const { code, stderr } = await new Deno.Command(cmd, {
    args,
    stdin: "null",
    stdout: "null",
    stderr: "piped",
  }).output();
  if (code !== 0) {
    throw new Error(`Cannot ${what}: exit code ${code}\n${new TextDecoder().decode(stderr)}`);
  }
}

/** Runs the variant once with `--help`, so Deno's caches hold its sources (see above). */
async function warmCaches(variant: AgentVariant): Promise<void> {
  const [cmd, ...args] = agentCommand(variant);
  await runOrThrow(cmd, [...args, "--help"], `start the agent ${variant.label}`);
}

/** This tree's agent bundled as `deno task bundle` writes it, in `dir`. */
export async function bundleAgent(dir: string): Promise<string> {
  const output = `${dir}/oxmon-agent.js`;
  await runOrThrow(
    Deno.execPath(),
    ["bundle", "--quiet", "--platform", "deno", "-o", output, `${TREE}/agent/main.ts`],
    "bundle the agent",
  );
  return output;
}

/** The bundled agent as shipped: run with the runtime flags `deno task compile` embeds. */
export function bundleVariant(entry: string): AgentVariant {
  const denoFlags = ["-A", "--no-config", ...runtimeFlags("agent")];
  return { label: `bundle (${denoFlags.join(" ")})`, denoFlags, entry };
}

function startAgent(variant: AgentVariant, index: number, server: TestServer): Running {
  const agentId = `bench-agent-${index}`;
  const command = [
    ...agentCommand(variant),
    `--server=http://127.0.0.1:${server.grpcPort}`,
    `--agent-id=${agentId}`,
    "--interval=1",
  ];
  const { process, stderr } = spawn(command);
  const running: Running = {
    label: variant.label,
    command,
    process,
    stderr,
    children: new Set(),
    rounds: async (fromMs, toMs) => {
      const { body } = await server.getJson(
        `/api/v1/metrics?agent=${agentId}&metric=system.uptime&from=${fromMs}&to=${toMs}`,
      );
      const series = (body.series ?? []) as { points: unknown[] }[];
      return series.reduce((sum, one) => sum + one.points.length, 0);
    },
    async stop() {
      process.kill("SIGTERM");
      const { code } = await process.status;
      const log = await stderr;
      if (code !== 0) throw new Error(`Agent ${variant.label} exited with ${code}:\n${log}`);
    },
  };
  return running;
}

function startNodeExporter(): Running {
  const port = freePort();
  const command = [
    NODE_EXPORTER,
    `--web.listen-address=127.0.0.1:${port}`,
    "--collector.disable-defaults",
    ...NODE_EXPORTER_COLLECTORS.map((name) => `--collector.${name}`),
  ];
  const { process, stderr } = spawn(command);
  const scrapes: number[] = [];
  const stopped = new AbortController();
  const url = `http://127.0.0.1:${port}/metrics`;
  // Scrape every second on a fixed schedule, as Prometheus does; the first may find it starting.
  const scraping = (async () => {
    const startedAt = performance.now();
    for (let round = 1; !stopped.signal.aborted; round++) {
      try {
        const response = await fetch(url, { signal: stopped.signal });
        await response.arrayBuffer();
        if (response.ok) scrapes.push(Date.now());
      } catch {
        // Not up yet, or stopping.
      }
      const waitMs = startedAt + round * 1000 - performance.now();
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, Math.max(0, waitMs));
        stopped.signal.addEventListener("abort", () => {
          clearTimeout(timer);
          resolve();
        }, { once: true });
      });
    }
  })();
  return {
    label: "node_exporter",
    command,
    process,
    stderr,
    children: new Set(),
    rounds: (fromMs, toMs) =>
      Promise.resolve(scrapes.filter((at) => at >= fromMs && at < toMs).length),
    async stop() {
      stopped.abort();
      await scraping;
      process.kill("SIGTERM");
      await process.status;
      await stderr;
    },
  };
}

function nodeExporterMissing(): string | undefined {
  try {
    Deno.statSync(NODE_EXPORTER);
    return undefined;
  } catch {
    return `${NODE_EXPORTER} is not installed (apt-get install prometheus-node-exporter): ` +
      `no reference figures in this run`;
  }
}

/** Runs the agents (and node_exporter) side by side and measures each from outside. */
export async function benchAgent(
  options: {
    /** Length of the measured window. Default 60. */
    secs?: number;
    /**
     * Start-up and warm-up before the window. Default 15: Deno's start-up worker threads end
     * after 10 s idle, and the exact (schedstat) figure needs the same threads at both ends.
     */
    warmupSecs?: number;
    /** Default: this tree with its task flags. */
    agents?: AgentVariant[];
    /** Default true (when installed). */
    nodeExporter?: boolean;
  } = {},
): Promise<AgentBenchResult> {
  const secs = options.secs ?? 60;
  const warmupSecs = options.warmupSecs ?? 15;
  const variants = options.agents ?? [{ label: "agent" }];
  const missing = options.nodeExporter === false ? "not asked for" : nodeExporterMissing();
  const dataDir = await Deno.makeTempDir({ prefix: "oxmon-agent-bench-" });
  const server = await startTestServer(dataDir, `[log]\nlevel = "error"\n`);
  const running: Running[] = [];
  let poller: ReturnType<typeof setInterval> | undefined;
  let result: AgentBenchResult;
  let stopping: PromiseSettledResult<void>[];
  try {
    for (const variant of variants) await warmCaches(variant);
    for (const [index, variant] of variants.entries()) {
      running.push(startAgent(variant, index, server));
    }
    if (!missing) running.push(startNodeExporter());
    poller = setInterval(() => {
      for (const one of running) {
        for (const child of childrenOf(one.process.pid)) one.children.add(child);
      }
    }, 100);
    await new Promise((resolve) => setTimeout(resolve, warmupSecs * 1000));
    const fromMs = Date.now();
    const before = running.map((one) => cpuOf(one.process.pid));
    await new Promise((resolve) => setTimeout(resolve, secs * 1000));
    const toMs = Date.now();
    const after = running.map((one) => cpuOf(one.process.pid));
    const memory = running.map((one) => memoryOf(one.process.pid));
    clearInterval(poller);
    poller = undefined;
    // The server stores a batch a moment after the round; the window's last one may be in flight.
    await new Promise((resolve) => setTimeout(resolve, 1500));
    const costs: ProcessCost[] = [];
    for (const [i, one] of running.entries()) {
      const rounds = await one.rounds(fromMs, toMs);
      if (rounds < secs / 2) {
        throw new Error(
          `Cannot measure ${one.label}: only ${rounds} rounds in ${secs} s\n${
            (await Promise.race([one.stderr, Promise.resolve("")])).slice(-2000)
          }`,
        );
      }
      costs.push({
        label: one.label,
        command: one.command,
        cpuMsPerRound: (after[i].ticks - before[i].ticks) * CLOCK_TICK_MS / rounds,
        cpuMsPerRoundExact: exactCpuMs(before[i], after[i]) / rounds,
        cpuMsStartup: before[i].ticks * CLOCK_TICK_MS,
        ...memory[i],
        childProcesses: one.children.size,
        childCpuMs: after[i].childTicks * CLOCK_TICK_MS,
        rounds,
      });
    }
    const nodeExporter = missing ? undefined : costs.pop();
    result = { secs, warmupSecs, agents: costs, nodeExporter, nodeExporterMissing: missing };
  } finally {
    if (poller !== undefined) clearInterval(poller);
    stopping = await Promise.allSettled(running.map((one) => one.stop()));
    await server.stop();
    await Deno.remove(dataDir, { recursive: true });
  }
  // An agent that did not stop cleanly (exit code other than 0) fails the run.
  for (const outcome of stopping) if (outcome.status === "rejected") throw outcome.reason;
  return result;
}

/** `min–max` of a figure over repeated runs. */
function range(values: number[], digits: number): string {
  values = values.filter((value) => !Number.isNaN(value));
  if (values.length === 0) return "-";
  const min = Math.min(...values).toFixed(digits);
  const max = Math.max(...values).toFixed(digits);
  return min === max ? min : `${min}–${max}`;
}

/** One table row per process, each figure as the range over the runs. */
export function formatRuns(runs: AgentBenchResult[]): string {
  const labels = [
    ...runs[0].agents.map((agent) => agent.label),
    ...(runs[0].nodeExporter ? ["node_exporter"] : []),
  ];
  const rows = [[
    "process",
    "CPU ms/round",
    "(schedstat)",
    "RSS MB",
    "anon MB",
    "file MB",
    "peak MB",
    "threads",
    "children",
    "start-up CPU ms",
  ]];
  for (const label of labels) {
    const costs = runs.map((run) =>
      label === "node_exporter"
        ? run.nodeExporter!
        : run.agents.find((agent) => agent.label === label)!
    );
    const of = (key: keyof ProcessCost) => costs.map((cost) => cost[key] as number);
    rows.push([
      label,
      range(of("cpuMsPerRound"), 2),
      range(of("cpuMsPerRoundExact"), 2),
      range(of("rssMb"), 1),
      range(of("rssAnonMb"), 1),
      range(of("rssFileMb"), 1),
      range(of("rssPeakMb"), 1),
      range(of("threads"), 0),
      range(costs.map((cost) => cost.childProcesses + (cost.childCpuMs > 0 ? 1 : 0)), 0),
      range(of("cpuMsStartup"), 0),
    ]);
  }
  const widths = rows[0].map((_, i) => Math.max(...rows.map((row) => row[i].length)));
  return rows.map((row) => row.map((cell, i) => cell.padEnd(widths[i])).join("  ")).join("\n");
}

if (import.meta.main) {
  const value = (name: string) =>
    Deno.args.filter((arg) => arg.startsWith(`--${name}=`)).map((arg) =>
      arg.slice(name.length + 3)
    );
  const secs = Number(value("secs")[0] ?? 60);
  const warmupSecs = Number(value("warmup")[0] ?? 15);
  const repeat = Number(value("repeat")[0] ?? 1);
  const agents: AgentVariant[] = [{ label: `agent (${taskFlags("agent").join(" ")})` }];
  for (const root of value("agent-root")) {
    const flags = taskFlags("agent", new URL(`file://${root}/`)).join(" ");
    agents.push({ label: `${root} (${flags})`, root });
  }
  for (const flags of value("flags")) {
    agents.push({ label: `agent (${flags})`, denoFlags: flags.trim().split(/\s+/) });
  }
  const nodeExporter = !Deno.args.includes("--no-node-exporter");
  const bundleDir = await Deno.makeTempDir({ prefix: "oxmon-agent-bundle-" });
  const runs: AgentBenchResult[] = [];
  try {
    if (Deno.args.includes("--bundle")) agents.push(bundleVariant(await bundleAgent(bundleDir)));
    for (let i = 0; i < repeat; i++) {
      console.error(`agent bench: run ${i + 1} of ${repeat}, ${warmupSecs} s + ${secs} s`);
      runs.push(await benchAgent({ secs, warmupSecs, agents, nodeExporter }));
    }
  } finally {
    await Deno.remove(bundleDir, { recursive: true });
  }
  if (runs[0].nodeExporterMissing) console.log(`node_exporter: ${runs[0].nodeExporterMissing}`);
  console.log(
    `${repeat} run(s) of ${secs} s at a 1 s interval after ${warmupSecs} s of warm-up; ranges:`,
  );
  console.log(formatRuns(runs));
  console.log(JSON.stringify(runs));
}
