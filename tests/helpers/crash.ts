/**
 * Test support for crash tests: a steady ingest load over real gRPC (grpc-js clients, one agent
 * id each) that retries every batch until it is acknowledged, as an agent does, and remembers
 * what was acknowledged; process helpers (child pids from /proc); and the checks of a data
 * directory afterwards (integrity_check of every file, `--check-data`).
 *
 * The load's memory is bounded whatever the machine's load: each sender has one call in flight
 * and backs off between failures, and its grpc-js client runs in its own Node.js child with a
 * capped heap (`grpc_client.ts`). In the test process, a grpc-js client reconnecting every 50 ms
 * to a server SIGKILLed 20 times once grew `deno test` to its 4 GB heap limit on a loaded
 * machine; now a client that misbehaves so ends its child, and the load fails with that child's
 * exit status instead of retrying.
 */
import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import { GrpcCallError, reportMetrics, withClient } from "./grpc_client.ts";
import { SERVER_MAIN } from "./server_process.ts";

/** A restarted server is found again within a fraction of a second, not grpc-js's 1–120 s. */
const RECONNECT_FAST = {
  "grpc.initial_reconnect_backoff_ms": 50,
  "grpc.min_reconnect_backoff_ms": 50,
  "grpc.max_reconnect_backoff_ms": 250,
};

export interface LoadOptions {
  port: number;
  /** Concurrent senders, each its own agent id `crash-<n>`. Default 4. */
  senders?: number;
  /** Series per batch. Default 20. */
  series?: number;
  /** Timestamp of the first batch; batch k is `startMs + k * 1000`. */
  startMs: number;
}

export interface Load {
  /** Acknowledged batches per sender (batch k of each is acknowledged for k < acked). */
  acked: number[];
  /** Calls that failed with a gRPC status and were retried. */
  retries: number;
  /**
   * Acknowledged batches of all senders; throws once a sender has stopped for good (its client
   * child died), so a test waiting for progress fails with the reason at once.
   */
  total(): number;
  /** Stops the senders; rejects if one stopped for good. */
  stop(): Promise<void>;
}

export function startLoad(options: LoadOptions): Load {
  const senders = options.senders ?? 4;
  const series = options.series ?? 20;
  let running = true;
  let failed: Error | undefined;
  const load: Load = {
    acked: new Array(senders).fill(0),
    retries: 0,
    total: () => {
      if (failed) throw failed;
      return load.acked.reduce((sum, acked) => sum + acked, 0);
    },
    stop: async () => {
      running = false;
      await done;
    },
  };
  const sender = async (n: number) => {
    const agentId = `crash-${n}`;
    await withClient(options.port, async (client) => {
      let failures = 0;
      while (running) {
        const timestampMs = options.startMs + load.acked[n] * 1_000;
        const dataPoints = Array.from({ length: series }, (_, i) => ({
          agentId,
          metricName: "crash.test",
          labels: { n: String(i) },
          timestampMs,
          value: load.acked[n] + i / 100,
        }));
        try {
          await reportMetrics(client, { agentId, timestampMs, dataPoints }, 2_000);
          load.acked[n]++;
          failures = 0;
        } catch (error) {
          // Only a gRPC status is the server's answer; anything else is the client child gone.
          if (!(error instanceof GrpcCallError)) throw error;
          load.retries++;
          // Backing off as an agent does: while a slow machine restarts the server, a retry
          // every 20 ms made failed calls by the thousand.
          const waitMs = Math.min(200, 20 * 2 ** failures++);
          await new Promise((resolve) => setTimeout(resolve, waitMs));
        }
      }
    }, RECONNECT_FAST).catch((error) => {
      failed ??= new Error(`crash-${n}'s sender stopped: ${error.message}`, { cause: error });
      throw failed;
    });
  };
  const done = Promise.all(Array.from({ length: senders }, (_, n) => sender(n)));
  // Reported by total() and stop(), not as an unhandled rejection meanwhile.
  done.catch(() => {});
  return load;
}

/**
 * Checks over REST that every acknowledged batch of a load is stored exactly once: each series
 * of each sender holds exactly the acknowledged timestamps, with the values sent.
 */
export async function assertLoadStored(
  apiUrl: string,
  load: Load,
  options: { startMs: number; series?: number },
): Promise<number> {
  const series = options.series ?? 20;
  let samples = 0;
  for (const [n, acked] of load.acked.entries()) {
    const url = `${apiUrl}/api/v1/metrics?agent=crash-${n}&from=${options.startMs}&to=${
      options.startMs + Math.max(0, acked - 1) * 1_000
    }`;
    const body = await (await fetch(url)).json();
    if (!Array.isArray(body.series)) throw new Error(`${url}: ${JSON.stringify(body)}`);
    if (acked > 0 && body.series.length !== series) {
      throw new Error(`crash-${n}: ${body.series.length} series stored, ${series} sent`);
    }
    for (const one of body.series) {
      const i = Number(one.labels.n);
      const points = one.points as { timestamp: string; value: number }[];
      if (points.length !== acked) {
        throw new Error(`crash-${n} series ${i}: ${points.length} samples stored, ${acked} acked`);
      }
      for (const [k, point] of points.entries()) {
        if (
          Date.parse(point.timestamp) !== options.startMs + k * 1_000 || point.value !== k + i / 100
        ) {
          throw new Error(`crash-${n} series ${i}: sample ${k} is ${JSON.stringify(point)}`);
        }
      }
      samples += points.length;
    }
  }
  return samples;
}

/** Process ids whose parent is `pid` (from /proc). */
export function childPids(pid: number): number[] {
  const children: number[] = [];
  for (const entry of Deno.readDirSync("/proc")) {
    if (!/^\d+$/.test(entry.name)) continue;
    try {
      const stat = Deno.readTextFileSync(`/proc/${entry.name}/stat`);
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      if (Number(fields[1]) === pid) children.push(Number(entry.name));
    } catch {
      // Gone meanwhile.
    }
  }
  return children;
}

/** `PRAGMA integrity_check` of every SQLite file in `dir`, by name. */
export function integrityOfEvery(dir: string): Record<string, string> {
  const results: Record<string, string> = {};
  for (const entry of Deno.readDirSync(dir)) {
    if (!entry.name.endsWith(".db")) continue;
    const db = new DatabaseSync(`${dir}/${entry.name}`);
    try {
      results[entry.name] = String(Object.values(db.prepare("PRAGMA integrity_check").get()!)[0]);
    } finally {
      db.close();
    }
  }
  return results;
}

/** A random wait in `[minMs, maxMs]`. */
export function randomDelay(random: () => number, minMs: number, maxMs: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, minMs + random() * (maxMs - minMs)));
}

/** `integrity_check` ok for every SQLite file of `dataDir`, and `--check-data` exits 0. */
export async function assertFilesSound(dataDir: string): Promise<void> {
  for (const [file, result] of Object.entries(integrityOfEvery(dataDir))) {
    assert.equal(result, "ok", `integrity_check of ${file}`);
  }
  const output = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", SERVER_MAIN.pathname, "--check-data", "--data-dir", dataDir],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = new TextDecoder().decode(output.stdout) + new TextDecoder().decode(output.stderr);
  assert.equal(output.code, 0, text);
}
