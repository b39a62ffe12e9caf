/**
 * The first minute as a user lives it: Ctrl-C in a terminal (SIGINT to the whole foreground
 * process group) or `kill -TERM -- -PGID` on `deno task demo` and `deno task server` ends in a
 * clean shutdown and exit 0, although `deno task` and the demo forward the signal a second time.
 */
import assert from "node:assert/strict";

const ROOT = new URL("../", import.meta.url).pathname;

interface Run {
  code: number;
  output: string;
}

/** Runs `deno task <args>` in a process group of its own, signals the group once `ready` shows. */
async function signalGroupWhenReady(
  args: string[],
  ready: RegExp,
  signal: Deno.Signal,
): Promise<Run> {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["task", ...args],
    cwd: ROOT,
    detached: true,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
    env: { NO_COLOR: "1" },
  }).spawn();
  let output = "";
  const seen = Promise.withResolvers<void>();
  const pump = async (stream: ReadableStream<Uint8Array>) => {
    for await (const chunk of stream.pipeThrough(new TextDecoderStream())) {
      output += chunk;
      if (ready.test(output)) seen.resolve();
    }
  };
  const pumps = Promise.all([pump(child.stdout), pump(child.stderr)]);
  const timer = setTimeout(() => seen.reject(new Error(`no ${ready} within 60 s`)), 60_000);
  try {
    await Promise.race([seen.promise, child.status.then(() => seen.promise)]);
    Deno.kill(-child.pid, signal);
    const { code } = await child.status;
    await pumps;
    return { code, output };
  } catch (error) {
    try {
      Deno.kill(-child.pid, "SIGKILL");
    } catch {
      // already gone
    }
    await child.status;
    await pumps;
    throw new Error(`${(error as Error).message}\n${output}`);
  } finally {
    clearTimeout(timer);
  }
}

function assertCleanStop(run: Run, also: RegExp[] = []) {
  assert.equal(run.code, 0, run.output);
  assert.doesNotMatch(run.output, /second stop signal/, run.output);
  assert.match(run.output, /oxmon server stopped/, run.output);
  for (const pattern of also) assert.match(run.output, pattern, run.output);
}

Deno.test({
  name: "Ctrl-C and a TERM to the process group stop `deno task demo` and `deno task server` " +
    "cleanly with exit 0",
  ignore: Deno.build.os === "windows",
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "oxmon-signals-" });
    const demo = (name: string) => [
      "demo",
      "--data-dir",
      `${dir}/${name}`,
      "--http-port",
      "0",
      "--grpc-port",
      "0",
    ];
    const server = (name: string) => [
      "server",
      "--data-dir",
      `${dir}/${name}`,
      "--grpc-host",
      "127.0.0.1",
      "--grpc-port",
      "0",
      "--http-host",
      "127.0.0.1",
      "--http-port",
      "0",
    ];
    try {
      // The demo's ready line is its last one: the dashboard address, printed after the agent
      // has reported.
      const [demoInt, demoTerm, serverInt, serverTerm] = await Promise.all([
        signalGroupWhenReady(demo("demo-int"), /dashboard +http/, "SIGINT"),
        signalGroupWhenReady(demo("demo-term"), /dashboard +http/, "SIGTERM"),
        signalGroupWhenReady(server("server-int"), /oxmon server started/, "SIGINT"),
        signalGroupWhenReady(server("server-term"), /oxmon server started/, "SIGTERM"),
      ]);
      const demoDone = [/agent stopped/, /demo: stopped cleanly/];
      assertCleanStop(demoInt, demoDone);
      assertCleanStop(demoTerm, demoDone);
      assertCleanStop(serverInt);
      assertCleanStop(serverTerm);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});
