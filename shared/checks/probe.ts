/** A configured check as the runner runs it. */
import type { HttpTransport } from "./http.ts";
import { runHttpCheck } from "./http.ts";
import { runDnsCheck } from "./dns.ts";
import type { RunnableCheck } from "./runner.ts";
import { type CheckOutcome, type ProbedCheckSpec, targetOf } from "./spec.ts";
import { runTcpCheck } from "./tcp.ts";

export interface ProbeOptions {
  /** How `http` checks make their request. */
  transport: HttpTransport;
  /**
   * Adds to an `http` check's outcome (the server adds the certificate's days left for https
   * URLs). Must not throw.
   */
  afterHttp?: (
    spec: ProbedCheckSpec & { type: "http" },
    outcome: CheckOutcome,
  ) => Promise<CheckOutcome>;
}

export function runnableCheck(spec: ProbedCheckSpec, options: ProbeOptions): RunnableCheck {
  const probe = (signal: AbortSignal): Promise<CheckOutcome> => {
    switch (spec.type) {
      case "http": {
        const outcome = runHttpCheck(spec, { signal, transport: options.transport });
        const after = options.afterHttp;
        return after ? outcome.then((result) => after(spec, result)) : outcome;
      }
      case "tcp":
        return runTcpCheck(spec, { signal });
      case "dns":
        return runDnsCheck(spec, { signal });
    }
  };
  return {
    name: spec.name,
    type: spec.type,
    target: targetOf(spec),
    intervalMs: spec.intervalSecs * 1000,
    timeoutMs: spec.timeoutSecs * 1000,
    probe,
  };
}
