/**
 * Fleet load: N simulated agents, each on its own connection, each reporting 50 points every
 * second, from several client processes on 127.0.0.1, against the real server program (its
 * listener child included). Measured after a warm-up: errors, ingest latency p50/p99/max as the
 * clients see it, server and listener RSS (peak) and CPU.
 *
 *   deno run -A tests/bench/fleet_bench.ts [--agents 1000,3000] [--secs 60]
 */
import { parseArgs } from "node:util";
import { childPids } from "../helpers/crash.ts";
import { spawnServer } from "../helpers/server_cli.ts";

export interface FleetFigures {
  agents: number;
  clientProcesses: number;
  measureSecs: number;
  calls: number;
  errors: Record<string, number>;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  serverRssMb: number;
  listenerRssMb: number;
  /** CPU seconds per second over the measurement (1 = one core busy). */
  serverCpu: number;
  listenerCpu: number;
  clientCpu: number;
}

const CLIENT = new URL("./_fleet_client.ts", import.meta.url).pathname;
const TICKS = 100; // clock ticks per second on Linux

function cpuTicks(pid: number): number {
  try {
    const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return Number(fields[11]) + Number(fields[12]);
  } catch {
    return 0;
  }
}

function rssMb(pid: number, field = "VmRSS"): number {
  try {
    const status = Deno.readTextFileSync(`/proc/${pid}/status`);
    return Number(new RegExp(`${field}:\\s+(\\d+)`).exec(status)?.[1] ?? 0) / 1024;
  } catch {
    return 0;
  }
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

/** Runs one fleet size; `agentsPerProcess` bounds how many agents one client process runs. */
export async function benchFleet(options: {
  agents: number;
  measureSecs: number;
  warmupSecs?: number;
  agentsPerProcess?: number;
  /** Another checkout's `server/main.ts`, to compare in the same run. */
  serverMain?: string;
  progress?: (line: string) => void;
}): Promise<FleetFigures> {
  const { agents, measureSecs } = options;
  const warmupSecs = options.warmupSecs ?? 10;
  const perProcess = options.agentsPerProcess ?? 750;
  const processes = Math.ceil(agents / perProcess);
  const dataDir = await Deno.makeTempDir({ prefix: "oxmon-fleet-bench-" });
  const configPath = `${dataDir}.toml`;
  // Every agent holds its own connection: the default max_connections (1,000) would refuse most
  // of a larger fleet, and the bench would measure reconnect storms instead of ingest.
  Deno.writeTextFileSync(
    configPath,
    `[log]\nlevel = "info"\n[grpc]\nmax_connections = ${agents + 100}\n`,
  );
  const server = spawnServer(dataDir, { configPath, main: options.serverMain });
  try {
    const { grpcPort } = await server.ready;
    options.progress?.(`fleet: ${agents} agents from ${processes} client processes`);
    const clients = Array.from({ length: processes }, (_, i) => {
      const first = i * perProcess;
      const count = Math.min(perProcess, agents - first);
      return new Deno.Command(Deno.execPath(), {
        args: [
          "run",
          "-A",
          CLIENT,
          ...[grpcPort, first, count, warmupSecs, measureSecs].map(String),
        ],
        stdout: "piped",
        stderr: "inherit",
      }).spawn();
    });
    // Sample from the end of the warm-up to the end of the measurement.
    await new Promise((resolve) => setTimeout(resolve, (2 + warmupSecs) * 1_000));
    const listener = childPids(server.process.pid)[0];
    const cpuStart = {
      server: cpuTicks(server.process.pid),
      listener: cpuTicks(listener),
      clients: clients.reduce((sum, c) => sum + cpuTicks(c.pid), 0),
    };
    const started = performance.now();
    let serverPeak = 0;
    let listenerPeak = 0;
    const sampler = setInterval(() => {
      serverPeak = Math.max(serverPeak, rssMb(server.process.pid));
      listenerPeak = Math.max(listenerPeak, rssMb(childPids(server.process.pid)[0] ?? -1));
    }, 1_000);
    await new Promise((resolve) => setTimeout(resolve, measureSecs * 1_000 - 500));
    const elapsed = (performance.now() - started) / 1_000;
    const cpu = {
      server: (cpuTicks(server.process.pid) - cpuStart.server) / TICKS / elapsed,
      listener: (cpuTicks(listener) - cpuStart.listener) / TICKS / elapsed,
      clients: (clients.reduce((sum, c) => sum + cpuTicks(c.pid), 0) - cpuStart.clients) / TICKS /
        elapsed,
    };
    clearInterval(sampler);
    const outputs = await Promise.all(clients.map((client) => client.output()));
    const latencies: number[] = [];
    const errors: Record<string, number> = {};
    let calls = 0;
    for (const output of outputs) {
      const text = new TextDecoder().decode(output.stdout).trim().split("\n").at(-1) ?? "{}";
      const result = JSON.parse(text);
      calls += result.calls;
      for (const [kind, n] of Object.entries(result.errors as Record<string, number>)) {
        errors[kind] = (errors[kind] ?? 0) + n;
      }
      for (const ms of result.latencies) latencies.push(ms);
    }
    latencies.sort((a, b) => a - b);
    return {
      agents,
      clientProcesses: processes,
      measureSecs,
      calls,
      errors,
      p50Ms: percentile(latencies, 50),
      p99Ms: percentile(latencies, 99),
      maxMs: latencies.at(-1) ?? NaN,
      serverRssMb: serverPeak,
      listenerRssMb: listenerPeak,
      serverCpu: cpu.server,
      listenerCpu: cpu.listener,
      clientCpu: cpu.clients,
    };
  } finally {
    await server.stop();
    await Deno.remove(dataDir, { recursive: true });
    await Deno.remove(configPath).catch(() => {});
  }
}

if (import.meta.main) {
  const { values } = parseArgs({
    options: {
      agents: { type: "string", default: "1000,3000" },
      secs: { type: "string", default: "60" },
      warmup: { type: "string", default: "10" },
      /** Comma-separated server/main.ts paths run in turn for each size (before/after). */
      servers: { type: "string" },
    },
  });
  const servers = values.servers?.split(",") ?? [undefined];
  for (const agents of values.agents.split(",").map(Number)) {
    for (const serverMain of servers) {
      const figures = await benchFleet({
        agents,
        measureSecs: Number(values.secs),
        warmupSecs: Number(values.warmup),
        serverMain,
        progress: (line) => console.error(`${line} (${serverMain ?? "this checkout"})`),
      });
      console.log(JSON.stringify({ server: serverMain ?? "this checkout", ...figures }));
    }
  }
}
