/**
 * TLS and mutual TLS on the gRPC listener with certificates made here by openssl, against real
 * clients: grpc-js, and Python's grpcio as an independent implementation.
 */
import assert from "node:assert/strict";
import { GrpcStatus as status } from "../shared/wire/mod.ts";
import { openClient, reportMetrics, type TestGrpcClientOptions } from "./helpers/grpc_client.ts";
import { eventually, startTestServer, type TestServer } from "./helpers/server_process.ts";
import { parseAgentConfig, runAgent } from "../agent/mod.ts";
import { makeTestCerts, type TestCerts } from "./helpers/pki.ts";
import { PY_PROTOBUF, runPython } from "./helpers/grpc_python.ts";

const ADMIN = "admin-token-0123456789";

function batch(agentId: string) {
  const nowMs = Date.now();
  return {
    agentId,
    timestampMs: nowMs,
    dataPoints: [{ agentId, metricName: "cpu.usage", value: 3, timestampMs: nowMs }],
  };
}

/** One call from a grpc-js client; `tls` undefined speaks plain text. */
async function report(
  server: TestServer,
  tls: TestGrpcClientOptions["tls"],
  agentId: string,
  headers: Record<string, string> = {},
): Promise<number> {
  await using client = await openClient({ address: `localhost:${server.grpcPort}`, tls });
  try {
    await reportMetrics(client, batch(agentId), 5_000, headers);
    return status.OK;
  } catch (error) {
    return (error as { code: number }).code;
  }
}

const read = (path: string) => Deno.readTextFileSync(path);

function tlsCreds(certs: TestCerts, client?: { cert: string; key: string }, ca = certs.caFile) {
  return client
    ? { caCert: read(ca), clientKey: read(client.key), clientCert: read(client.cert) }
    : { caCert: read(ca) };
}

/** One call from Python's grpcio; prints the status code name. */
async function pythonReport(
  port: number,
  caFile: string,
  agentId: string,
  client?: { cert: string; key: string },
): Promise<string> {
  const script = `
import grpc, struct, sys, time
ca = open(sys.argv[2], "rb").read()
kw = {}
if len(sys.argv) > 5:
    kw = dict(certificate_chain=open(sys.argv[4], "rb").read(), private_key=open(sys.argv[5], "rb").read())
channel = grpc.secure_channel("localhost:" + sys.argv[1], grpc.ssl_channel_credentials(root_certificates=ca, **kw))
agent = sys.argv[3].encode()
now = int(time.time() * 1000)
${PY_PROTOBUF}
point = field(1, 0, varint(now)) + ld(2, agent) + ld(3, b"cpu.usage") + field(4, 1, struct.pack("<d", 5.0))
request = ld(1, agent) + field(2, 0, varint(now)) + ld(3, point)
call = channel.unary_unary("/oxmon.MetricService/ReportMetrics")
try:
    call(request, timeout=5)
    print("OK")
except grpc.RpcError as error:
    print(error.code().name)
`;
  const args = [String(port), caFile, agentId];
  if (client) args.push(client.cert, client.key);
  return await runPython(script, args);
}

