/**
 * Smoke test of a build: takes the two programs as commands, as a user would run them.
 *
 *   deno task smoke --server "dist/oxmon-server-linux-x64" --agent "dist/oxmon-agent-linux-x64"
 *   deno task smoke --server "deno run -A dist/oxmon-server.js" \
 *                   --agent "deno run -A dist/oxmon-agent.js" [--cwd DIR]
 *   deno task smoke --agent "oxmon-agent-windows-x64.exe" --agent-only
 *
 * Checks `--version` and `--help`; starts the server on free loopback ports with a temp data dir,
 * probes it with `--health-check`, starts the agent against it; waits until `/api/v1/agents`
 * lists the agent and `cpu.usage` has points; backs the live data dir up with `--backup`; stops
 * both with SIGTERM and expects exit 0 and a clean shutdown in their logs. Commands are split on
 * spaces.
 *
 * `--agent-only` (Windows, where the server is not built): the version and help checks, then the
 * agent runs for a few seconds against an address where nothing listens and must still be running;
 * it is then killed, Windows having no SIGTERM to send.
 */
import { parseArgs } from "node:util";
import { delay } from "../shared/deadline.ts";

export interface SmokeOptions {
  /** argv of the server, e.g. `["deno", "run", "-A", "oxmon-server.js"]`. */
  server?: string[];
  agent: string[];
  /** Working directory of both programs; default a fresh temp dir. */
  cwd?: string;
  agentOnly?: boolean;
  /** Progress lines; default stdout. */
  say?: (line: string) => void;
  /** Default 90 s: compiled executables start slower on a cold runner. */
  timeoutMs?: number;
}

const AGENT_ID = "smoke-agent";

interface Program {
  name: string;
  process: Deno.ChildProcess;
  log: string[];
  done: Promise<void>;
}

function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const { port } = listener.addr as Deno.NetAddr;
  listener.close();
  return port;
}

function start(name: string, argv: string[], args: string[], cwd: string): Program {
  const process = new Deno.Command(argv[0], {
    args: [...argv.slice(1), ...args],
    cwd,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
    env: { NO_COLOR: "1" },
  }).spawn();
  const log: string[] = [];
  const pump = async (stream: ReadableStream<Uint8Array>) => {
    let rest = "";
    for await (const chunk of stream.pipeThrough(new TextDecoderStream())) {
      const lines = (rest + chunk).split("\n");
      rest = lines.pop()!;
      log.push(...lines);
    }
    if (rest) log.push(rest);
  };
  const done = Promise.all([pump(process.stdout), pump(process.stderr)]).then(() => {});
  return { name, process, log, done };
}

async function run(argv: string[], args: string[], cwd: string) {
  const { code, stdout, stderr } = await new Deno.Command(argv[0], {
    args: [...argv.slice(1), ...args],
    cwd,
    stdin: "null",
    env: { NO_COLOR: "1" },
  }).output();
  const decode = (bytes: Uint8Array) => new TextDecoder().decode(bytes);
  return { code, stdout: decode(stdout), stderr: decode(stderr) };
}

async function until(what: string, condition: () => Promise<boolean>, deadline: number) {
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await delay(250);
  }
}

async function getJson(url: string): Promise<{ status: number; body: Record<string, unknown> }> {
  try {
    const response = await fetch(url);
    return { status: response.status, body: await response.json() };
  } catch {
    return { status: 0, body: {} };
  }
}

