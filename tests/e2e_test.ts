/**
 * End to end: a real agent (reading a /proc tree the test controls) reports over gRPC to the
 * real server; the server stores, answers REST, fires an alert rule, and the webhook and the
 * mail arrive at real HTTP and SMTP servers; then the value recovers and the resolved notices
 * arrive.
 */
import assert from "node:assert/strict";
import { copy } from "./helpers/copy_dir.ts";
import { eventually, startTestServer } from "./helpers/server_process.ts";
import { startHttpSink } from "./helpers/http_sink.ts";
import { startSmtpSink } from "./helpers/smtp_sink.ts";
import { parseAgentConfig, runAgent } from "../agent/mod.ts";

const FIXTURES = new URL("./fixtures/agent/", import.meta.url);
const GIB_KB = 1024 * 1024;

function meminfo(totalKb: number, availableKb: number): string {
  return `MemTotal:       ${totalKb} kB
MemFree:        ${availableKb} kB
MemAvailable:   ${availableKb} kB
Buffers:               0 kB
Cached:                0 kB
SwapTotal:       ${2 * GIB_KB} kB
SwapFree:        ${2 * GIB_KB} kB
`;
}

Deno.test("an agent's report fires a rule whose webhook and mail arrive, then resolve", async () => {
  const dir = await Deno.makeTempDir({ prefix: "oxmon-e2e-" });
  const webhook = await startHttpSink();
  const smtp = await startSmtpSink();
  const procRoot = `${dir}/proc`;
  await copy(new URL("proc/", FIXTURES).pathname, procRoot);
  await copy(new URL("sys/", FIXTURES).pathname, `${dir}/sys`);
  // 15 of 16 GiB in use: 93.75 %.
  await Deno.writeTextFile(`${procRoot}/meminfo`, meminfo(16 * GIB_KB, GIB_KB));

  const server = await startTestServer(
    `${dir}/data`,
    `
[[alert.rules]]
name = "memory-high"
type = "threshold"
metric = "memory.used_percent"
agent_pattern = "e2e-*"
operator = "greater_than"
value = 90.0
duration_secs = 0
severity = "critical"
silence_secs = 3600

[[notification.channels]]
type = "webhook"
min_severity = "warning"
url = "${webhook.url}/hook"
body_template = '{"text": "[{{severity}}] {{agent_id}} {{metric}}={{value}}: {{message}}", "status": "{{status}}"}'

[[notification.channels]]
type = "email"
min_severity = "critical"
smtp_host = "127.0.0.1"
smtp_port = ${smtp.port}
smtp_tls = "none"
from = "oxmon@example.com"
recipients = ["ops@example.com", "oncall@example.com"]
`,
  );
  const stopAgent = new AbortController();
  const agentConfig = parseAgentConfig(`
agent_id = "e2e-web-1"
server_endpoint = "http://127.0.0.1:${server.grpcPort}"
proc_root = "${procRoot}"
sys_root = "${dir}/sys"
`);
  const agent = runAgent(agentConfig, { signal: stopAgent.signal, intervalMs: 200 });
  try {
    await webhook.waitFor(1, 15_000);
    const firing = JSON.parse(webhook.requests[0].body);
    assert.equal(firing.status, "firing");
    assert.match(firing.text, /^\[critical\] e2e-web-1 memory\.used_percent=93\.75/);
    await smtp.waitFor(1, 15_000);
    assert.deepEqual(smtp.mails[0].recipients.sort(), ["oncall@example.com", "ops@example.com"]);
    assert.match(smtp.mails[0].subject, /critical/i);
    assert.match(smtp.mails[0].subject, /memory-high|memory\.used_percent/);
    assert.match(smtp.mails[0].body, /e2e-web-1/);

    // The data the rule judged is readable over REST.
    const agents = await server.getJson("/api/v1/agents");
    assert.deepEqual(
      (agents.body.agents as { agent_id: string; status: string }[]).map((
        a,
      ) => [a.agent_id, a.status]),
      [["e2e-web-1", "active"]],
    );
    const metrics = await server.getJson(
      "/api/v1/metrics?agent=e2e-web-1&metric=memory.used_percent",
    );
    const series = metrics.body.series as { points: { value: number }[] }[];
    assert.equal(series.length, 1);
    assert.ok(series[0].points.length >= 1);
    assert.equal(series[0].points[0].value, 93.75);
    const active = await server.getJson("/api/v1/alerts/active");
    assert.equal(JSON.stringify(active.body).includes("memory-high"), true);

    // The value recovers: 4 of 16 GiB in use.
    await Deno.writeTextFile(`${procRoot}/meminfo`, meminfo(16 * GIB_KB, 12 * GIB_KB));
    await eventually(
      () => webhook.requests.some((request) => JSON.parse(request.body).status === "resolved"),
      "the resolved webhook",
    );
    await smtp.waitFor(2, 15_000);
    assert.match(smtp.mails[1].subject + smtp.mails[1].body, /resolved/i);
    // Deduplication: the breach lasted many rounds but was announced once.
    const statuses = webhook.requests.map((request) => JSON.parse(request.body).status);
    assert.deepEqual(statuses, ["firing", "resolved"]);

    const history = await server.getJson("/api/v1/alerts/history?rule=memory-high");
    assert.equal(history.body.total, 2);
  } finally {
    stopAgent.abort();
    await agent;
    await server.stop();
    await webhook.close();
    await smtp.close();
    await Deno.remove(dir, { recursive: true });
  }
});
