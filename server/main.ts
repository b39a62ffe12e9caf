/**
 * oxmon server entry point: parses the command line and hands off. With `--grpc-listener` as
 * its first argument the same program runs as the supervised gRPC listener child process.
 */
import { parseArgs } from "node:util";
import { invokedAs } from "../shared/cli.ts";
import { ConfigError } from "../shared/config/mod.ts";
import { createLogger } from "../shared/log.ts";
import { checkDataDir, formatCheckReport } from "./check_data.ts";
import { onStopSignals } from "../shared/stop_signals.ts";
import { defaultServerConfig, loadServerConfig, type ServerConfig } from "./config.ts";
import { runListener } from "./ingest/listener.ts";
import { backupDataDir } from "./backup.ts";
import { type RunningServer, startServer } from "./server.ts";
import { VERSION } from "./version.ts";

const help = (program: string) =>
  `oxmon-server ${VERSION}: stores what oxmon agents report, evaluates alert rules, notifies,
and serves the REST API and the dashboard.

Usage: ${program} [--config FILE] [options]

Options:
  -c, --config FILE     server TOML config (default: embedded defaults)
      --data-dir DIR    override data_dir
      --grpc-host HOST  override grpc_host (bind address)
      --grpc-port PORT  override grpc_port
      --http-host HOST  override http_host (bind address)
      --http-port PORT  override http_port
      --check-config    validate the config and exit
      --check-data      check every file of data_dir (integrity, chunk checksums, series
                        identity) without starting; exit 0 when all are sound, 1 otherwise
      --backup DIR      copy data_dir into DIR (new or empty), safe while the server runs
      --health-check    exit 0 if the server with this config answers /api/v1/health
  -V, --version         print the version
  -h, --help            print this help

Without --config the embedded defaults apply (see config/server.example.toml). SIGINT or
SIGTERM stops it gracefully; a second signal a second later stops it at once. SIGHUP reloads
the TLS certificate and key files.
`;

async function main(args: string[]): Promise<number> {
  if (args[0] === "--grpc-listener") {
    await runListener();
    return 0;
  }
  let values;
  try {
    ({ values } = parseArgs({
      args,
      options: {
        config: { type: "string", short: "c" },
        "data-dir": { type: "string" },
        "grpc-host": { type: "string" },
        "grpc-port": { type: "string" },
        "http-host": { type: "string" },
        "http-port": { type: "string" },
        "check-config": { type: "boolean" },
        "check-data": { type: "boolean" },
        backup: { type: "string" },
        "health-check": { type: "boolean" },
        version: { type: "boolean", short: "V" },
        help: { type: "boolean", short: "h" },
      },
    }));
  } catch (error) {
    console.error(`oxmon-server: ${(error as Error).message}\n\n${help(invokedAs())}`);
    return 2;
  }
  if (values.help) {
    console.log(help(invokedAs()));
    return 0;
  }
  if (values.version) {
    console.log(`oxmon-server ${VERSION}`);
    return 0;
  }
  let config: ServerConfig;
  try {
    config = values.config ? loadServerConfig(values.config) : defaultServerConfig();
    config = applyOverrides(config, values);
  } catch (error) {
    if (error instanceof ConfigError || error instanceof RangeError) {
      console.error(`oxmon-server: ${error.message}`);
      return 2;
    }
    throw error;
  }
  if (values["check-config"]) {
    console.log(`${values.config ?? "embedded defaults"}: OK`);
    return 0;
  }
  if (values["check-data"]) {
    let reports;
    try {
      reports = checkDataDir(config.dataDir);
    } catch (error) {
      console.error(`oxmon-server: cannot check ${config.dataDir}: ${(error as Error).message}`);
      return 2;
    }
    console.log(formatCheckReport(config.dataDir, reports));
    return reports.every((report) => report.problems.length === 0) ? 0 : 1;
  }
  if (values["health-check"]) return await healthCheck(config);
  if (values.backup !== undefined) {
    try {
      const files = await backupDataDir(config.dataDir, values.backup);
      const bytes = files.reduce((sum, file) => sum + file.bytes, 0);
      console.log(
        `backed up ${files.length} files (${(bytes / 1048576).toFixed(1)} MiB) from ` +
          `${config.dataDir} to ${values.backup}`,
      );
      return 0;
    } catch (error) {
      console.error(`oxmon-server: ${(error as Error).message}`);
      return 1;
    }
  }
  const log = createLogger({ level: config.logLevel, format: config.logFormat });
  // Listening before the start: a stop signal that arrives while the server starts (after it
  // logged "started", before startServer returned) must stop it, not kill it.
  let server: RunningServer | undefined;
  let stopRequested = false;
  const stop = (running: RunningServer) =>
    running.stop().catch((error) => {
      log.error("shutdown failed", { error });
      Deno.exit(1);
    });
  const stopped = onStopSignals({
    onStop: () => {
      stopRequested = true;
      if (server) stop(server);
    },
    // The same keystroke delivered twice (process group + forwarding) is not a second signal.
    onRepeat: (signal) => log.debug("stop signal repeated; already stopping", { signal }),
    onForce: () => {
      log.warn("second stop signal: exiting without finishing the shutdown");
      Deno.exit(1);
    },
  });
  try {
    server = await startServer(config, { log });
  } catch (error) {
    // E.g. a port in use or a data_dir that cannot be written: say so plainly, no stack trace.
    log.error("cannot start the server", { error });
    stopped();
    return 1;
  }
  // SIGHUP: certificate renewals without a restart (the files are also watched for changes).
  const reload = () => {
    log.info("SIGHUP: reloading TLS certificates");
    server.reloadTls().catch((error) => log.error("TLS reload failed", { error }));
  };
  if (Deno.build.os !== "windows") Deno.addSignalListener("SIGHUP", reload);
  if (stopRequested) stop(server);
  await server.finished;
  stopped();
  if (Deno.build.os !== "windows") Deno.removeSignalListener("SIGHUP", reload);
  return 0;
}

