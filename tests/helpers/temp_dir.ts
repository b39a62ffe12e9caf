/**
 * Temp directories under the system's temp folder as it was when the tests loaded. Test files
 * share a process under `deno test --parallel`, and one test points TMPDIR elsewhere for a moment
 * (server/ingest/supervisor_test.ts) and expects nothing else to appear there.
 */
import { tmpdir } from "node:os";

const BASE = tmpdir();

export function makeTempDir(prefix: string): Promise<string> {
  return Deno.makeTempDir({ dir: BASE, prefix });
}

export function makeTempDirSync(prefix: string): string {
  return Deno.makeTempDirSync({ dir: BASE, prefix });
}
