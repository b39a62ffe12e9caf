/**
 * The notifier: routes each alert event to the channels whose `min_severity` it reaches, where it
 * is aggregated, held back by silence windows, sent with retries, and recorded.
 *
 * `dispatch()` never waits for a send and never throws; aggregation windows close on `tick()`,
 * which the server's scheduler calls (every second is plenty).
 */
import { channelSecrets, createRedactor } from "./redact.ts";
import { type Clock, systemClock } from "../../shared/clock.ts";
import { delay, settlesWithin } from "../../shared/deadline.ts";
import { type Logger, silentLogger } from "../../shared/log.ts";
import { type AlertEvent, isSeverity, type Severity, severityRank } from "../../shared/types.ts";
import { ChannelQueue, type RetryPolicy } from "./channel_queue.ts";
import type { ChannelConfig, NotificationConfig } from "./config.ts";
import { type DeliveryPage, type DeliveryQuery, openDeliveryStore } from "./delivery_store.ts";
import { createEmailSender } from "./senders/email.ts";
import { createSmsSender } from "./senders/sms.ts";
import type { Sender } from "./senders/types.ts";
import { createWebhookSender } from "./senders/webhook.ts";
import { activeSilenceWindow } from "./silence.ts";
import { MS_PER_DAY, MS_PER_HOUR } from "../../shared/time.ts";

export interface NotifierOptions {
  config: NotificationConfig;
  /** SQLite file of the delivery record, e.g. `<data_dir>/notify.db`. */
  deliveryStorePath: string;
  /** Default: the system clock. */
  clock?: Clock;
  /** Default: silent. */
  log?: Logger;
  /** Notifications waiting per channel before the oldest is dropped. Default 1,000. */
  queueCapacity?: number;
  /** An aggregated notification is sent early once it holds this many events. Default 100. */
  maxEventsPerNotification?: number;
  /** Default: 3 retries, 1 s doubling to at most 30 s, 10 s per attempt. */
  retry?: Partial<RetryPolicy>;
  /** Waits between retries. Default: a real timer (`delay`). */
  sleep?: (ms: number, signal: AbortSignal) => Promise<void>;
  /** Delivery records older than this are deleted (checked hourly by `tick`). Default 30. */
  deliveryRetentionDays?: number;
  /** Builds a channel's sender. Default: email, webhook and SMS over the network. */
  createSender?: (channel: ChannelConfig, retry: RetryPolicy) => Sender;
}

export interface Notifier {
  /** Hands an event to every channel it is routed to; returns at once. */
  dispatch(event: AlertEvent): void;
  /** Sends aggregated notifications whose window has passed. Default `nowMs`: the clock's. */
  tick(nowMs?: number): void;
  /** Delivery records, newest first. */
  deliveries(query?: DeliveryQuery): DeliveryPage;
  /** Resolves once every channel has sent (or given up on) what it holds, bar aggregation. */
  idle(): Promise<void>;
  /**
   * Stops accepting events, sends what is aggregated or queued within `graceMs` (default
   * 5,000), then aborts what is left (recorded as failed) and closes the delivery record.
   */
  close(graceMs?: number): Promise<void>;
}

export const DEFAULT_RETRY: Readonly<RetryPolicy> = Object.freeze({
  retries: 3,
  baseDelayMs: 1_000,
  maxDelayMs: 30_000,
  attemptTimeoutMs: 10_000,
});

export function defaultSender(channel: ChannelConfig, retry: RetryPolicy): Sender {
  switch (channel.type) {
    case "email":
      return createEmailSender(channel, { timeoutMs: retry.attemptTimeoutMs });
    case "webhook":
      return createWebhookSender(channel);
    case "sms":
      return createSmsSender(channel);
  }
}

/** Opens the delivery record at `deliveryStorePath` and starts no send yet; `close()` it. */
export function openNotifier(options: NotifierOptions): Notifier {
  const clock = options.clock ?? systemClock;
  const log = options.log ?? silentLogger;
  const retry: RetryPolicy = { ...DEFAULT_RETRY, ...options.retry };
  const retentionMs = (options.deliveryRetentionDays ?? 30) * MS_PER_DAY;
  const store = openDeliveryStore(options.deliveryStorePath);
  const shutdown = new AbortController();
  const silenceWindows = options.config.silenceWindows;
  const routes: { minRank: number; queue: ChannelQueue; sender: Sender }[] = [];
  try {
    for (const channel of options.config.channels) {
      const sender = (options.createSender ?? defaultSender)(channel, retry);
      const queue = new ChannelQueue({
        name: channel.name,
        type: channel.type,
        sender,
        aggregationWindowMs: channel.aggregationWindowSecs * 1000,
        capacity: options.queueCapacity ?? 1_000,
        maxEventsPerNotification: options.maxEventsPerNotification ?? 100,
        retry,
        silenceAt: (nowMs) => activeSilenceWindow(silenceWindows, nowMs),
        store,
        clock,
        log,
        sleep: options.sleep ?? delay,
        signal: shutdown.signal,
        redact: createRedactor(channelSecrets(channel)),
      });
      routes.push({ minRank: severityRank(channel.minSeverity), queue, sender });
    }
  } catch (error) {
    for (const { sender } of routes) sender.close().catch(() => {});
    store.close();
    throw error;
  }
  let closed = false;
  let closing: Promise<void> | undefined;
  let lastPruneMs = -Infinity;

  const idle = async () => {
    // A queue may be refilled by another's completion only through dispatch, so one pass plus a
    // re-check until all are quiet is enough.
    while (routes.some(({ queue }) => queue.waiting > 0)) {
      await Promise.all(routes.map(({ queue }) => queue.idle()));
    }
    await Promise.all(routes.map(({ queue }) => queue.idle()));
  };

  const closeNow = async (graceMs: number) => {
    closed = true;
    for (const { queue } of routes) queue.flushPending();
    const finished = await settlesWithin(idle(), graceMs);
    if (!finished) {
      log.warn("notification grace period over: aborting sends", { grace_ms: graceMs });
      shutdown.abort(new Error("notifier closed before the send finished"));
      await idle();
    }
    await Promise.all(routes.map(({ sender }) => sender.close().catch(() => {})));
    store.close();
  };

  return {
    dispatch(event) {
      if (closed) {
        log.warn("notifier closed: event not sent", { event: event.id });
        return;
      }
      if (!isSeverity(event.severity)) {
        log.error("event has an unknown severity: not sent", {
          event: event.id,
          severity: String(event.severity),
        });
        return;
      }
      const rank = severityRank(event.severity as Severity);
      const nowMs = clock.now();
      for (const { minRank, queue } of routes) {
        if (rank < minRank) continue;
        try {
          queue.add(event, nowMs);
        } catch (error) {
          log.error("cannot queue notification", { channel: queue.name, event: event.id, error });
        }
      }
    },
    tick(nowMs = clock.now()) {
      if (closed) return;
      for (const { queue } of routes) queue.tick(nowMs);
      if (nowMs - lastPruneMs >= MS_PER_HOUR) {
        lastPruneMs = nowMs;
        try {
          const removed = store.prune(nowMs - retentionMs);
          if (removed > 0) log.info("old delivery records removed", { removed });
        } catch (error) {
          log.error("cannot prune delivery records", { error });
        }
      }
    },
    deliveries: (query) => store.query(query),
    idle,
    close(graceMs = 5_000) {
      closing ??= closeNow(graceMs);
      return closing;
    },
  };
}
