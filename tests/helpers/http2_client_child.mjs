// The child process behind `http2_client.ts`: raw `node:http2` client sessions under Node.js,
// opened, used and closed as its parent says, for tests that play hostile or idle gRPC clients.
//
// Why a child, and why Node: a `node:http2` session under Deno 2.9.6 can abort its whole process
// inside nghttp2 when the server sends GOAWAY (`free(): invalid pointer`, exit 134, or SIGSEGV;
// denoland/deno#36788), which is exactly what a listener closing idle connections does. Node's
// http2 does not have the defect.
//
// Protocol, one JSON object per line.
// stdin:
//   { op: "connect", session, url }
//   { op: "request", session, stream, headers, body?: { length, fill } }  (body: one gRPC
//     message of `length` bytes of `fill`, then the end of the stream; none: headers only)
//   { op: "cancel", stream }                    (RST_STREAM CANCEL)
//   { op: "close", session }                    (GOAWAY; destroyed if not closed within 1 s)
// stdout:
//   { event: "connected", session, maxConcurrentStreams } or { event: "connectError", session,
//     message }
//   { event: "streamClosed", stream, code }     (grpc-status, -1 when none came)
//   { event: "sessionClosed", session }         (closed by either side)
// End of stdin destroys what is still open and the process exits 0.
import http2 from "node:http2";
import { createInterface } from "node:readline";

const send = (message) => process.stdout.write(`${JSON.stringify(message)}\n`);
const sessions = new Map();
const streams = new Map();

// Node caps what a session may buffer at 10 MB and resets the streams beyond it with
// ENHANCE_YOUR_CALM; tests queue up to 40 MiB of request bodies on one session (the server is
// meant to leave them unread), so the cap is lifted, as Deno's node:http2 did not have it.
const SESSION_OPTIONS = { maxSessionMemory: 1024 };

function connect({ session: id, url }) {
  const session = http2.connect(url, SESSION_OPTIONS);
  sessions.set(id, session);
  let connected = false;
  session.once("remoteSettings", (settings) => {
    connected = true;
    send({ event: "connected", session: id, maxConcurrentStreams: settings.maxConcurrentStreams });
  });
  session.on("error", (error) => {
    if (!connected) send({ event: "connectError", session: id, message: String(error) });
  });
  session.once("close", () => {
    sessions.delete(id);
    send({ event: "sessionClosed", session: id });
  });
}

function request({ session: sessionId, stream: id, headers, body }) {
  const session = sessions.get(sessionId);
  if (!session || session.closed || session.destroyed) {
    send({ event: "streamClosed", stream: id, code: -1 });
    return;
  }
  const stream = session.request(headers, { endStream: false });
  streams.set(id, stream);
  let code = -1;
  stream.on("response", (fields) => {
    if (fields["grpc-status"] !== undefined) code = Number(fields["grpc-status"]);
  });
  stream.on("trailers", (fields) => {
    if (fields["grpc-status"] !== undefined) code = Number(fields["grpc-status"]);
  });
  stream.on("close", () => {
    streams.delete(id);
    send({ event: "streamClosed", stream: id, code });
  });
  stream.on("error", () => {});
  stream.resume();
  if (body) {
    const frame = Buffer.alloc(5 + body.length, body.fill);
    frame[0] = 0;
    frame.writeUInt32BE(body.length, 1);
    stream.end(frame);
  }
}

function close({ session: id }) {
  const session = sessions.get(id);
  if (!session) return;
  session.close();
  setTimeout(() => session.destroy(), 1_000).unref();
}

const input = createInterface({ input: process.stdin, crlfDelay: Infinity });
input.on("line", (line) => {
  const command = JSON.parse(line);
  if (command.op === "connect") connect(command);
  else if (command.op === "request") request(command);
  else if (command.op === "cancel") {
    streams.get(command.stream)?.close(http2.constants.NGHTTP2_CANCEL);
  } else if (command.op === "close") close(command);
});
input.on("close", () => {
  for (const session of sessions.values()) session.destroy();
  process.stdout.write("", () => process.exit(0));
});
