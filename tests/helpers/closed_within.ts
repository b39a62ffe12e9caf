/** How long a peer takes to close a connection, for tests of server-side timeouts and limits. */
import { deadline, DeadlineError } from "../../shared/deadline.ts";

/** Resolves with how long (ms) until the peer closed `conn` (a reset counts); rejects at `limitMs`. */
export async function closedWithin(conn: Deno.Conn, limitMs: number): Promise<number> {
  const started = performance.now();
  const buffer = new Uint8Array(4096);
  const drained = (async () => {
    try {
      while ((await conn.read(buffer)) !== null) { /* drain */ }
    } catch {
      // Reset: closed too.
    }
  })();
  try {
    await deadline(drained, limitMs);
  } catch (error) {
    if (!(error instanceof DeadlineError)) throw error;
    throw new Error(`still open after ${limitMs} ms`, { cause: error });
  }
  return performance.now() - started;
}
