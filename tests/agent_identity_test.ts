/**
 * Tokens bound to agents, through the real server and real grpc-js clients: a token writes only
 * as the agents it covers; the original flat list still works (with a warning); tokens issued,
 * rotated and revoked through the original oxmon's whitelist API bind one agent id.
 */
import assert from "node:assert/strict";
import { GrpcStatus as status } from "../shared/wire/mod.ts";
import { sha256Hex } from "../server/auth/tokens.ts";
import { reportMetrics, withClient } from "./helpers/grpc_client.ts";
import { type TestServer, withTestServer } from "./helpers/server_process.ts";

const TOKEN_A = "tok-A-0123456789abcdef";
const TOKEN_B = "tok-B-0123456789abcdef";
const ADMIN = "admin-token-0123456789";

function batch(agentId: string, value = 1) {
  const nowMs = Date.now();
  return {
    agentId,
    timestampMs: nowMs,
    dataPoints: [{ agentId, metricName: "cpu.usage", value, timestampMs: nowMs }],
  };
}

async function report(server: TestServer, agentId: string, token?: string) {
  const headers: Record<string, string> = token ? { authorization: `Bearer ${token}` } : {};
  headers["agent-id"] = agentId;
  const once = () =>
    withClient(server.grpcPort, async (client) => {
      try {
        const reply = await reportMetrics(client, batch(agentId), 5_000, headers);
        return { code: status.OK, message: reply.message ?? "" };
      } catch (error) {
        const { code, details } = error as { code: number; details: string };
        return { code, message: details };
      }
    });
  // UNAVAILABLE says "retry", as an agent would: the listener child may be restarting
  // (denoland/deno#36788 aborts it now and then under connect-call-close cycles).
  let result = await once();
  for (let attempt = 0; attempt < 3 && result.code === status.UNAVAILABLE; attempt++) {
    await new Promise((resolve) => setTimeout(resolve, 300));
    result = await once();
  }
  return result;
}

async function agentIds(server: TestServer): Promise<string[]> {
  const response = await fetch(`${server.apiUrl}/api/v1/agents`, {
    headers: { authorization: `Bearer ${ADMIN}` },
  });
  const body = await response.json();
  return body.agents.map((agent: { agent_id: string }) => agent.agent_id).sort();
}

const ADMIN_TOKEN_TOML = `
[[api_tokens]]
token = "${ADMIN}"
scope = "admin"
`;

Deno.test("a token bound to agent-a cannot write as agent-b or a new host: PERMISSION_DENIED, counted, nothing stored", async () => {
  await withTestServer(
    `
[[agent_tokens]]
name = "host a"
token = "${TOKEN_A}"
agents = ["agent-a"]

[[agent_tokens]]
token_sha256 = "${sha256Hex(TOKEN_B)}"
agents = ["agent-b", "web-*"]
${ADMIN_TOKEN_TOML}`,
    async (server) => {
      assert.equal((await report(server, "agent-a", TOKEN_A)).code, status.OK);
      assert.equal((await report(server, "agent-b", TOKEN_B)).code, status.OK);
      assert.equal((await report(server, "web-prod-02", TOKEN_B)).code, status.OK);

      const forged = await report(server, "agent-b", TOKEN_A);
      assert.equal(forged.code, status.PERMISSION_DENIED);
      assert.match(forged.message, /may not write as "agent-b"/);
      const newHost = await report(server, "web-prod-01", TOKEN_A);
      assert.equal(newHost.code, status.PERMISSION_DENIED);
      assert.equal((await report(server, "agent-a")).code, status.UNAUTHENTICATED);
      assert.equal(
        (await report(server, "agent-a", "tok-C-unknown-012345")).code,
        status.UNAUTHENTICATED,
      );

      assert.deepEqual(await agentIds(server), ["agent-a", "agent-b", "web-prod-02"]);
      const series = await fetch(`${server.apiUrl}/api/v1/metrics/series?agent=web-prod-01`, {
        headers: { authorization: `Bearer ${ADMIN}` },
      });
      assert.equal(series.status, 404, "no series of web-prod-01 was stored");
      await series.body?.cancel();
      const health = await (await fetch(`${server.apiUrl}/api/v1/health`, {
        headers: { authorization: `Bearer ${ADMIN}` },
      })).json();
      assert.equal(health.ingest.permission_denied, 2);
      assert.equal(health.ingest.unauthenticated, 2);
      assert.equal(health.ingest.batches_accepted, 3);
    },
  );
});

