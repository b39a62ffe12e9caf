/**
 * `deno task demo`: an oxmon server on embedded defaults (data in ./.oxmon-demo/data) and a local
 * agent reporting to it every 2 s, as two processes, the way they run in production. It installs
 * the npm packages quietly on the first run, starts the agent once the server's gRPC listener
 * accepts connections, prints where the dashboard is once the agent has reported, and stops both
 * cleanly on Ctrl-C (or SIGTERM).
 *
 *   deno task demo [--data-dir DIR] [--http-port N] [--grpc-port N]   (ports: 0 picks free ones)
 */
import { parseArgs } from "node:util";
import { delay } from "../shared/deadline.ts";
import { onStopSignals } from "../shared/stop_signals.ts";
import { taskFlags } from "./run_flags.ts";

const root = new URL("../", import.meta.url);
const { values } = parseArgs({
  options: {
    "data-dir": { type: "string" },
    "http-port": { type: "string" },
    "grpc-port": { type: "string" },
  },
});
const dataDir = values["data-dir"] ?? new URL(".oxmon-demo/data/", root).pathname;
const say = (line: string) => console.log(`demo: ${line}`);

/** The given port (0: one the OS picks), or by default the preferred one when free. */
function choosePort(given: string | undefined, preferred: number): number {
  const candidates = given === undefined ? [preferred, 0] : [Number(given)];
  for (const port of candidates) {
    try {
      const listener = Deno.listen({ hostname: "127.0.0.1", port });
      const chosen = (listener.addr as Deno.NetAddr).port;
      listener.close();
      return chosen;
    } catch (error) {
      if (!(error instanceof Deno.errors.AddrInUse)) throw error;
    }
  }
  throw new Error(`port ${given} is in use`);
}

/**
 * `deno install --quiet`: the packages in deno.json into ./node_modules. Quiet, because a first
 * run would otherwise list every package (test tools included) and a lifecycle-script warning.
 * Once installed it takes a few milliseconds.
 */
async function installPackages(): Promise<boolean> {
  let fresh = false;
  try {
    await Deno.stat(new URL("node_modules/.deno/", root));
  } catch {
    fresh = true;
    say("first run: installing the npm packages oxmon uses into ./node_modules (once)");
  }
  const { code, stderr } = await new Deno.Command(Deno.execPath(), {
    args: ["install", "--quiet"],
    cwd: root,
    stdin: "null",
    stdout: "null",
    stderr: "piped",
  }).output();
  if (code !== 0) {
    console.error(new TextDecoder().decode(stderr));
    say(`"deno install" failed (exit ${code}); is the npm registry reachable?`);
    return false;
  }
  if (fresh) say("packages installed");
  return true;
}

function spawn(entry: string, args: string[], flags: string[] = []): Deno.ChildProcess {
  return new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", ...flags, new URL(entry, root).pathname, ...args],
    cwd: root,
    stdin: "null",
    stdout: "inherit",
    stderr: "inherit",
  }).spawn();
}

async function until(condition: () => Promise<boolean>, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await condition()) return true;
    await delay(100);
  }
  return false;
}

async function getJson(url: string): Promise<{ ok: boolean; body: unknown }> {
  try {
    const response = await fetch(url);
    return { ok: response.ok, body: await response.json() };
  } catch {
    return { ok: false, body: undefined };
  }
}

async function accepts(port: number): Promise<boolean> {
  try {
    const connection = await Deno.connect({ hostname: "127.0.0.1", port });
    connection.close();
    return true;
  } catch {
    return false;
  }
}

if (!(await installPackages())) Deno.exit(1);

const httpPort = choosePort(values["http-port"], 8080);
const grpcPort = choosePort(values["grpc-port"], 9090);
await Deno.mkdir(dataDir, { recursive: true });
const apiUrl = `http://127.0.0.1:${httpPort}`;

const children: Deno.ChildProcess[] = [];
let stopping = false;
const stopChildren = () => {
  if (stopping) return;
  stopping = true;
  say("stopping agent and server");
  // Ctrl-C already signalled the whole process group; this covers `kill PID` of the demo alone.
  // A program treats a repeat that close to the first signal as the same request.
  for (const child of children) {
    try {
      child.kill("SIGTERM");
    } catch {
      // already gone
    }
  }
};
const stopped = onStopSignals({ onStop: stopChildren });

async function finish(code: number): Promise<never> {
  stopChildren();
  const codes = await Promise.all(children.map((child) => child.status.then((s) => s.code)));
  stopped();
  const clean = codes.every((c) => c === 0);
  say(clean ? "stopped cleanly" : `stopped; exit codes ${codes.join(", ")}`);
  Deno.exit(clean ? code : 1);
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
], taskFlags("server").filter((flag) => flag !== "-A")); // as `deno task server` runs it
children.push(server);
let serverEnded = false;
server.status.then(() => serverEnded = true);

// The agent starts once both the REST API and the gRPC listener child answer.
const ready = await until(
  async () =>
    serverEnded || stopping || ((await getJson(`${apiUrl}/api/v1/health`)).ok &&
      await accepts(grpcPort)),
  30_000,
);
if (stopping) await finish(0);
if (!ready || serverEnded) {
  say("the server did not become ready within 30 s; stopping");
  await finish(1);
}

// With the flags of `deno task agent` (less resident memory and CPU; see deno.json).
const agent = spawn("agent/main.ts", [
  "--server",
  `http://127.0.0.1:${grpcPort}`,
  "--interval",
  "2",
], taskFlags("agent").filter((flag) => flag !== "-A"));
children.push(agent);

const reported = await until(async () => {
  if (stopping) return true;
  const { body } = await getJson(`${apiUrl}/api/v1/agents`);
  return ((body as { agents?: unknown[] } | undefined)?.agents?.length ?? 0) > 0;
}, 20_000);
if (!stopping) {
  if (!reported) say("the agent has not reported within 20 s; see its log lines above");
  console.log(`
oxmon demo is running: a server and a local agent reporting every 2 s. Ctrl-C stops both.
  data       ${dataDir}
  gRPC       127.0.0.1:${grpcPort}
  REST API   ${apiUrl}/api/v1/agents   (all routes: ${apiUrl}/api/v1/openapi.json)
  dashboard  ${apiUrl}/
`);
}

// When either program ends on its own, the demo is over: stop the other one too.
await Promise.race(children.map((child) => child.status));
await finish(0);
