/**
 * Prometheus interop figures, each beside the real peer in the same run:
 * - remote write out: samples/s delivered to VictoriaMetrics by one endpoint, and the CPU the
 *   forwarding costs (encode, queue on disk, snappy, HTTP) per million samples;
 * - remote write in: samples/s a server process accepts on `POST /api/v1/write`;
 * - `query_range` of one series over 24 h at 60 s step: p50 over HTTP, oxmon and Prometheus
 *   2.42 on the same samples.
 */
import process from "node:process";
import { systemClock } from "../../shared/clock.ts";
import { silentLogger } from "../../shared/log.ts";
import type { MetricDataPoint } from "../../shared/types.ts";
import { parseServerConfig } from "../../server/config.ts";
import { openRemoteWriteForwarder } from "../../server/prometheus/remote_write.ts";
import { type TestSeries, writeRequestBody } from "../helpers/remote_write_body.ts";
import { REMOTE_WRITE_HEADERS } from "../../server/prometheus/remote_write_codec.ts";
import { startPrometheus, startVictoriaMetrics } from "../helpers/prometheus_peers.ts";

export interface ServerProcess {
  httpPort: number;
  pid: number;
  stop(): Promise<void>;
}

export interface PrometheusBenchOptions {
  quick: boolean;
  tmp: string;
  startServer: (dataDir: string) => Promise<ServerProcess>;
  progress: (line: string) => void;
}

function cpuMs(): number {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1000;
}

function procCpuMs(pid: number): number {
  const fields = Deno.readTextFileSync(`/proc/${pid}/stat`).split(") ")[1].split(" ");
  const ticks = Number(fields[11]) + Number(fields[12]);
  return ticks * 10;
}

function percentile(sorted: number[], fraction: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * fraction))];
}

