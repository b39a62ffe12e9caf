/**
 * The `[[checks]]` of the agent's config, run from the agent. Their results become ordinary
 * samples of the agent (nothing new on the wire). `agent.ts` imports this module only for a
 * config with checks: a module an agent loads stays resident, and most agents have none.
 */
import type { Clock } from "../shared/clock.ts";
import type { Logger } from "../shared/log.ts";
import type { MetricDataPoint } from "../shared/types.ts";
import {
  checkResultPoints,
  CheckRunner,
  fetchTransport,
  type ProbedCheckSpec,
  runnableCheck,
} from "../shared/checks/mod.ts";

export interface AgentChecksOptions {
  agentId: string;
  maxConcurrent: number;
  clock: Clock;
  log: Logger;
  /** Receives the samples of each finished run. */
  onPoints(points: MetricDataPoint[]): void;
}

/** Starts running `specs`; `stop` ends them (results of runs still going are not delivered). */
export function startAgentChecks(
  specs: ProbedCheckSpec[],
  options: AgentChecksOptions,
): { stop(): Promise<void> } {
  const http = fetchTransport();
  const { log } = options;
  const runner = new CheckRunner(
    specs.map((spec) => runnableCheck(spec, { transport: http.transport })),
    {
      maxConcurrent: options.maxConcurrent,
      clock: options.clock,
      log,
      onResult: (result) => {
        if (!result.up) log.debug("check failed", { check: result.name, message: result.message });
        options.onPoints(checkResultPoints(result, options.agentId));
      },
    },
  );
  runner.start();
  return {
    async stop() {
      await runner.stop();
      http.close();
    },
  };
}