/** For container health checks: the image carries no curl. */
async function healthCheck(config: ServerConfig): Promise<number> {
  const host = ["0.0.0.0", "::", "[::]"].includes(config.httpHost) ? "127.0.0.1" : config.httpHost;
  const tls = config.security.httpTls !== undefined;
  const url = `${tls ? "https" : "http"}://${host}:${config.httpPort}/api/v1/health`;
  try {
    const status = tls ? await unverifiedHttpsStatus(url) : await httpStatus(url);
    if (status >= 200 && status < 300) {
      console.log(`${url}: healthy`);
      return 0;
    }
    console.error(`oxmon-server: ${url} answered ${status}`);
  } catch (error) {
    console.error(`oxmon-server: ${url}: ${(error as Error).message}`);
  }
  return 1;
}

async function httpStatus(url: string): Promise<number> {
  const response = await fetch(url, { signal: AbortSignal.timeout(5_000) });
  await response.body?.cancel();
  return response.status;
}

/**
 * The status of a GET over HTTPS without verifying the certificate: it names the server as
 * others reach it, rarely the loopback address this probe of its own port uses, and the probe
 * sends nothing secret (health needs no token).
 */
async function unverifiedHttpsStatus(url: string): Promise<number> {
  const https = await import("node:https");
  return await new Promise((resolve, reject) => {
    const request = https.request(url, { rejectUnauthorized: false, timeout: 5_000 }, (reply) => {
      reply.resume();
      resolve(reply.statusCode ?? 0);
    });
    request.on("timeout", () => request.destroy(new Error("no answer within 5 s")));
    request.on("error", reject);
    request.end();
  });
}

function portFlag(name: string, value: string | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  const port = Number(value);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new RangeError(`--${name}: expected a port number from 0 to 65535, got "${value}"`);
  }
  return port;
}

function applyOverrides(
  config: ServerConfig,
  values: {
    "data-dir"?: string;
    "grpc-host"?: string;
    "grpc-port"?: string;
    "http-host"?: string;
    "http-port"?: string;
  },
): ServerConfig {
  return Object.freeze({
    ...config,
    dataDir: values["data-dir"] ?? config.dataDir,
    grpcHost: values["grpc-host"] ?? config.grpcHost,
    httpHost: values["http-host"] ?? config.httpHost,
    grpcPort: portFlag("grpc-port", values["grpc-port"], config.grpcPort),
    httpPort: portFlag("http-port", values["http-port"], config.httpPort),
  });
}

if (import.meta.main) Deno.exit(await main(Deno.args));
