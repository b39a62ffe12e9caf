/** The oxmon agent as a library: start one in-process, or reuse its parts. */
export {
  type AgentStats,
  collectorOptionsOf,
  gatherSystemInfo,
  runAgent,
  type RunAgentOptions,
} from "./agent.ts";
export {
  type AgentConfig,
  type AgentOverrides,
  applyOverrides,
  defaultAgentConfig,
  loadAgentConfig,
  parseAgentConfig,
  parseServerEndpoint,
} from "./config.ts";
export { BatchBuffer } from "./buffer.ts";
export { type BatchSender, GrpcBatchSender, type SendOutcome } from "./sender.ts";
export { Collection } from "./collect.ts";
export { COLLECTORS, createCollectors } from "./collectors/registry.ts";
export type { Collector, CollectorOptions, Sample } from "./collectors/types.ts";
