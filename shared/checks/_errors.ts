/** Turns what a probe threw into the short reason a check result carries. */
import { DeadlineError } from "../deadline.ts";

/** Set as the abort reason when a run's `timeout_secs` is up. */
export class CheckTimeoutError extends Error {
  constructor(timeoutMs: number) {
    super(`timed out after ${formatMs(timeoutMs)}`);
    this.name = "CheckTimeoutError";
  }
}

export function describeProbeError(error: unknown, signal?: AbortSignal): string {
  if (signal?.aborted && signal.reason instanceof CheckTimeoutError) return signal.reason.message;
  if (error instanceof CheckTimeoutError) return error.message;
  if (error instanceof DeadlineError) return "timed out";
  if (!(error instanceof Error)) return String(error);
  // Deno's fetch wraps the reason: "error sending request for url (...): client error
  // (Connect): tcp connect error: Connection refused (os error 111)". Keep what says why.
  let message = error.message;
  const cause = error.cause instanceof Error ? error.cause.message : undefined;
  if (cause && !message.includes(cause)) message = `${message}: ${cause}`;
  message = message.replace(/^error sending request for url \([^)]*\):\s*/, "");
  message = message.replace(/\s*\(os error \d+\)/g, "");
  return message.length > 300 ? message.slice(0, 297) + "..." : message;
}

function formatMs(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000}s` : `${ms} ms`;
}
