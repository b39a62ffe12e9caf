/**
 * `type = "agent_absent"`: fires when an agent matching `agent_pattern` has sent nothing (or,
 * with `metric` and `labels`, nothing of that series) for `absent_secs`, measured on the server
 * clock from when the engine observed its last sample. One evaluator per (rule, agent): every
 * matching sample is pushed to it as a sign of life and clears it at once; the periodic tick
 * `check`s the silence. An agent is watched from its first sample on; the time it was last seen
 * is persisted, so a restart does not forget a silent agent.
 */
import { MS_PER_SECOND } from "../../shared/time.ts";
import type { AgentAbsentRuleConfig } from "./config.ts";
import {
  BREACH,
  CLEAR,
  type ClockedEvaluator,
  formatSecs,
  type Verdict,
  type VerdictDetails,
} from "./_evaluator.ts";

export class AgentAbsentEvaluator implements ClockedEvaluator {
  readonly #rule: AgentAbsentRuleConfig;
  readonly #absentMs: number;
  /** Server time of the latest sign of life; `-Infinity` until the first. */
  lastSeenMs = -Infinity;
  #nowMs = -Infinity;

  constructor(rule: AgentAbsentRuleConfig) {
    this.#rule = rule;
    this.#absentMs = rule.absentSecs * MS_PER_SECOND;
  }

  /** A sample arrived at `nowMs`: its own timestamp does not matter, late data is life too. */
  push(_timestampMs: number, _value: number, nowMs: number): Verdict {
    return this.seen(nowMs);
  }

  /** The agent was present at `nowMs` (server clock); also restores a persisted last-seen time. */
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
    const silentSecs = Math.max(0, Math.floor((this.#nowMs - this.lastSeenMs) / MS_PER_SECOND));
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
