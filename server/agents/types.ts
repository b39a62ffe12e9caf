import type { SystemInfo } from "../../shared/types.ts";

export interface AgentRecord {
  agentId: string;
  firstSeenMs: number;
  lastSeenMs: number;
  /** From the latest batch that carried it. */
  systemInfo?: SystemInfo;
}

/** Persisted registry of agents, updated on every accepted batch. */
export interface AgentRegistry {
  /** Registers on first sight; afterwards updates last seen (and system info when given). */
  recordSeen(agentId: string, seenMs: number, systemInfo?: SystemInfo): void;
  get(agentId: string): AgentRecord | undefined;
  list(): AgentRecord[];
  close(): void;
}
