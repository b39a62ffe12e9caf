/**
 * Starts the real oxmon server in-process for end-to-end tests: temp data dir, loopback ports
 * chosen by the OS, and the gRPC listener child launched through `server/main.ts
 * --grpc-listener` exactly as the shipped program does.
 */
import { silentLogger } from "../../shared/log.ts";
import { parseServerConfig, type ServerConfig } from "../../server/config.ts";
import { type RunningServer, startServer } from "../../server/server.ts";

export const SERVER_MAIN = new URL("../../server/main.ts", import.meta.url);

export interface TestServer extends RunningServer {
  config: ServerConfig;
  apiUrl: string;
  getJson(path: string): Promise<{ status: number; body: Record<string, unknown> }>;
}

/** `extraToml` is appended to a config that sets the loopback hosts, ports and data dir. */
export async function startTestServer(
  dataDir: string,
  extraToml = "",
  options: { grpcPort?: number; httpPort?: number } = {},
): Promise<TestServer> {
  const config = parseServerConfig(
    `grpc_host = "127.0.0.1"
grpc_port = ${options.grpcPort ?? 0}
http_host = "127.0.0.1"
http_port = ${options.httpPort ?? 0}
data_dir = ${JSON.stringify(dataDir)}
${extraToml}`,
    "test config",
  );
  const server = await startServer(config, {
    log: silentLogger,
    listenerCommand: {
      cmd: Deno.execPath(),
      args: ["run", "-A", SERVER_MAIN.pathname, "--grpc-listener"],
    },
  });
  const apiUrl = `http://127.0.0.1:${server.httpPort}`;
  return {
    ...server,
    config,
    apiUrl,
    async getJson(path) {
      const response = await fetch(apiUrl + path);
      return { status: response.status, body: await response.json() };
    },
  };
}

/**
 * Runs `use` with a server started on a fresh temp data dir (`extraToml` as for
 * `startTestServer`), then stops it and removes the dir, whatever `use` did.
 */
export async function withTestServer(
  extraToml: string,
  use: (server: TestServer) => Promise<void>,
): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "oxmon-server-" });
  try {
    const server = await startTestServer(`${dir}/data`, extraToml);
    try {
      await use(server);
    } finally {
      await server.stop();
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/** Polls `condition` every 20 ms until it holds; throws naming `what` after `timeoutMs`. */
export async function eventually(
  condition: () => boolean | Promise<boolean>,
  what: string,
  timeoutMs = 15_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) {
      throw new Error(`Timed out after ${timeoutMs} ms waiting for ${what}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
