/**
 * Checks of what hosts serve (HTTP, TCP, DNS) and heartbeats, shared by the server and the agent:
 * their config, the probes, the runner and the samples a result becomes. Deno APIs only (no npm
 * or `node:` module), so the agent can load it.
 */
export * from "./spec.ts";
export * from "./config.ts";
export { fetchTransport, type HttpTransport, runHttpCheck } from "./http.ts";
export { runTcpCheck } from "./tcp.ts";
export { runDnsCheck } from "./dns.ts";
export { CheckRunner, type CheckRunnerStats, type RunnableCheck } from "./runner.ts";
export { type ProbeOptions, runnableCheck } from "./probe.ts";
export { CheckTimeoutError } from "./_errors.ts";
export * from "./points.ts";