/** `--version` prints `oxmon-<name> X.Y.Z`; `--help` names the program without a source path. */
async function checkCli(name: "server" | "agent", argv: string[], cwd: string) {
  const version = await run(argv, ["--version"], cwd);
  if (version.code !== 0 || !new RegExp(`^oxmon-${name} \\d+\\.\\d+\\.\\d+`).test(version.stdout)) {
    throw new Error(`${name} --version: exit ${version.code}, "${version.stdout.trim()}"`);
  }
  const help = await run(argv, ["--help"], cwd);
  const usage = /^Usage: (.*?) \[/m.exec(help.stdout)?.[1];
  if (help.code !== 0 || !usage || /main(_portable)?\.ts/.test(usage)) {
    throw new Error(`${name} --help: exit ${help.code}, usage line "${usage ?? "(none)"}"`);
  }
  return { version: version.stdout.trim(), usage };
}

async function stop(program: Program, deadline: number, cleanLine: RegExp) {
  program.process.kill("SIGTERM");
  const timer = setTimeout(() => {
    try {
      program.process.kill("SIGKILL");
    } catch {
      // already gone
    }
  }, Math.max(0, deadline - Date.now()));
  const { code } = await program.process.status;
  clearTimeout(timer);
  await program.done;
  if (code !== 0) throw new Error(`${program.name} exited with ${code} after SIGTERM`);
  if (!program.log.some((line) => cleanLine.test(line))) {
    throw new Error(`${program.name} exited 0 without logging ${cleanLine}`);
  }
}

/** Runs the smoke test; throws an `Error` saying which step failed, with the programs' logs. */
export async function runSmoke(options: SmokeOptions): Promise<void> {
  const say = options.say ?? ((line: string) => console.log(`smoke: ${line}`));
  const deadline = Date.now() + (options.timeoutMs ?? 90_000);
  const tempDir = await Deno.makeTempDir({ prefix: "oxmon-smoke-" });
  const cwd = options.cwd ?? tempDir;
  const programs: Program[] = [];
  try {
    const agentCli = await checkCli("agent", options.agent, cwd);
    say(`${agentCli.version}; usage names "${agentCli.usage}"`);
    if (options.agentOnly) {
      const agent = start("agent", options.agent, [
        "--server",
        `http://127.0.0.1:${freePort()}`,
        "--interval",
        "1",
        "--agent-id",
        AGENT_ID,
      ], cwd);
      programs.push(agent);
      let exited = false;
      agent.process.status.then(() => exited = true);
      await delay(4_000);
      if (exited) throw new Error("the agent exited on its own");
      if (!agent.log.some((line) => line.includes("agent starting"))) {
        throw new Error("the agent did not log that it started");
      }
      say("agent runs and retries an absent server");
      return;
    }
    if (!options.server) throw new TypeError("a server command is needed without --agent-only");
    const serverCli = await checkCli("server", options.server, cwd);
    say(`${serverCli.version}; usage names "${serverCli.usage}"`);

    const [grpcPort, httpPort] = [freePort(), freePort()];
    const dataDir = `${tempDir}/data`;
    const api = `http://127.0.0.1:${httpPort}/api/v1`;
    const server = start("server", options.server, [
      "--data-dir",
      dataDir,
      "--grpc-host",
      "127.0.0.1",
      "--grpc-port",
      String(grpcPort),
      "--http-host",
      "127.0.0.1",
      "--http-port",
      String(httpPort),
    ], cwd);
    programs.push(server);
    await until("the server's health endpoint", async () => {
      return (await getJson(`${api}/health`)).status === 200;
    }, deadline);
    await until("the gRPC listener", async () => {
      try {
        (await Deno.connect({ hostname: "127.0.0.1", port: grpcPort })).close();
        return true;
      } catch {
        return false;
      }
    }, deadline);
    const probe = await run(options.server, [
      "--http-host",
      "127.0.0.1",
      "--http-port",
      String(httpPort),
      "--health-check",
    ], cwd);
    if (probe.code !== 0) throw new Error(`--health-check: exit ${probe.code}: ${probe.stderr}`);
    say(`server answers on ${api}; --health-check agrees`);

    const agent = start("agent", options.agent, [
      "--server",
      `http://127.0.0.1:${grpcPort}`,
      "--interval",
      "1",
      "--agent-id",
      AGENT_ID,
    ], cwd);
    programs.push(agent);
    await until(`/agents to list ${AGENT_ID}`, async () => {
      const { body } = await getJson(`${api}/agents`);
      return (body.agents as { agent_id: string }[] | undefined ?? [])
        .some((one) => one.agent_id === AGENT_ID);
    }, deadline);
    await until("cpu.usage points", async () => {
      const { body } = await getJson(`${api}/metrics?agent=${AGENT_ID}&metric=cpu.usage`);
      return (body.series as { points: unknown[] }[] | undefined ?? [])
        .some((series) => series.points.length > 0);
    }, deadline);
    say("the agent is listed and cpu.usage has points");

    const backup = await run(options.server, [
      "--data-dir",
      dataDir,
      "--backup",
      `${tempDir}/backup`,
    ], cwd);
    if (backup.code !== 0) throw new Error(`--backup: exit ${backup.code}: ${backup.stderr}`);
    say(backup.stdout.trim());

    await stop(agent, deadline, /agent stopped/);
    await stop(server, deadline, /oxmon server stopped/);
    say("both stopped cleanly on SIGTERM with exit 0");
  } catch (error) {
    const logs = programs.map((program) =>
      `--- ${program.name} log ---\n${program.log.join("\n")}`
    );
    throw new Error(`${(error as Error).message}\n${logs.join("\n")}`, { cause: error });
  } finally {
    for (const program of programs) {
      try {
        program.process.kill("SIGKILL");
      } catch {
        // already exited
      }
      await program.process.status;
      await program.done;
    }
    await Deno.remove(tempDir, { recursive: true }).catch(() => {});
  }
}

if (import.meta.main) {
  const { values } = parseArgs({
    options: {
      server: { type: "string" },
      agent: { type: "string" },
      cwd: { type: "string" },
      "agent-only": { type: "boolean" },
    },
  });
  // Paths are the caller's: made absolute, since the programs run in another directory.
  const absolute = (word: string) => {
    if (word.startsWith("-") || !/[\\/]/.test(word)) return word;
    try {
      return Deno.realPathSync(word);
    } catch {
      return word;
    }
  };
  const split = (command: string) => command.split(" ").filter(Boolean).map(absolute);
  if (!values.agent || (!values.server && !values["agent-only"])) {
    console.error(
      'usage: smoke.ts --server "CMD" --agent "CMD" [--cwd DIR] | --agent "CMD" ' +
        "--agent-only",
    );
    Deno.exit(2);
  }
  try {
    await runSmoke({
      server: values.server ? split(values.server) : undefined,
      agent: split(values.agent),
      cwd: values.cwd,
      agentOnly: values["agent-only"],
    });
    console.log("smoke: passed");
  } catch (error) {
    console.error(`smoke: FAILED: ${(error as Error).message}`);
    Deno.exit(1);
  }
}
