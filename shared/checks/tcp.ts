/** The `tcp` check: a connection is opened and closed again; its time is the connect time. */
import type { CheckOutcome, TcpCheckSpec } from "./spec.ts";
import { describeProbeError } from "./_errors.ts";

/** Runs one `tcp` check. Never throws: a failure is an outcome with `up: false`. */
export async function runTcpCheck(
  spec: TcpCheckSpec,
  options: { signal: AbortSignal },
): Promise<CheckOutcome> {
  const started = performance.now();
  try {
    const conn = await Deno.connect({
      hostname: spec.host,
      port: spec.port,
      transport: "tcp",
      signal: options.signal,
    });
    const durationMs = performance.now() - started;
    conn.close();
    return { up: true, durationMs, message: "connected" };
  } catch (error) {
    const durationMs = performance.now() - started;
    const message = error instanceof Deno.errors.ConnectionRefused
      ? "connection refused"
      : describeProbeError(error, options.signal);
    return { up: false, durationMs, message };
  }
}
