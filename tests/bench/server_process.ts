/**
 * The server program of a checkout in its own process, as in production, on free ports of
 * 127.0.0.1 and a data directory of the bench: the benchmarks measure it from outside.
 */
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { runtimeFlags } from "../../scripts/run_flags.ts";

export interface ServerProcess {
  grpcPort: number;
  httpPort: number;
  pid: number;
  stop(): Promise<void>;
}

/** Runs `server/main.ts` of `sourceDir` with `configText` (data dir and ports filled in). */
export async function startServer(
  sourceDir: string,
  dataDir: string,
  configText = "",
): Promise<ServerProcess> {
  const configPath = `${dataDir}.toml`;
  await Deno.mkdir(join(dataDir, ".."), { recursive: true });
  await Deno.writeTextFile(
    configPath,
    `grpc_host = "127.0.0.1"\ngrpc_port = 0\nhttp_host = "127.0.0.1"\nhttp_port = 0\n` +
      `data_dir = "${dataDir}"\n${configText}\n[log]\nlevel = "info"\n`,
  );
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      // As `deno task server` runs it (the V8 flags of that checkout's task).
      ...runtimeFlags("server", pathToFileURL(join(sourceDir, "/"))),
      join(sourceDir, "server/main.ts"),
      "--config",
      configPath,
    ],
    cwd: sourceDir,
    stdin: "null",
    stdout: "null",
    stderr: "piped",
  }).spawn();
  const reader = child.stderr.pipeThrough(new TextDecoderStream()).getReader();
  let text = "";
  while (true) {
    const { value, done } = await reader.read();
    if (done) throw new Error(`server of ${sourceDir} exited before starting:\n${text}`);
    text += value;
    const match = text.match(/oxmon server started .*grpc=[\d.]+:(\d+) http=[\d.]+:(\d+)/);
    if (match) {
      (async () => {
        while (!(await reader.read()).done) { /* keep the pipe drained */ }
      })();
      return {
        grpcPort: Number(match[1]),
        httpPort: Number(match[2]),
        pid: child.pid,
        async stop() {
          child.kill("SIGTERM");
          await child.status;
        },
      };
    }
  }
}