Deno.test("the original flat agent_tokens list still lets each token write as any agent, with a warning in health", async () => {
  await withTestServer(
    `agent_tokens = ["${TOKEN_A}", "${TOKEN_B}"]\n${ADMIN_TOKEN_TOML}`,
    async (server) => {
      assert.equal((await report(server, "agent-b", TOKEN_A)).code, status.OK);
      const health = await (await fetch(`${server.apiUrl}/api/v1/health`, {
        headers: { authorization: `Bearer ${ADMIN}` },
      })).json();
      assert.ok(
        health.warnings.some((warning: string) => warning.includes("may write as any agent id")),
        JSON.stringify(health.warnings),
      );
    },
  );
});

Deno.test("the whitelist API issues, lists, updates, rotates and revokes hashed agent tokens bound to one agent id", async () => {
  await withTestServer(`require_agent_auth = true\n${ADMIN_TOKEN_TOML}`, async (server) => {
    const api = async (method: string, path: string, body?: unknown) => {
      const response = await fetch(`${server.apiUrl}/api/v1/agents/whitelist${path}`, {
        method,
        headers: { authorization: `Bearer ${ADMIN}`, "content-type": "application/json" },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      return { status: response.status, body: await response.json() };
    };
    assert.equal((await report(server, "web-1")).code, status.UNAUTHENTICATED);

    const issued = await api("POST", "", { agent_id: "web-1", description: "front" });
    assert.equal(issued.status, 201);
    assert.equal(issued.body.err_code, 0);
    const { id, token } = issued.body.data;
    assert.equal(issued.body.data.agent_id, "web-1");
    assert.match(token, /^oxm_[\w-]{43}$/);
    assert.equal((await api("POST", "", { agent_id: "web-1" })).status, 409);
    assert.equal((await api("POST", "", { agent_id: "bad id" })).status, 400);

    assert.equal((await report(server, "web-1", token)).code, status.OK);
    assert.equal((await report(server, "web-2", token)).code, status.PERMISSION_DENIED);

    const listed = await api("GET", "?limit=10&agent_id__contains=web");
    assert.equal(listed.body.data.total, 1);
    assert.equal(listed.body.data.items[0].token, null);
    assert.equal(listed.body.data.items[0].status, "active");
    assert.equal((await api("PUT", `/${id}`, { description: "front door" })).status, 200);
    assert.equal((await api("GET", `/${id}`)).body.data.description, "front door");

    const rotated = await api("POST", `/${id}/token`);
    assert.equal(rotated.body.data.agent_id, "web-1");
    assert.equal((await report(server, "web-1", token)).code, status.UNAUTHENTICATED);
    assert.equal((await report(server, "web-1", rotated.body.data.token)).code, status.OK);

    assert.equal((await api("DELETE", `/${id}`)).status, 200);
    assert.equal(
      (await report(server, "web-1", rotated.body.data.token)).code,
      status.UNAUTHENTICATED,
    );
    assert.equal((await api("GET", `/${id}`)).status, 404);

    // Only digests are stored: the issued tokens appear nowhere in the data directory.
    for await (const entry of Deno.readDir(server.config.dataDir)) {
      if (!entry.isFile) continue;
      const bytes = await Deno.readFile(`${server.config.dataDir}/${entry.name}`);
      const text = new TextDecoder("latin1").decode(bytes);
      assert.ok(!text.includes(token) && !text.includes(rotated.body.data.token), entry.name);
    }
  });
});
