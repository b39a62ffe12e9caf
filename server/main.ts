/**
 * oxmon server entry point: parses the command line and hands off. With `--grpc-listener` as
 * its first argument the same program runs as the supervised gRPC listener child process.
 */
import { parseArgs } from "node:util";
import { ConfigError } from "../shared/config/mod.ts";
import { createLogger } from "../shared/log.ts";
import { checkDataDir, formatCheckReport } from "./check_data.ts";
import { defaultServerConfig, loadServerConfig, type ServerConfig } from "./config.ts";
import { runListener } from "./ingest/listener.ts";
import { startServer } from "./server.ts";
import { VERSION } from "./version.ts";

const HELP = `oxmon-server ${VERSION}

Usage: oxmon-server [--config FILE] [options]

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
  -V, --version         print the version
  -h, --help            print this help
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
        version: { type: "boolean", short: "V" },
        help: { type: "boolean", short: "h" },
      },
    }));
  } catch (error) {
    console.error(`oxmon-server: ${(error as Error).message}\n\n${HELP}`);
    return 2;
  }
  if (values.help) {
    console.log(HELP);
    return 0;
  }
  if (values.version) {
    console.log(VERSION);
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
  const log = createLogger({ level: config.logLevel, format: config.logFormat });
  let server;
  try {
    server = await startServer(config, { log });
  } catch (error) {
    // E.g. a port in use or a data_dir that cannot be written: say so plainly, no stack trace.
    log.error("cannot start the server", { error });
    return 1;
  }
  let signals = 0;
  const stop = () => {
    // The first signal stops gracefully (bounded by shutdown_grace_secs); a second one means
    // the operator will not wait.
    if (++signals > 1) {
      log.warn("second stop signal: exiting without finishing the shutdown");
      Deno.exit(1);
    }
    server.stop().catch((error) => {
      log.error("shutdown failed", { error });
      Deno.exit(1);
    });
  };
  const stopSignals: Deno.Signal[] = Deno.build.os === "windows"
    ? ["SIGINT"]
    : ["SIGINT", "SIGTERM"];
  for (const signal of stopSignals) Deno.addSignalListener(signal, stop);
  await server.finished;
  for (const signal of stopSignals) Deno.removeSignalListener(signal, stop);
  return 0;
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
