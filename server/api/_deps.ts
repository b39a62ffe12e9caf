import type { Hono } from "hono";
import type { ApiAuth } from "../auth/api_auth.ts";
import type { Clock } from "../../shared/clock.ts";
import type { Logger } from "../../shared/log.ts";
import type { AgentRegistry } from "../agents/types.ts";
import type { MetricStore } from "../storage/types.ts";

/** What the REST API needs from the rest of the server. */
export interface ApiDeps {
  store: MetricStore;
  registry: AgentRegistry;
  clock: Clock;
  /** When the server started, epoch ms (for `uptime_secs`). */
  startedAtMs: number;
  version: string;
  /** Expected collection interval; an agent not seen for 3 of them is inactive. */
  agentIntervalSecs: number;
  log: Logger;
  /**
   * What keeps the server from being fully well (files moved aside as damaged, writes refused):
   * `/api/v1/health` lists them and says `degraded` while there are any.
   */
  issues?: () => readonly HealthIssue[];
  /** Ingest counters shown by `/api/v1/health` (e.g. batches accepted, rejected). */
  ingestStats?: () => Record<string, number>;
  /** Sub-apps mounted under `/api/v1/<key>`, e.g. `{ alerts: createAlertRoutes(...) }`. */
  mounts?: Record<string, Hono>;
  /** Host check, API tokens, sessions and the login form; without it every route is open. */
  auth?: ApiAuth;
  /** The agent whitelist API, mounted at `/api/v1/agents/whitelist` (admin). */
  whitelist?: Hono;
  /** Things an operator should know, listed by `/api/v1/health` (e.g. ingest open to anyone). */
  warnings?: () => string[];
  /**
   * Sub-apps mounted at the root by OpenAPI tag, for paths another protocol fixes, e.g.
   * `{ prometheus: createQueryApiRoutes(...) }` declaring `/prometheus/api/v1/query`.
   */
  rootRoutes?: Record<string, Hono>;
  /** More sections of `/api/v1/health`, e.g. `{ remote_write: [...] }`. */
  healthSections?: () => Record<string, unknown>;
  /** Response size caps; see `DEFAULT_QUERY_LIMITS`. */
  limits?: Partial<QueryLimits>;
  /**
   * The storage's rollups, when it keeps any: a bucketed query reaching back past the raw
   * retention with a step that is not a multiple of the finest rollup is answered at the next
   * multiple (rollups hold nothing finer; the answer's `step_secs` says so).
   */
  rollups?: { rawRetentionDays: number; finestMs: number };
}

/** One thing health reports as making the server `degraded`. */
export interface HealthIssue {
  /** What kind of problem: `quarantined`, `writes_refused`, `low_disk_space`, `unreadable`. */
  kind: string;
  /** What is wrong and what it means, for a person. */
  message: string;
  /** The file concerned, if one is. */
  file?: string;
  /** Since when, epoch ms. */
  sinceMs?: number;
}

export interface QueryLimits {
  /** Most points (raw samples or buckets, over all series) one `/metrics` response carries. */
  maxPoints: number;
  /** Most buckets per series that `from`, `to` and `step` may ask for. */
  maxBucketsPerSeries: number;
}

export const DEFAULT_QUERY_LIMITS: Readonly<QueryLimits> = Object.freeze({
  maxPoints: 100_000,
  maxBucketsPerSeries: 10_000,
});
