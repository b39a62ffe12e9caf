/**
 * The gRPC listener's hand-written HTTP/2 server against an independent client: Python's grpcio
 * (gRPC C-core), which indexes its headers in the HPACK dynamic table, Huffman-codes them, sends
 * PINGs and WINDOW_UPDATEs of its own, and splits large messages over many DATA frames.
 */
import assert from "node:assert/strict";
import { PY_PROTOBUF, runPython } from "./helpers/grpc_python.ts";
import { withTestServer } from "./helpers/server_process.ts";

const TOKEN = "agent-token-0123456789";

const CALLS = `
import grpc, struct, sys, time
port, token, points = sys.argv[1], sys.argv[2], int(sys.argv[3])
${PY_PROTOBUF}
def batch(agent, count):
    now = int(time.time() * 1000)
    out = ld(1, agent) + field(2, 0, varint(now))
    for i in range(count):
        point = field(1, 0, varint(now)) + ld(2, agent) + ld(3, b"cpu.usage") + \\
            field(4, 1, struct.pack("<d", float(i))) + ld(5, ld(1, b"core") + ld(2, str(i).encode()))
        out += ld(3, point)
    return out
channel = grpc.insecure_channel("127.0.0.1:" + port)
call = channel.unary_unary("/oxmon.MetricService/ReportMetrics")
def status(request, metadata, method=call):
    try:
        method(request, timeout=10, metadata=metadata)
        return "OK"
    except grpc.RpcError as error:
        return error.code().name
auth = (("authorization", "Bearer " + token),)
# 200 calls on one connection: the same headers again and again (HPACK dynamic table).
results = [status(batch(b"py-%d" % (i % 5), 3), auth + (("agent-id", "py-%d" % (i % 5)),)) for i in range(200)]
print("OK" if all(r == "OK" for r in results) else ",".join(sorted(set(results))))
# One message far over the 64 KiB windows: flow control both ways.
big = batch(b"py-big", points)
print(len(big) > 200_000 and status(big, auth))
print(status(batch(b"py-0", 1), ()))
print(status(batch(b"py-0", 1), auth, channel.unary_unary("/oxmon.MetricService/Nope")))
channel.close()
`;

Deno.test({
  name: "Python's grpcio (gRPC C-core) reports many calls on one channel, a large batch, and " +
    "gets the refusals right",
  // Debian's python3-grpcio (.ci/run installs it); macOS CI has no system Python packages.
  ignore: Deno.build.os !== "linux",
}, async () => {
  await withTestServer(
    `[[agent_tokens]]\ntoken = "${TOKEN}"\nagents = ["*"]\n`,
    async (server) => {
      // One status name per line.
      const lines = (await runPython(CALLS, [String(server.grpcPort), TOKEN, "5000"])).split("\n");
      assert.deepEqual(lines, ["OK", "OK", "UNAUTHENTICATED", "UNIMPLEMENTED"]);
      const health = await server.getJson("/api/v1/health");
      const ingest = health.body.ingest as Record<string, number>;
      assert.equal(ingest.batches_accepted, 201);
      assert.equal(ingest.unauthenticated, 1);
    },
  );
});
