/**
 * One channel's pipeline: aggregation buffer → bounded outbox → one sender loop. Each channel
 * has its own loop, so a slow or dead channel delays only itself.
 *
 * Drop policy: the outbox holds at most `capacity` notifications; when a new one arrives at a
 * full outbox, the OLDEST waiting one is dropped, logged and recorded as `dropped` (newer alerts,
 * including resolutions, matter more than stale ones).
 */
import type { Clock } from "../../shared/clock.ts";
import type { Logger } from "../../shared/log.ts";
import type { AlertEvent } from "../../shared/types.ts";
import type { SilenceWindowConfig } from "./config.ts";
import type { DeliveryStatus, DeliveryStore } from "./delivery_store.ts";
import { highestSeverity } from "./message.ts";
import type { Sender } from "./senders/types.ts";
import { createRedactor } from "./redact.ts";

export interface RetryPolicy {
  /** Retries after the first attempt. Default 3 (so at most 4 attempts). */
  retries: number;
  /** Wait before the first retry; doubles each time, with ±20 % jitter. Default 1,000 ms. */
  baseDelayMs: number;
  /** Cap of one wait. Default 30,000 ms. */
  maxDelayMs: number;
  /** An attempt taking longer fails. Default 10,000 ms. */
  attemptTimeoutMs: number;
}

export interface ChannelQueueOptions {
  name: string;
  type: string;
  sender: Sender;
  aggregationWindowMs: number;
  capacity: number;
  maxEventsPerNotification: number;
  retry: RetryPolicy;
  silenceAt(nowMs: number): SilenceWindowConfig | undefined;
  store: DeliveryStore;
  clock: Clock;
  log: Logger;
  sleep(ms: number, signal: AbortSignal): Promise<void>;
  /** Aborted when the notifier's shutdown grace runs out: in-flight attempts stop. */
  signal: AbortSignal;
  /**
   * Applied to every error text before it is logged or recorded (`redact.ts`). Default: the
   * generic patterns only, without the channel's own secrets.
   */
  redact?: (text: string) => string;
}

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** Backoff before retry number `retry` (1-based): base × 2^(retry-1), capped, ±20 % jitter. */
export function backoffMs(retry: number, policy: RetryPolicy, random = Math.random): number {
  const plain = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** (retry - 1));
  return Math.round(plain * (0.8 + 0.4 * random()));
}

export class ChannelQueue {
  readonly #options: ChannelQueueOptions;
  readonly #log: Logger;
  readonly #redact: (text: string) => string;
  #pending: { events: AlertEvent[]; openedMs: number } | undefined;
  readonly #outbox: AlertEvent[][] = [];
  #loop: Promise<void> | undefined;

  constructor(options: ChannelQueueOptions) {
    this.#options = options;
    this.#log = options.log.with({ channel: options.name });
    this.#redact = options.redact ?? createRedactor([]);
  }

  get name(): string {
    return this.#options.name;
  }

  /** Notifications waiting in the outbox (not counting one being sent). */
  get waiting(): number {
    return this.#outbox.length;
  }

  add(event: AlertEvent, nowMs: number): void {
    const windowMs = this.#options.aggregationWindowMs;
    if (windowMs <= 0) return this.#enqueue([event]);
    if (this.#pending && nowMs - this.#pending.openedMs >= windowMs) this.flushPending();
    this.#pending ??= { events: [], openedMs: nowMs };
    this.#pending.events.push(event);
    if (this.#pending.events.length >= this.#options.maxEventsPerNotification) {
      this.flushPending();
    }
  }

  /** Sends the aggregated events once their window has passed. */
  tick(nowMs: number): void {
    if (this.#pending && nowMs - this.#pending.openedMs >= this.#options.aggregationWindowMs) {
      this.flushPending();
    }
  }

  /** Moves the aggregated events to the outbox now. */
  flushPending(): void {
    const pending = this.#pending;
    this.#pending = undefined;
    if (pending && pending.events.length > 0) this.#enqueue(pending.events);
  }

  /** Resolves when the outbox is empty and nothing is being sent. */
  async idle(): Promise<void> {
    while (this.#loop) await this.#loop;
  }

  #enqueue(events: AlertEvent[]): void {
    if (this.#outbox.length >= this.#options.capacity) {
      const dropped = this.#outbox.shift()!;
      const error = `queue full (${this.#options.capacity} notifications): oldest dropped`;
      this.#log.warn("notification dropped", {
        events: dropped.map((event) => event.id).join(","),
        error,
      });
      this.#record(dropped, "dropped", 0, error);
    }
    this.#outbox.push(events);
    this.#kick();
  }

  #kick(): void {
    if (this.#loop) return;
    this.#loop = (async () => {
      // Let dispatch() return before any sending work starts.
      await Promise.resolve();
      while (this.#outbox.length > 0) await this.#deliver(this.#outbox.shift()!);
    })().catch((error) => {
      this.#log.error("notification loop failed", { error });
    }).finally(() => {
      this.#loop = undefined;
      if (this.#outbox.length > 0) this.#kick();
    });
  }

  #record(events: readonly AlertEvent[], status: DeliveryStatus, attempts: number, error?: string) {
    try {
      this.#options.store.add({
        timeMs: this.#options.clock.now(),
        channel: this.#options.name,
        channelType: this.#options.type,
        eventIds: events.map((event) => event.id),
        severity: highestSeverity(events),
        status,
        attempts,
        error: error ?? null,
      });
    } catch (storeError) {
      this.#log.error("cannot record delivery", { status, error: storeError });
    }
  }

  async #deliver(events: AlertEvent[]): Promise<void> {
    const { retry, signal } = this.#options;
    const ids = events.map((event) => event.id).join(",");
    if (signal.aborted) {
      const error = "not sent: notifier closed";
      this.#log.error("notification failed", { events: ids, attempts: 0, error });
      return this.#record(events, "failed", 0, error);
    }
    const window = this.#options.silenceAt(this.#options.clock.now());
    if (window) {
      const reason = `silence window ${window.startTime}-${window.endTime} ${window.recurrence} ` +
        `(${window.timezone})`;
      this.#log.info("notification silenced", { events: ids, window: reason });
      return this.#record(events, "silenced", 0, reason);
    }
    let attempts = 0;
    let lastError = "";
    try {
      const attempt = this.#options.sender.compose(events);
      while (true) {
        attempts += 1;
        const timeout = new AbortController();
        const timer = setTimeout(
          () => timeout.abort(new Error(`timed out after ${retry.attemptTimeoutMs} ms`)),
          retry.attemptTimeoutMs,
        );
        try {
          await attempt(AbortSignal.any([signal, timeout.signal]));
          this.#log.info("notification sent", { events: ids, attempts });
          return this.#record(events, "sent", attempts);
        } catch (error) {
          lastError = this.#redact(errorText(error));
        } finally {
          clearTimeout(timer);
        }
        if (attempts > retry.retries || signal.aborted) break;
        const waitMs = backoffMs(attempts, retry);
        this.#log.warn("notification attempt failed, retrying", {
          events: ids,
          attempt: attempts,
          retry_in_ms: waitMs,
          error: lastError,
        });
        await this.#options.sleep(waitMs, signal).catch(() => {});
        if (signal.aborted) break;
      }
    } catch (error) {
      lastError = this.#redact(errorText(error));
    }
    this.#log.error("notification failed", { events: ids, attempts, error: lastError });
    this.#record(events, "failed", attempts, lastError);
  }
}
