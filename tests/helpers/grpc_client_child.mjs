// The child process behind `grpc_client.ts`: one grpc-js client (one channel) under Node.js,
// making the `ReportMetrics` calls its parent asks for.
//
// Why a child, and why Node: an HTTP/2 session under Deno 2.9.6 can abort its whole process
// inside nghttp2, clients included (a `node:http2` client that made a few calls and then gets a
// GOAWAY: `free(): invalid pointer`, exit 134, or SIGSEGV; denoland/deno#36788). In the
// `deno test` process that ended the whole run. Node's http2 does not have the defect.
//
// Protocol, one JSON object per line.
// stdin, first line: { address, channelOptions, tls?: { caCert, clientKey?, clientCert? } }
//   (PEM text); then { id, request, timeoutMs, headers } per call, `request` the serialized
//   MetricBatchProto in base64.
// stdout: { event: "ready" } once the client exists; then { id, code, details, response? } per
//   call, `response` the serialized ReportResponse in base64 when code is 0.
// End of stdin closes the client and the process exits 0.
import { createRequire } from "node:module";
import { createInterface } from "node:readline";

// Resolved through the repository's node_modules (Deno's layout symlinks the package there).
const require = createRequire(import.meta.url);
const grpc = require("@grpc/grpc-js");

const PATH = "/oxmon.MetricService/ReportMetrics";
const identity = (bytes) => bytes;
const send = (message) => process.stdout.write(`${JSON.stringify(message)}\n`);

let client;
const input = createInterface({ input: process.stdin, crlfDelay: Infinity });
input.on("line", (line) => {
  const message = JSON.parse(line);
  if (!client) {
    const { address, channelOptions = {}, tls } = message;
    const credentials = tls
      ? grpc.credentials.createSsl(
        Buffer.from(tls.caCert),
        tls.clientKey ? Buffer.from(tls.clientKey) : null,
        tls.clientCert ? Buffer.from(tls.clientCert) : null,
      )
      : grpc.credentials.createInsecure();
    client = new grpc.Client(address, credentials, channelOptions);
    send({ event: "ready" });
    return;
  }
  const { id, request, timeoutMs, headers = {} } = message;
  const metadata = new grpc.Metadata();
  for (const [key, value] of Object.entries(headers)) metadata.set(key, value);
  client.makeUnaryRequest(
    PATH,
    identity,
    identity,
    Buffer.from(request, "base64"),
    metadata,
    { deadline: Date.now() + timeoutMs },
    (error, response) => {
      if (error) send({ id, code: error.code, details: error.details ?? String(error) });
      else send({ id, code: 0, details: "", response: response.toString("base64") });
    },
  );
});
input.on("close", () => {
  client?.close();
  // Replies already written are flushed before the exit.
  process.stdout.write("", () => process.exit(0));
});