async function benchRemoteWriteOut(options: PrometheusBenchOptions) {
  const series = options.quick ? 200 : 1000;
  const rounds = options.quick ? 500 : 2000;
  const vm = await startVictoriaMetrics();
  const dir = `${options.tmp}/rw-out`;
  const config = parseServerConfig(`[[remote_write]]
url = "${vm.url}/api/v1/write"
max_batch_samples = 10000
flush_interval_secs = 0.2
queue_max_bytes = 1073741824
`);
  const forwarder = openRemoteWriteForwarder({
    endpoints: config.remoteWrite,
    dataDir: dir,
    clock: systemClock,
    log: silentLogger,
    version: "bench",
  });
  try {
    // Committed batches as ingest hands them over: one round of every series per batch.
    const startMs = Date.now() - rounds * 10_000;
    const batches: MetricDataPoint[][] = [];
    for (let r = 0; r < rounds; r++) {
      const batch: MetricDataPoint[] = [];
      for (let s = 0; s < series; s++) {
        batch.push({
          agentId: `host-${s % 100}`,
          metricName: "cpu.core_usage",
          labels: { core: String(s) },
          timestampMs: startMs + r * 10_000,
          value: Math.round(Math.random() * 10000) / 100,
        });
      }
      batches.push(batch);
    }
    const total = series * rounds;
    forwarder.start();
    const cpuBefore = cpuMs();
    const started = performance.now();
    for (let i = 0; i < batches.length; i++) {
      forwarder.observe(batches[i]);
      // Let the sender run between commits, as it would beside a live ingest.
      if (i % 50 === 49) await new Promise((resolve) => setTimeout(resolve, 0));
    }
    forwarder.flush();
    while (forwarder.stats()[0].sentSamples < total) {
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    const seconds = (performance.now() - started) / 1000;
    const cpu = cpuMs() - cpuBefore;
    const vmCpu = procCpuMs(await vmPid(vm.port));
    return {
      samples: total,
      samplesPerSec: total / seconds,
      cpuMsPerMillion: cpu / (total / 1e6),
      victoriaMetricsCpuMsPerMillion: vmCpu / (total / 1e6),
      requests: forwarder.stats()[0].sentRequests,
    };
  } finally {
    await forwarder.stop(1000);
    await vm.stop();
  }
}

/** The pid of the process listening on a port (the peer helper does not expose it). */
async function vmPid(port: number): Promise<number> {
  const output = await new Deno.Command("ss", { args: ["-ltnpH", `sport = :${port}`] }).output();
  const match = /pid=(\d+)/.exec(new TextDecoder().decode(output.stdout));
  if (!match) throw new Error(`no process listens on ${port}`);
  return Number(match[1]);
}

async function benchRemoteWriteIn(options: PrometheusBenchOptions) {
  const clients = 8;
  const requestsPerClient = options.quick ? 20 : 100;
  const samplesPerRequest = 2000;
  const server = await options.startServer(`${options.tmp}/rw-in`);
  try {
    const url = `http://127.0.0.1:${server.httpPort}/api/v1/write`;
    // 2,000 series per client (100 hosts × 20), one new sample each per request.
    const startMs = Date.now() - 3_600_000;
    const bodies: Uint8Array<ArrayBuffer>[][] = [];
    for (let c = 0; c < clients; c++) {
      const list: Uint8Array<ArrayBuffer>[] = [];
      for (let r = 0; r < requestsPerClient + 1; r++) {
        const series: TestSeries[] = [];
        for (let s = 0; s < samplesPerRequest; s++) {
          series.push({
            labels: {
              __name__: "node_cpu_seconds_total",
              instance: `host-${c}-${s % 100}:9100`,
              cpu: String(Math.floor(s / 100)),
              mode: "user",
            },
            samples: [[startMs + r * 1000, r * 1.5 + s]],
          });
        }
        list.push(writeRequestBody(series));
      }
      bodies.push(list);
    }
    const post = async (body: Uint8Array<ArrayBuffer>) => {
      const response = await fetch(url, { method: "POST", headers: REMOTE_WRITE_HEADERS, body });
      if (response.status !== 204) {
        throw new Error(`remote write in: ${response.status} ${await response.text()}`);
      }
      await response.body?.cancel();
    };
    // Warm-up: every series created once.
    await Promise.all(bodies.map((list) => post(list[0])));
    const cpuBefore = procCpuMs(server.pid);
    const started = performance.now();
    await Promise.all(bodies.map(async (list) => {
      for (let r = 1; r <= requestsPerClient; r++) await post(list[r]);
    }));
    const seconds = (performance.now() - started) / 1000;
    const total = clients * requestsPerClient * samplesPerRequest;
    return {
      samples: total,
      samplesPerSec: total / seconds,
      serverCpuMsPerMillion: (procCpuMs(server.pid) - cpuBefore) / (total / 1e6),
      clients,
      samplesPerRequest,
    };
  } finally {
    await server.stop();
  }
}

async function benchQueryRange(options: PrometheusBenchOptions) {
  const iterations = options.quick ? 30 : 200;
  const server = await options.startServer(`${options.tmp}/query`);
  const prometheus = await startPrometheus();
  try {
    const endMs = Math.floor(Date.now() / 60_000) * 60_000;
    const startMs = endMs - 86_400_000;
    const samples: [number, number][] = [];
    for (let t = startMs; t <= endMs; t += 10_000) {
      samples.push([t, 20 + (t / 10_000) % 60 + Math.random()]);
    }
    const labels = { __name__: "oxmon_cpu_usage_percent", agent: "query-bench" };
    for (let i = 0; i < samples.length; i += 2000) {
      const body = writeRequestBody([{ labels, samples: samples.slice(i, i + 2000) }]);
      for (const target of [`http://127.0.0.1:${server.httpPort}`, prometheus.url]) {
        const response = await fetch(`${target}/api/v1/write`, {
          method: "POST",
          headers: REMOTE_WRITE_HEADERS,
          body,
        });
        if (response.status !== 204) {
          throw new Error(`load: ${response.status} ${await response.text()}`);
        }
        await response.body?.cancel();
      }
    }
    const queries = {
      selector: 'oxmon_cpu_usage_percent{agent="query-bench"}',
      avg_over_time_5m: 'avg_over_time(oxmon_cpu_usage_percent{agent="query-bench"}[5m])',
      rate_5m: 'rate(oxmon_cpu_usage_percent{agent="query-bench"}[5m])',
    };
    const out: Record<string, { oxmonP50Ms: number; prometheusP50Ms: number; points: number }> = {};
    for (const [name, query] of Object.entries(queries)) {
      const search = new URLSearchParams({
        query,
        start: String(startMs / 1000),
        end: String(endMs / 1000),
        step: "60",
      });
      const time = async (url: string) => {
        const latencies: number[] = [];
        let points = 0;
        for (let i = 0; i < iterations + 10; i++) {
          const started = performance.now();
          const response = await fetch(url);
          const body = await response.json();
          const elapsed = performance.now() - started;
          if (body.status !== "success") throw new Error(`${url}: ${JSON.stringify(body)}`);
          points = body.data.result[0]?.values.length ?? 0;
          if (i >= 10) latencies.push(elapsed);
        }
        latencies.sort((a, b) => a - b);
        return { p50: percentile(latencies, 0.5), points };
      };
      const oxmon = await time(
        `http://127.0.0.1:${server.httpPort}/prometheus/api/v1/query_range?${search}`,
      );
      const prom = await time(`${prometheus.url}/api/v1/query_range?${search}`);
      out[name] = { oxmonP50Ms: oxmon.p50, prometheusP50Ms: prom.p50, points: oxmon.points };
    }
    return out;
  } finally {
    await prometheus.stop();
    await server.stop();
  }
}

export async function benchPrometheus(options: PrometheusBenchOptions) {
  options.progress("remote write out to VictoriaMetrics");
  const out = await benchRemoteWriteOut(options);
  options.progress("remote write in (8 clients × 2,000-sample requests)");
  const into = await benchRemoteWriteIn(options);
  options.progress("query_range, oxmon beside Prometheus 2.42");
  const query = await benchQueryRange(options);
  return { remoteWriteOut: out, remoteWriteIn: into, queryRange: query };
}
