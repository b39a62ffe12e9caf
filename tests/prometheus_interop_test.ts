/**
 * oxmon beside a real Prometheus 2.42: Prometheus scrapes oxmon's `/metrics` and remote-writes
 * node_exporter-style data (scraped from a small HTTP target) into oxmon's `POST /api/v1/write`,
 * authenticated with an agent token; an oxmon alert rule fires on the pushed data.
 * oxmon in turn remote-writes what it stored back to that Prometheus, and reports the endpoint's
 * state in its health endpoint. `promtool check metrics` lints the exposition.
 */
import assert from "node:assert/strict";
import { freePort, PEERS_AVAILABLE, startPrometheus } from "./helpers/prometheus_peers.ts";
import { eventually, startTestServer } from "./helpers/server_process.ts";

const NODE_EXPOSITION = `# HELP node_load1 1m load average.
# TYPE node_load1 gauge
node_load1 7.5
# HELP node_cpu_seconds_total Seconds the CPUs spent in each mode.
# TYPE node_cpu_seconds_total counter
node_cpu_seconds_total{cpu="0",mode="idle"} 1234.5
node_cpu_seconds_total{cpu="0",mode="user"} 99.25
`;

async function promtoolCheck(text: string): Promise<{ code: number; output: string }> {
  const child = new Deno.Command("/usr/bin/promtool", {
    args: ["check", "metrics"],
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const writer = child.stdin.getWriter();
  await writer.write(new TextEncoder().encode(text));
  await writer.close();
  const { code, stdout, stderr } = await child.output();
  const decoder = new TextDecoder();
  return { code, output: decoder.decode(stdout) + decoder.decode(stderr) };
}

Deno.test({
  name:
    "Prometheus scrapes oxmon's /metrics and remote-writes into oxmon, where an alert rule fires",
  ignore: !PEERS_AVAILABLE,
}, async () => {
  const dir = await Deno.makeTempDir();
  const nodePort = freePort();
  const prometheusPort = freePort();
  const node = Deno.serve(
    { hostname: "127.0.0.1", port: nodePort, onListen: () => {} },
    () =>
      new Response(NODE_EXPOSITION, { headers: { "content-type": "text/plain; version=0.0.4" } }),
  );
  const oxmonPort = freePort();
  const oxmon = `127.0.0.1:${oxmonPort}`;
  // Prometheus first, so oxmon's remote write finds it up from the start.
  const prometheus = await startPrometheus({
    port: prometheusPort,
    config: `
global: { scrape_interval: 1s, evaluation_interval: 1s }
scrape_configs:
  - job_name: oxmon
    static_configs: [{ targets: ["${oxmon}"] }]
  - job_name: node
    static_configs: [{ targets: ["127.0.0.1:${nodePort}"] }]
remote_write:
  - url: http://${oxmon}/api/v1/write
    authorization: { credentials: prom-token }
    queue_config: { batch_send_deadline: 500ms, min_backoff: 50ms, max_backoff: 500ms }
    # Only what Prometheus scraped itself: not what oxmon forwarded back (a loop otherwise).
    write_relabel_configs:
      - { source_labels: [job], regex: node, action: keep }
      - { source_labels: [via], regex: .+, action: drop }
`,
  });
  const server = await startTestServer(
    dir,
    `agent_tokens = ["prom-token"]
[prometheus]
expose_agent_metrics = true

[[remote_write]]
name = "prometheus"
url = "http://127.0.0.1:${prometheusPort}/api/v1/write"
flush_interval_secs = 0.2
external_labels = { via = "oxmon" }

[[alert.rules]]
name = "node-load-high"
type = "threshold"
metric = "node_load1"
operator = "greater_than"
value = 5.0
severity = "critical"
`,
    { httpPort: oxmonPort },
  ).catch(async (error) => {
    await prometheus.stop();
    await node.shutdown();
    throw error;
  });
  try {
    await eventually(
      async () => {
        const { body } = await server.getJson("/api/v1/alerts/active");
        return (body.alerts as { rule: string }[]).some((alert) => alert.rule === "node-load-high");
      },
      "the alert rule to fire on data Prometheus pushed",
      20_000,
    );
    const { body } = await server.getJson("/api/v1/alerts/active");
    const alert = (body.alerts as Record<string, unknown>[])[0];
    assert.equal(alert.agent_id, "127.0.0.1", "agent from instance without its port");
    assert.equal(alert.metric, "node_load1");
    assert.deepEqual(alert.labels, { instance: `127.0.0.1:${nodePort}`, job: "node" });

    await eventually(
      async () => {
        const answer = await prometheus.getJson(
          `/api/v1/query?query=${
            encodeURIComponent('oxmon_remote_write_in_samples_total{job="oxmon"}')
          }`,
        ) as { data: { result: { value: [number, string] }[] } };
        return answer.data.result.length === 1 && Number(answer.data.result[0].value[1]) > 0;
      },
      "Prometheus to scrape oxmon's remote-write-in counter",
      20_000,
    );
    const up = await prometheus.getJson(
      `/api/v1/query?query=${encodeURIComponent('up{job="oxmon"}')}`,
    ) as {
      data: { result: { value: [number, string] }[] };
    };
    assert.equal(up.data.result[0].value[1], "1", "the scrape of oxmon succeeds");
    // The pushed series comes back through /metrics with its own timestamp.
    const load = await prometheus.getJson(
      `/api/v1/query?query=${encodeURIComponent('node_load1{job="oxmon"}')}`,
    ) as { data: { result: { metric: Record<string, string>; value: [number, string] }[] } };
    assert.equal(load.data.result.length, 1, JSON.stringify(load.data.result));
    assert.equal(load.data.result[0].value[1], "7.5");
    assert.equal(load.data.result[0].metric.agent, "127.0.0.1");

    // oxmon forwards what Prometheus pushed back to it, with the agent label and its own labels.
    let forwarded: { metric: Record<string, string> }[] = [];
    await eventually(
      async () => {
        const answer = await prometheus.getJson(
          `/api/v1/query?query=${encodeURIComponent('node_load1{via="oxmon"}')}`,
        ) as { data: { result: { metric: Record<string, string> }[] } };
        forwarded = answer.data.result;
        return forwarded.length > 0;
      },
      "oxmon to remote-write the pushed series back to Prometheus",
      20_000,
    ).catch(async (error) => {
      const { body } = await server.getJson("/api/v1/health");
      throw new Error(`${error.message}: ${JSON.stringify(body.remote_write)}`);
    });
    assert.deepEqual(forwarded.map((series) => series.metric), [{
      __name__: "node_load1",
      agent: "127.0.0.1",
      instance: `127.0.0.1:${nodePort}`,
      job: "node",
      via: "oxmon",
    }]);
    const health = (await server.getJson("/api/v1/health")).body as {
      remote_write: {
        name: string;
        sent_samples: number;
        failures: number;
        last_success: string;
      }[];
    };
    assert.equal(health.remote_write[0].name, "prometheus");
    assert.ok(health.remote_write[0].sent_samples > 0);
    assert.equal(health.remote_write[0].failures, 0);
    assert.match(health.remote_write[0].last_success, /^\d{4}-\d\d-\d\dT/);

    // promtool lints the 0.0.4 text format; the OpenMetrics answer is what Prometheus itself
    // asked for and parsed in the scrapes above.
    const text = await (await fetch(`http://${oxmon}/metrics`)).text();
    const { code, output } = await promtoolCheck(text);
    assert.equal(code, 0, `promtool check metrics: ${output}`);
    assert.match(text, /^oxmon_ingest_samples_total\{result="accepted"\} [1-9]/m);
    assert.match(text, /^oxmon_alert_events_total\{status="firing"\} 1$/m);
    assert.match(text, /^oxmon_remote_write_sent_samples_total\{endpoint="prometheus"\} [1-9]/m);
    assert.match(
      text,
      /^node_load1\{agent="127\.0\.0\.1",instance="127\.0\.0\.1:\d+",job="node"\} 7\.5 \d+$/m,
    );
    const openMetrics = await fetch(`http://${oxmon}/metrics`, {
      headers: { accept: "application/openmetrics-text; version=1.0.0" },
    });
    assert.match(openMetrics.headers.get("content-type") ?? "", /^application\/openmetrics-text/);
    const omText = await openMetrics.text();
    assert.match(omText, /^# TYPE oxmon_ingest_samples counter$/m);
    assert.match(omText, /\n# EOF\n$/);
  } finally {
    await prometheus.stop();
    await server.stop();
    await node.shutdown();
    await Deno.remove(dir, { recursive: true });
  }
});
