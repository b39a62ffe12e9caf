/**
 * `deno run -A agent/main.ts [--config FILE] [--server URL] [--agent-id ID] [--interval SECS]`
 *
 * Parses the command line, loads the config and hands off to `runAgent`; SIGINT/SIGTERM stop
 * collection, the buffer is flushed within `shutdown_grace_secs`, and the process exits 0.
 */
import { parseArgs } from "node:util";
import { ConfigError } from "../shared/config/mod.ts";
import { createLogger } from "../shared/log.ts";
import { runAgent } from "./agent.ts";
import { applyOverrides, defaultAgentConfig, loadAgentConfig } from "./config.ts";

const USAGE = `oxmon agent: collects host metrics and reports them to an oxmon server over gRPC.

Usage: deno run -A agent/main.ts [options]

Options:
  --config FILE      TOML config (see config/agent.example.toml); without it, embedded defaults
  --server URL       server_endpoint override, e.g. http://127.0.0.1:9090
  --agent-id ID      agent_id override (default: the host name)
  --interval SECS    collection_interval_secs override (whole seconds, at least 1)
  --help             show this text
`;

export async function main(args: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args,
      options: {
        config: { type: "string" },
        server: { type: "string" },
        "agent-id": { type: "string" },
        interval: { type: "string" },
        help: { type: "boolean", short: "h" },
      },
      strict: true,
      allowPositionals: false,
    });
  } catch (error) {
    console.error(`${(error as Error).message}\n\n${USAGE}`);
    return 2;
  }
  const flags = parsed.values;
  if (flags.help) {
    console.log(USAGE);
    return 0;
  }
  let config;
  try {
    const base = flags.config ? loadAgentConfig(flags.config) : defaultAgentConfig();
    config = applyOverrides(base, {
      serverEndpoint: flags.server,
      agentId: flags["agent-id"],
      collectionIntervalSecs: flags.interval === undefined ? undefined : Number(flags.interval),
    });
  } catch (error) {
    if (error instanceof ConfigError) {
      console.error(error.message);
      return 2;
    }
    throw error;
  }
  const log = createLogger({ level: config.logLevel, format: config.logFormat });
  const controller = new AbortController();
  const stop = () => controller.abort();
  const signals: Deno.Signal[] = Deno.build.os === "windows" ? ["SIGINT"] : ["SIGINT", "SIGTERM"];
  for (const signal of signals) Deno.addSignalListener(signal, stop);
  try {
    await runAgent(config, { signal: controller.signal, log });
  } catch (error) {
    log.error("agent could not run", { error });
    return 1;
  } finally {
    for (const signal of signals) Deno.removeSignalListener(signal, stop);
  }
  return 0;
}

if (import.meta.main) Deno.exit(await main(Deno.args));
