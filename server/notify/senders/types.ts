/**
 * A channel's way of delivering one notification (one event, or several aggregated ones).
 * Retries, silence windows, queueing and the delivery record are the notifier's business.
 */
import type { AlertEvent } from "../../../shared/types.ts";

export interface Sender {
  /**
   * Starts one notification and returns its attempt function. Each call of `attempt` is one try:
   * it resolves once every target has it and throws (an `Error` saying why) otherwise. Targets
   * reached by an earlier attempt are not sent to again.
   */
  compose(events: readonly AlertEvent[]): (signal: AbortSignal) => Promise<void>;
  /** Releases connections; the sender is not used afterwards. */
  close(): Promise<void>;
}