async function withServer(
  toml: string,
  use: (server: TestServer) => Promise<void>,
) {
  const dir = await Deno.makeTempDir({ prefix: "oxmon-grpc-tls-" });
  const server = await startTestServer(
    `${dir}/data`,
    `${toml}\n[[api_tokens]]\ntoken = "${ADMIN}"\nscope = "admin"\n`,
  );
  try {
    await use(server);
  } finally {
    await server.stop();
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("agents report over TLS; a plain-text client and one that does not trust the server are refused", async () => {
  const certs = await makeTestCerts();
  try {
    await withServer(
      `[grpc_tls]\ncert_file = "${certs.server.cert}"\nkey_file = "${certs.server.key}"`,
      async (server) => {
        assert.equal(await report(server, tlsCreds(certs), "web-1"), status.OK);
        assert.equal(await pythonReport(server.grpcPort, certs.caFile, "web-2"), "OK");
        assert.equal(
          await report(server, undefined, "web-3"),
          status.UNAVAILABLE,
        );
        assert.equal(
          await report(server, tlsCreds(certs, undefined, certs.otherCaFile), "web-4"),
          status.UNAVAILABLE,
        );
        const agents = await (await fetch(`${server.apiUrl}/api/v1/agents`, {
          headers: { authorization: `Bearer ${ADMIN}` },
        })).json();
        assert.deepEqual(agents.agents.map((a: { agent_id: string }) => a.agent_id), [
          "web-1",
          "web-2",
        ]);
      },
    );
  } finally {
    await certs.remove();
  }
});

Deno.test("with mutual TLS a CA-signed client certificate is the agent's identity; none, another CA's or an expired one is refused", async () => {
  const certs = await makeTestCerts();
  try {
    await withServer(
      `[grpc_tls]\ncert_file = "${certs.server.cert}"\nkey_file = "${certs.server.key}"\n` +
        `client_ca_file = "${certs.caFile}"`,
      async (server) => {
        assert.equal(await report(server, tlsCreds(certs, certs.clientA), "agent-a"), status.OK);
        assert.equal(
          await pythonReport(server.grpcPort, certs.caFile, "agent-b", certs.clientB),
          "OK",
        );
        // The certificate names agent-a: it cannot write as agent-b.
        assert.equal(
          await report(server, tlsCreds(certs, certs.clientA), "agent-b"),
          status.PERMISSION_DENIED,
        );
        assert.equal(
          await pythonReport(server.grpcPort, certs.caFile, "agent-a", certs.clientB),
          "PERMISSION_DENIED",
        );
        for (const refused of [undefined, certs.otherCaClient, certs.expiredClient]) {
          assert.equal(
            await report(server, tlsCreds(certs, refused), "agent-a"),
            status.UNAVAILABLE,
            `client certificate ${refused?.cert ?? "none"}`,
          );
        }
        assert.equal(
          await pythonReport(server.grpcPort, certs.caFile, "agent-a", certs.expiredClient),
          "UNAVAILABLE",
        );
        const health = await (await fetch(`${server.apiUrl}/api/v1/health`, {
          headers: { authorization: `Bearer ${ADMIN}` },
        })).json();
        assert.equal(health.ingest.batches_accepted, 2);
        assert.equal(health.ingest.permission_denied, 2);
      },
    );
  } finally {
    await certs.remove();
  }
});

/** The serial of the certificate the port serves, through openssl s_client. */
async function servedSerial(port: number): Promise<string | undefined> {
  const output = await new Deno.Command("sh", {
    args: [
      "-c",
      `openssl s_client -connect 127.0.0.1:${port} -servername localhost </dev/null 2>/dev/null` +
      " | openssl x509 -noout -serial",
    ],
    stdout: "piped",
    stderr: "null",
  }).output();
  const text = new TextDecoder().decode(output.stdout).trim();
  return text.startsWith("serial=") ? text : undefined;
}

Deno.test("the gRPC certificate is replaced without a restart when its files change (and on SIGHUP's reload)", async () => {
  const certs = await makeTestCerts();
  const certFile = `${certs.dir}/grpc-live.crt`;
  const keyFile = `${certs.dir}/grpc-live.key`;
  await Deno.copyFile(certs.server.cert, certFile);
  await Deno.copyFile(certs.server.key, keyFile);
  try {
    await withServer(
      `[grpc_tls]\ncert_file = "${certFile}"\nkey_file = "${keyFile}"`,
      async (server) => {
        assert.equal(await servedSerial(server.grpcPort), await certs.serialOf(certFile));
        await Deno.copyFile(certs.serverRenewed.key, keyFile);
        await Deno.copyFile(certs.serverRenewed.cert, certFile);
        await server.reloadTls();
        const renewed = await certs.serialOf(certs.serverRenewed.cert);
        const deadline = Date.now() + 10_000;
        while ((await servedSerial(server.grpcPort)) !== renewed) {
          assert.ok(Date.now() < deadline, "the renewed certificate was not served within 10 s");
          await new Promise((resolve) => setTimeout(resolve, 100));
        }
        assert.equal(await report(server, tlsCreds(certs), "web-1"), status.OK);
      },
    );
  } finally {
    await certs.remove();
  }
});

Deno.test("the oxmon agent reports over TLS, and over mutual TLS with its client certificate as its identity", async () => {
  const certs = await makeTestCerts();
  try {
    await withServer(
      `[grpc_tls]\ncert_file = "${certs.server.cert}"\nkey_file = "${certs.server.key}"\n` +
        `client_ca_file = "${certs.caFile}"`,
      async (server) => {
        const counters = async () =>
          (await (await fetch(`${server.apiUrl}/api/v1/health`, {
            headers: { authorization: `Bearer ${ADMIN}` },
          })).json()).ingest;
        const run = async (
          agentId: string,
          clientCert: string,
          until: (ingest: Record<string, number>) => boolean,
        ) => {
          const stop = new AbortController();
          const config = parseAgentConfig(`
agent_id = "${agentId}"
server_endpoint = "https://localhost:${server.grpcPort}"
tls_ca_file = "${certs.caFile}"
${clientCert}
`);
          const running = runAgent(config, { signal: stop.signal, intervalMs: 200 });
          try {
            await eventually(async () => until(await counters()), "a batch from the agent");
          } finally {
            stop.abort();
            await running;
          }
        };
        const clientA = `tls_cert_file = "${certs.clientA.cert}"\n` +
          `tls_key_file = "${certs.clientA.key}"`;
        await run("agent-a", clientA, (ingest) => ingest.batches_accepted > 0);
        const agents = await (await fetch(`${server.apiUrl}/api/v1/agents`, {
          headers: { authorization: `Bearer ${ADMIN}` },
        })).json();
        assert.deepEqual(agents.agents.map((a: { agent_id: string }) => a.agent_id), ["agent-a"]);
        // The same certificate cannot report as another agent.
        await run("agent-b", clientA, (ingest) => ingest.permission_denied > 0);
        const after = await (await fetch(`${server.apiUrl}/api/v1/agents`, {
          headers: { authorization: `Bearer ${ADMIN}` },
        })).json();
        assert.deepEqual(after.agents.map((a: { agent_id: string }) => a.agent_id), ["agent-a"]);
      },
    );
  } finally {
    await certs.remove();
  }
});
