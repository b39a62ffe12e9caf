/**
 * The real `oxmon-server` program in a process of its own (`deno run -A server/main.ts`), for
 * tests that kill it (SIGKILL) or run it on a damaged data dir: loopback hosts, ports the OS
 * picks, its log lines collected, and its ports read from the "oxmon server started" line.
 */
import { pathToFileURL } from "node:url";
import { runtimeFlags } from "../../scripts/run_flags.ts";
import { SERVER_MAIN } from "./server_process.ts";

export interface ServerProcess {
  process: Deno.ChildProcess;
  /** Every log line so far (text format). */
  lines: string[];
  /** Resolves with the ports once the server has started; rejects if it exits first. */
  ready: Promise<{ grpcPort: number; httpPort: number; apiUrl: string }>;
  /** Resolves with the exit status. */
  exited: Promise<Deno.CommandStatus>;
  /** SIGTERM and wait; SIGKILL after `graceMs`. */
  stop(graceMs?: number): Promise<Deno.CommandStatus>;
  kill(): Promise<Deno.CommandStatus>;
}

export interface ServerProcessOptions {
  /** A config file; default: the embedded defaults. */
  configPath?: string;
  /** Extra environment, e.g. `TMPDIR`. */
  env?: Record<string, string>;
  /** Extra arguments after the defaults. */
  args?: string[];
  grpcPort?: number;
  /** The program to run. Default: this checkout's `server/main.ts`. */
  main?: string;
}

export function spawnServer(dataDir: string, options: ServerProcessOptions = {}): ServerProcess {
  const main = options.main ?? SERVER_MAIN.pathname;
  const args = [
    "run",
    "-A",
    // As `deno task server` runs it (the V8 flags of that checkout's task).
    ...runtimeFlags("server", new URL("../", pathToFileURL(main))),
    main,
    ...(options.configPath ? ["--config", options.configPath] : []),
    "--data-dir",
    dataDir,
    "--grpc-host",
    "127.0.0.1",
    "--grpc-port",
    String(options.grpcPort ?? 0),
    "--http-host",
    "127.0.0.1",
    "--http-port",
    "0",
    ...(options.args ?? []),
  ];
  const process = new Deno.Command(Deno.execPath(), {
    args,
    env: options.env,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const lines: string[] = [];
  const ready = Promise.withResolvers<{ grpcPort: number; httpPort: number; apiUrl: string }>();
  ready.promise.catch(() => {});
  const pump = async (stream: ReadableStream<Uint8Array>) => {
    let partial = "";
    for await (const text of stream.pipeThrough(new TextDecoderStream())) {
      const parts = (partial + text).split("\n");
      partial = parts.pop()!;
      for (const line of parts) {
        lines.push(line);
        const started = /oxmon server started.* grpc=[^ ]*:(\d+) http=[^ ]*:(\d+)/.exec(line);
        if (started) {
          const httpPort = Number(started[2]);
          ready.resolve({
            grpcPort: Number(started[1]),
            httpPort,
            apiUrl: `http://127.0.0.1:${httpPort}`,
          });
        }
      }
    }
    if (partial) lines.push(partial);
  };
  const pumps = Promise.all([pump(process.stdout), pump(process.stderr)]);
  const exited = Promise.all([process.status, pumps]).then(([status]) => {
    ready.reject(
      new Error(`the server exited (code ${status.code}) before it started:\n${lines.join("\n")}`),
    );
    return status;
  });
  const signal = (name: Deno.Signal) => {
    try {
      process.kill(name);
    } catch {
      // Already gone.
    }
  };
  return {
    process,
    lines,
    ready: ready.promise,
    exited,
    async stop(graceMs = 15_000) {
      signal("SIGTERM");
      const timer = setTimeout(() => signal("SIGKILL"), graceMs);
      try {
        return await exited;
      } finally {
        clearTimeout(timer);
      }
    },
    kill() {
      signal("SIGKILL");
      return exited;
    },
  };
}
