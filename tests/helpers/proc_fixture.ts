/** Test helpers: a temporary proc root made from the fixture files, one round at a time. */
import { fileURLToPath } from "node:url";

export const FIXTURES = fileURLToPath(new URL("../fixtures/agent/", import.meta.url));

export interface FixtureRoot extends AsyncDisposable {
  procRoot: string;
  /** Replaces `<procRoot>/<name>` with the fixture file at `fixture` (relative to FIXTURES). */
  use(name: string, fixture: string): void;
}

/** A temp dir holding a copy of `tests/fixtures/agent/proc`, removed on dispose. */
export async function fixtureRoot(): Promise<FixtureRoot> {
  const dir = await Deno.makeTempDir({ prefix: "oxmon-agent-proc-" });
  const procRoot = `${dir}/proc`;
  Deno.mkdirSync(`${procRoot}/net`, { recursive: true });
  for (const name of ["stat", "meminfo", "mounts", "diskstats", "loadavg", "uptime", "net/dev"]) {
    Deno.copyFileSync(`${FIXTURES}proc/${name}`, `${procRoot}/${name}`);
  }
  return {
    procRoot,
    use(name, fixture) {
      Deno.copyFileSync(`${FIXTURES}${fixture}`, `${procRoot}/${name}`);
    },
    async [Symbol.asyncDispose]() {
      await Deno.remove(dir, { recursive: true });
    },
  };
}

/** Samples as `name{label=value}` → value, for compact assertions. */
export function byKey(
  samples: readonly { name: string; value: number; labels?: Record<string, string> }[],
): Record<string, number> {
  const out: Record<string, number> = {};
  for (const sample of samples) {
    const labels = Object.entries(sample.labels ?? {}).map(([k, v]) => `${k}=${v}`).join(",");
    out[labels ? `${sample.name}{${labels}}` : sample.name] = sample.value;
  }
  return out;
}
