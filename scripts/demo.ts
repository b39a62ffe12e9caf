/**
 * `deno task demo`: starts an oxmon server on embedded defaults (data in ./.oxmon-demo/data)
 * and a local agent reporting to it every 2 s, prints where the dashboard and API are, and stops
 * both cleanly on Ctrl-C. The two run as separate processes, as they would in production.
 */
import { agentTaskFlags } from "./agent_flags.ts";

const root = new URL("../", import.meta.url);
const dataDir = new URL(".oxmon-demo/data/", root).pathname;

/** The preferred port when free, else one the OS picks. */
function choosePort(preferred: number): number {
  for (const port of [preferred, 0]) {
    try {
      const listener = Deno.listen({ hostname: "127.0.0.1", port });
      const chosen = (listener.addr as Deno.NetAddr).port;
      listener.close();
      return chosen;
    } catch (error) {
      if (!(error instanceof Deno.errors.AddrInUse)) throw error;
    }
  }
  throw new Error("no free port");
}

const httpPort = choosePort(8080);
const grpcPort = choosePort(9090);
await Deno.mkdir(dataDir, { recursive: true });

function spawn(entry: string, args: string[], flags: string[] = []): Deno.ChildProcess {
  return new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", ...flags, new URL(entry, root).pathname, ...args],
    cwd: root,
    stdin: "null",
    stdout: "inherit",
    stderr: "inherit",
  }).spawn();
}

// Loopback only: the demo has no agent tokens, so it is not offered to the network.
const server = spawn("server/main.ts", [
  "--data-dir",
  dataDir,
  "--grpc-host",
  "127.0.0.1",
  "--http-host",
  "127.0.0.1",
  "--grpc-port",
  String(grpcPort),
  "--http-port",
  String(httpPort),
]);

const apiUrl = `http://127.0.0.1:${httpPort}`;
async function waitForServer(deadlineMs: number): Promise<boolean> {
  while (Date.now() < deadlineMs) {
    try {
      const response = await fetch(`${apiUrl}/api/v1/health`);
      await response.body?.cancel();
      if (response.ok) return true;
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  return false;
}

if (!(await waitForServer(Date.now() + 30_000))) {
  console.error("demo: the server did not answer within 30 s; stopping");
  server.kill("SIGTERM");
  await server.status;
  Deno.exit(1);
}

// With the flags of `deno task agent` (less resident memory and CPU; see deno.json).
const agent = spawn("agent/main.ts", [
  "--server",
  `http://127.0.0.1:${grpcPort}`,
  "--interval",
  "2",
], agentTaskFlags().filter((flag) => flag !== "-A"));

console.log(`
oxmon demo is running (Ctrl-C stops it)
  dashboard:  ${apiUrl}/
  REST API:   ${apiUrl}/api/v1/health
              ${apiUrl}/api/v1/agents
              ${apiUrl}/api/v1/metrics?metric=cpu.usage&step=10s
  gRPC:       127.0.0.1:${grpcPort} (agent reports every 2 s)
  data:       ${dataDir}
`);

let stopping = false;
const stop = () => {
  if (stopping) return;
  stopping = true;
  console.log("demo: stopping agent and server");
  // Ctrl-C in a terminal already signals the whole process group; this covers `kill PID`.
  for (const child of [agent, server]) {
    try {
      child.kill("SIGTERM");
    } catch {
      // already gone
    }
  }
};
Deno.addSignalListener("SIGINT", stop);
Deno.addSignalListener("SIGTERM", stop);

// When either program ends on its own, the demo is over: stop the other one too.
await Promise.race([agent.status, server.status]);
stop();
const [agentStatus, serverStatus] = await Promise.all([agent.status, server.status]);
console.log(`demo: agent exited with ${agentStatus.code}, server with ${serverStatus.code}`);
Deno.exit(agentStatus.code === 0 && serverStatus.code === 0 ? 0 : 1);
