/**
 * The real Prometheus (Debian `prometheus`, 2.42) and VictoriaMetrics (`victoria-metrics`, 1.79)
 * on 127.0.0.1 for interop tests: each in its own temp dir on a free port, stopped (SIGTERM,
 * then SIGKILL) and cleaned up by `stop()`.
 */

/**
 * Tests that start these peers run on Linux only: the references are Debian's packages, which
 * `.ci/run` installs there (Homebrew's Prometheus is 3.x, whose semantics the differential test
 * does not hold oxmon to).
 */
export const PEERS_AVAILABLE = Deno.build.os === "linux";

export const PROMETHEUS_BIN = "/usr/bin/prometheus";
export const VICTORIA_METRICS_BIN = "/usr/bin/victoria-metrics";

export function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  return port;
}

export interface Peer {
  url: string;
  port: number;
  dataDir: string;
  /** Stops the process, keeps the data dir. */
  kill(): Promise<void>;
  /** Starts it again on the same port and data dir. */
  restart(): Promise<void>;
  /** Stops it and removes its data dir. */
  stop(): Promise<void>;
  /** GET `path` (with query) and the parsed JSON. */
  getJson(path: string): Promise<Record<string, unknown>>;
}

async function waitReady(url: string, child: Deno.ChildProcess, what: string): Promise<void> {
  const deadline = Date.now() + 30_000;
  let exited = false;
  child.status.then(() => exited = true);
  while (Date.now() < deadline) {
    if (exited) throw new Error(`${what} exited during start-up`);
    try {
      const response = await fetch(url);
      await response.body?.cancel();
      if (response.ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  throw new Error(`${what} was not ready within 30 s`);
}

async function startPeer(
  what: string,
  command: (port: number, dataDir: string) => { cmd: string; args: string[] },
  readyPath: string,
  options: { dataDir?: string; port?: number } = {},
): Promise<Peer> {
  const dataDir = options.dataDir ?? await Deno.makeTempDir({ prefix: `oxmon-${what}-` });
  const port = options.port ?? freePort();
  const url = `http://127.0.0.1:${port}`;
  let child: Deno.ChildProcess | undefined;
  const spawn = async () => {
    const { cmd, args } = command(port, dataDir);
    child = new Deno.Command(cmd, { args, stdout: "null", stderr: "null", stdin: "null" }).spawn();
    try {
      await waitReady(url + readyPath, child, what);
    } catch (error) {
      await kill();
      throw error;
    }
  };
  const kill = async () => {
    if (!child) return;
    const running = child;
    child = undefined;
    try {
      running.kill("SIGTERM");
    } catch {
      // already gone
    }
    const timer = setTimeout(() => {
      try {
        running.kill("SIGKILL");
      } catch {
        // already gone
      }
    }, 10_000);
    await running.status;
    clearTimeout(timer);
  };
  await spawn();
  return {
    url,
    port,
    dataDir,
    kill,
    restart: spawn,
    async stop() {
      await kill();
      await Deno.remove(dataDir, { recursive: true }).catch(() => {});
    },
    async getJson(path) {
      const response = await fetch(url + path);
      const body = await response.json();
      if (!response.ok) throw new Error(`GET ${path}: ${response.status} ${JSON.stringify(body)}`);
      return body;
    },
  };
}

export function startVictoriaMetrics(): Promise<Peer> {
  return startPeer("victoria-metrics", (port, dataDir) => ({
    cmd: VICTORIA_METRICS_BIN,
    args: [
      `-storageDataPath=${dataDir}`,
      `-httpListenAddr=127.0.0.1:${port}`,
      "-loggerLevel=ERROR",
      // Samples of any age within the default retention (1 month) are accepted.
      "-search.disableCache",
    ],
  }), "/health");
}

/**
 * Prometheus with the remote-write receiver on; `config` is its YAML (default: no scrape jobs).
 * `extraArgs` are appended to the command line.
 */
export async function startPrometheus(
  options: { config?: string; extraArgs?: string[]; port?: number } = {},
): Promise<Peer> {
  const dir = await Deno.makeTempDir({ prefix: "oxmon-prometheus-" });
  await Deno.writeTextFile(`${dir}/prometheus.yml`, options.config ?? "global: {}\n");
  return startPeer(
    "prometheus",
    (port, dataDir) => ({
      cmd: PROMETHEUS_BIN,
      args: [
        `--config.file=${dataDir}/prometheus.yml`,
        `--storage.tsdb.path=${dataDir}/data`,
        `--web.listen-address=127.0.0.1:${port}`,
        "--web.enable-remote-write-receiver",
        "--log.level=error",
        ...(options.extraArgs ?? []),
      ],
    }),
    "/-/ready",
    { dataDir: dir, port: options.port },
  );
}

/** Makes VictoriaMetrics' freshly ingested samples visible to queries. */
export async function flushVictoriaMetrics(peer: Peer): Promise<void> {
  const response = await fetch(`${peer.url}/internal/force_flush`);
  await response.body?.cancel();
}
