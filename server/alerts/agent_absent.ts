/**
 * `type = "agent_absent"`: fires when an agent matching `agent_pattern` has sent nothing (or,
 * with `metric` and `labels`, nothing of that series) for `absent_secs`, measured on the server
 * clock from when the engine observed its last sample. Judged by the periodic tick; the first
 * sample afterwards resolves it at once. An agent is watched from its first sample on; the time it
 * was last seen is persisted, so a restart does not forget a silent agent.
 */
import type { AgentAbsentRuleConfig } from "./config.ts";
import { BREACH, CLEAR, formatSecs, type Verdict, type VerdictDetails } from "./_evaluator.ts";

export class AgentAbsentEvaluator {
  readonly #rule: AgentAbsentRuleConfig;
  readonly #absentMs: number;
  lastSeenMs: number;
  #nowMs: number;

  constructor(rule: AgentAbsentRuleConfig, lastSeenMs: number) {
    this.#rule = rule;
    this.#absentMs = rule.absentSecs * 1000;
    this.lastSeenMs = lastSeenMs;
    this.#nowMs = lastSeenMs;
  }

  /** A sample arrived at `nowMs` (server clock): the agent is present. */
  seen(nowMs: number): Verdict {
    this.lastSeenMs = Math.max(this.lastSeenMs, nowMs);
    this.#nowMs = nowMs;
    return CLEAR;
  }

  /** Judges the silence at `nowMs`. */
  check(nowMs: number): Verdict {
    this.#nowMs = nowMs;
    return nowMs - this.lastSeenMs >= this.#absentMs ? BREACH : CLEAR;
  }

  details(): VerdictDetails {
    const silentSecs = Math.max(0, Math.floor((this.#nowMs - this.lastSeenMs) / 1000));
    const what = this.#rule.metric ? ` ${this.#rule.metric}` : "";
    return {
      value: silentSecs,
      threshold: this.#rule.absentSecs,
      condition: silentSecs >= this.#rule.absentSecs
        ? `has not reported${what} for ${formatSecs(silentSecs)} ` +
          `(limit ${formatSecs(this.#rule.absentSecs)})`
        : `reported${what} again`,
    };
  }
}
