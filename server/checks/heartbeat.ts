/**
 * Heartbeat (push) checks: a cron job or backup script calls `/api/v1/heartbeat/<token>` when it
 * ran, and the check fails once no call has come for `interval_secs + grace_secs` (what
 * Healthchecks and Uptime Kuma's push monitors do). `/fail` reports a failed run at once.
 *
 * A result is produced on every ping, when the deadline passes, and otherwise once per
 * `interval_secs`, so the series stays alive and "N consecutive failed runs" can be counted.
 * Pings are kept in memory: after a restart each heartbeat gets a full period plus grace.
 */
import type { CheckResult, HeartbeatCheckSpec } from "../../shared/checks/mod.ts";
import { toRfc3339 } from "../../shared/time.ts";

export interface HeartbeatState {
  spec: HeartbeatCheckSpec;
  /** The latest ping, successful or not. */
  lastPingMs: number | null;
  /** When the check fails unless a ping comes first. */
  deadlineMs: number;
  up: boolean;
}

interface Entry extends HeartbeatState {
  lastOkMs: number | null;
  lastEmitMs: number | null;
  failedByPing: boolean;
}

export class HeartbeatMonitor {
  readonly #byToken = new Map<string, Entry>();
  readonly #entries: Entry[];
  readonly #onResult: (result: CheckResult) => void;

  constructor(
    specs: readonly HeartbeatCheckSpec[],
    options: { startMs: number; onResult(result: CheckResult): void },
  ) {
    this.#onResult = options.onResult;
    this.#entries = specs.map((spec) => ({
      spec,
      lastPingMs: null,
      lastOkMs: null,
      lastEmitMs: null,
      failedByPing: false,
      deadlineMs: options.startMs + periodMs(spec),
      up: true,
    }));
    for (const entry of this.#entries) this.#byToken.set(entry.spec.token, entry);
  }

  /** Records a ping; undefined for an unknown token. `failed` reports a failed run. */
  ping(token: string, nowMs: number, failed = false): CheckResult | undefined {
    const entry = this.#byToken.get(token);
    if (!entry) return undefined;
    entry.lastPingMs = nowMs;
    entry.failedByPing = failed;
    if (!failed) {
      entry.lastOkMs = nowMs;
      entry.deadlineMs = nowMs + periodMs(entry.spec);
    }
    entry.up = !failed;
    return this.#emit(entry, nowMs, failed ? "the job reported a failure" : "ping received");
  }

  /** Fails the checks whose deadline passed; repeats each state once per interval. */
  tick(nowMs: number): void {
    for (const entry of this.#entries) {
      if (entry.up && nowMs >= entry.deadlineMs) {
        entry.up = false;
        this.#emit(entry, nowMs, this.#lateMessage(entry, nowMs));
      } else if (
        entry.lastEmitMs === null || nowMs - entry.lastEmitMs >= entry.spec.intervalSecs * 1000
      ) {
        const message = entry.up
          ? entry.lastOkMs === null
            ? `waiting for the first ping (due by ${toRfc3339(entry.deadlineMs)})`
            : `last ping ${toRfc3339(entry.lastOkMs)}`
          : entry.failedByPing
          ? "the job reported a failure"
          : this.#lateMessage(entry, nowMs);
        this.#emit(entry, nowMs, message);
      }
    }
  }

  states(): HeartbeatState[] {
    return this.#entries.map(({ spec, lastPingMs, deadlineMs, up }) => ({
      spec,
      lastPingMs,
      deadlineMs,
      up,
    }));
  }

  #lateMessage(entry: Entry, nowMs: number): string {
    const lateSecs = Math.floor((nowMs - entry.deadlineMs) / 1000) + entry.spec.graceSecs;
    return entry.lastOkMs === null
      ? `no ping since the server started (${lateSecs}s past the period)`
      : `no ping since ${toRfc3339(entry.lastOkMs)} (${lateSecs}s past the period)`;
  }

  #emit(entry: Entry, nowMs: number, message: string): CheckResult {
    // Two results of one series never share a timestamp (storage would see a conflict).
    const timestampMs = entry.lastEmitMs !== null && nowMs <= entry.lastEmitMs
      ? entry.lastEmitMs + 1
      : nowMs;
    entry.lastEmitMs = timestampMs;
    const result: CheckResult = {
      name: entry.spec.name,
      type: "heartbeat",
      target: "heartbeat",
      timestampMs,
      up: entry.up,
      durationMs: 0,
      message,
    };
    this.#onResult(result);
    return result;
  }
}

function periodMs(spec: HeartbeatCheckSpec): number {
  return (spec.intervalSecs + spec.graceSecs) * 1000;
}
