/**
 * `oxmon-server --check-data` checks a data directory offline and reports per file: a sound
 * directory exits 0; a damaged chunk, a truncated partition and an index.db that lost its
 * series are each named with what is wrong, and the exit code is 1. Nothing is changed.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { ManualClock } from "../shared/clock.ts";
import { openAgentRegistry } from "../server/agents/sqlite_registry.ts";
import { openChunkStore } from "../server/storage/chunk/engine.ts";
import { SERVER_MAIN } from "./helpers/server_process.ts";

const T0 = Date.UTC(2026, 0, 1, 0);

async function check(dataDir: string): Promise<{ code: number; out: string }> {
  const output = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", SERVER_MAIN.pathname, "--check-data", "--data-dir", dataDir],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const decoder = new TextDecoder();
  return { code: output.code, out: decoder.decode(output.stdout) + decoder.decode(output.stderr) };
}

function snapshot(dir: string): Record<string, string> {
  const sums: Record<string, string> = {};
  for (const entry of Deno.readDirSync(dir)) {
    const bytes = Deno.readFileSync(join(dir, entry.name));
    let hash = 0;
    for (const byte of bytes) hash = (Math.imul(hash, 31) + byte) | 0;
    sums[entry.name] = `${bytes.length}:${hash}`;
  }
  return sums;
}

Deno.test("--check-data reports each damaged file and what is wrong with it, changing nothing", async () => {
  const dataDir = await Deno.makeTempDir({ prefix: "oxmon-check-" });
  try {
    const store = openChunkStore({ dataDir, clock: new ManualClock(T0 + 50 * 3_600_000) });
    for (let t = T0; t < T0 + 48 * 3_600_000; t += 60_000) {
      store.write(Array.from({ length: 30 }, (_, i) => ({
        agentId: "web-1",
        metricName: "cpu.usage",
        labels: { core: String(i) },
        timestampMs: t,
        value: (t / 60_000 + i) % 100,
      })));
    }
    store.close();
    openAgentRegistry(join(dataDir, "agents.db")).close();

    const sound = await check(dataDir);
    assert.equal(sound.code, 0, sound.out);
    assert.match(
      sound.out,
      /^ok {6}2026-01-01\.db \(integrity, \d+ chunks decoded, 0 head-log rows, 30 series\)$/m,
    );
    assert.match(sound.out, /^ok {6}agents\.db \(integrity\)$/m);
    assert.match(sound.out, /all files are sound/);

    // A chunk's bytes damaged inside a sound SQLite page, and the index loses a series.
    const day1 = new DatabaseSync(join(dataDir, "2026-01-01.db"));
    day1.exec(
      "UPDATE chunks SET data = substr(data, 1, 20) || x'ff' || substr(data, 22) WHERE rowid = 7",
    );
    day1.close();
    const index = new DatabaseSync(join(dataDir, "index.db"));
    index.exec("DELETE FROM series WHERE id = 3");
    index.close();
    // The second day cut short.
    const day2 = join(dataDir, "2026-01-02.db");
    Deno.truncateSync(day2, Math.floor(Deno.statSync(day2).size / 2 / 4096) * 4096);

    const before = snapshot(dataDir);
    const damaged = await check(dataDir);
    assert.deepEqual(snapshot(dataDir), before, "the check writes nothing");
    assert.equal(damaged.code, 1, damaged.out);
    assert.match(damaged.out, /^DAMAGED 2026-01-01\.db /m);
    assert.match(damaged.out, /- Cannot decode chunk of series \d+ starting 2026-01-01T\S+: /);
    assert.match(damaged.out, /- 1 of its series ids are missing from index\.db/);
    assert.match(damaged.out, /^DAMAGED 2026-01-02\.db /m);
    assert.match(
      damaged.out,
      /2026-01-02\.db .*\n(\s+- .*\n)*\s+- (integrity_check: |database disk image is malformed)/,
    );
    assert.match(damaged.out, /^ok {6}agents\.db/m);
    assert.match(damaged.out, /2 of \d+ files have problems/);
  } finally {
    await Deno.remove(dataDir, { recursive: true });
  }
});
