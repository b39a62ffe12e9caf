/**
 * Hands committed samples to the alert engine after the ingest reply has gone out: `observe`
 * only queues, and the queue is drained on the next macrotask. Evaluation therefore never holds
 * up a commit's acknowledgement, while every committed sample is still evaluated, in order.
 */
import type { Logger } from "../../shared/log.ts";
import type { MetricDataPoint } from "../../shared/types.ts";

export interface DeferredObserver {
  /** Queues the points; returns at once. */
  observe(points: readonly MetricDataPoint[]): void;
  /** Evaluates everything queued now (for shutdown). */
  flush(): void;
  /** Stops the pending timer without evaluating (after `flush`, nothing is pending). */
  close(): void;
}

export function deferObservations(
  engine: { observe(points: readonly MetricDataPoint[]): void },
  log: Logger,
): DeferredObserver {
  let queue: (readonly MetricDataPoint[])[] = [];
  let timer: ReturnType<typeof setTimeout> | undefined;
  const flush = () => {
    if (timer !== undefined) clearTimeout(timer);
    timer = undefined;
    const batches = queue;
    queue = [];
    for (const points of batches) {
      try {
        engine.observe(points);
      } catch (error) {
        log.error("alert evaluation failed", { error });
      }
    }
  };
  return {
    observe(points) {
      queue.push(points);
      timer ??= setTimeout(flush, 0);
    },
    flush,
    close() {
      if (timer !== undefined) clearTimeout(timer);
      timer = undefined;
      queue = [];
    },
  };
}
