/**
 * Checks in the agent's own config: probed from the agent (real HTTP server and a closed TCP
 * port on 127.0.0.1) and carried in its normal batches to a real grpc-js server as ordinary
 * samples of the agent.
 */
import assert from "node:assert/strict";
import { memoryLogger } from "../shared/log.ts";
import { runAgent } from "./agent.ts";
import { parseAgentConfig } from "./config.ts";
import {
  reservePort,
  startRecordingServer,
  waitFor,
} from "../tests/helpers/recording_grpc_server.ts";

Deno.test("checks of the agent's config travel in its normal batches as check samples", async () => {
  const target = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen() {} },
    () => new Response("healthy"),
  );
  const closedPort = reservePort();
  const port = reservePort();
  await using server = await startRecordingServer({ port });
  const config = parseAgentConfig(`
agent_id = "web-01"
server_endpoint = "http://127.0.0.1:${port}"

[check_settings]
max_concurrent = 2

[[checks]]
name = "intranet"
type = "http"
url = "http://127.0.0.1:${target.addr.port}/health"
headers = { X-Probe = "oxmon" }
body_contains = "healthy"
interval_secs = 1

[[checks]]
name = "db"
type = "tcp"
host = "127.0.0.1"
port = ${closedPort}
interval_secs = 1
timeout_secs = 1
`);
  const controller = new AbortController();
  const done = runAgent(config, {
    signal: controller.signal,
    log: memoryLogger(),
    collectors: [],
    systemInfo: () => ({
      hostname: "web-01",
      os: "Linux",
      osVersion: "1",
      arch: "x86_64",
      kernelVersion: "6.1",
      cpuCores: 1,
      memoryGb: 1,
      diskGb: 1,
    }),
    intervalMs: 100,
  });
  const points = () =>
    server.received.flatMap((received) =>
      received.batch.dataPoints.map((p) => ({
        agentId: p.agentId,
        metricName: p.metricName,
        value: p.value,
        labels: (p.labels ?? {}) as Record<string, string>,
      }))
    );
  try {
    await waitFor(
      () =>
        points().some((p) => p.labels.check === "intranet") &&
        points().some((p) => p.labels.check === "db"),
      "both checks' results at the server",
    );
  } finally {
    controller.abort();
    await done;
    await target.shutdown();
  }
  const up = (check: string) =>
    points().find((p) => p.metricName === "check.up" && p.labels.check === check)!;
  assert.deepEqual(up("intranet").labels, {
    check: "intranet",
    target: `http://127.0.0.1:${target.addr.port}/health`,
  });
  assert.equal(up("intranet").value, 1);
  assert.equal(up("intranet").agentId, "web-01");
  assert.equal(
    points().find((p) => p.metricName === "check.status_code" && p.labels.check === "intranet")!
      .value,
    200,
  );
  assert.deepEqual(up("db").labels, { check: "db", target: `127.0.0.1:${closedPort}` });
  assert.equal(up("db").value, 0, "the closed port fails the check");
  for (const { batch } of server.received) {
    assert.ok(batch.dataPoints.every((p) => p.agentId === batch.agentId), "one agent per batch");
  }
});
