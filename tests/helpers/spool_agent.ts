/**
 * The agent program as the spool tests run it: its own process, reporting every second to a
 * server on `port` that may be down, spooling into `spoolDir`, with only the cheap collectors on.
 */
import { join } from "node:path";

const AGENT_MAIN = new URL("../../agent/main.ts", import.meta.url).pathname;

/** Writes `dir/agent.toml` for `agentId` with a spool in `dir/spool`; returns both paths. */
export function writeSpoolAgentConfig(
  dir: string,
  agentId: string,
  port: number,
): { configPath: string; spoolDir: string } {
  const spoolDir = join(dir, "spool");
  const configPath = join(dir, "agent.toml");
  Deno.writeTextFileSync(
    configPath,
    `agent_id = ${JSON.stringify(agentId)}
server_endpoint = "http://127.0.0.1:${port}"
collection_interval_secs = 1
spool_dir = ${JSON.stringify(spoolDir)}
send_timeout_secs = 1
[collectors]
cpu = false
disk_io = false
network = false
filesystem = false
`,
  );
  return { configPath, spoolDir };
}

/** Starts `agent/main.ts --config configPath` with its output discarded. */
export function startAgentProgram(configPath: string): Deno.ChildProcess {
  return new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", AGENT_MAIN, "--config", configPath],
    stdin: "null",
    stdout: "null",
    stderr: "null",
  }).spawn();
}
