// A Node.js grpc-js client that makes short-lived connections: each cycle creates a client, makes
// one ReportMetrics call with pre-encoded batch bytes, and closes the client. This is the pattern
// that aborts grpc-js servers under Deno 2.9.6 (denoland/deno#36788).
//
// Usage: node grpc_churn_client.mjs <port> <batches file> <cycles> [concurrency] [retry delay ms]
// The batches file holds `u32 big-endian length | MetricBatchProto bytes`, repeated. Each of
// `concurrency` workers (default 1) loops: take the next batch not yet acknowledged, make one
// cycle with it; a failed batch goes back to the front of the queue (as an agent retries it).
// Prints one JSON line: { cycles, acked: [batch indices], failures: { code: count }, ms }.
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";

// Resolved through the repository's node_modules (Deno's layout symlinks the package there).
const require = createRequire(import.meta.url);
const grpc = require("@grpc/grpc-js");

const [portText, batchesFile, cyclesText, concurrencyText, retryDelayText] = process.argv.slice(2);
const port = Number(portText);
const cycles = Number(cyclesText);
const concurrency = Number(concurrencyText ?? 1);
const retryDelayMs = Number(retryDelayText ?? 20);
if (!Number.isInteger(port) || !batchesFile || !Number.isInteger(cycles)) {
  process.stderr.write("usage: node grpc_churn_client.mjs <port> <batches file> <cycles>\n");
  process.exit(2);
}

const file = readFileSync(batchesFile);
const batches = [];
for (let at = 0; at < file.length;) {
  const length = file.readUInt32BE(at);
  batches.push(file.subarray(at + 4, at + 4 + length));
  at += 4 + length;
}

const identity = (bytes) => bytes;
function callOnce(batch) {
  return new Promise((resolve) => {
    const client = new grpc.Client(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
    const deadline = Date.now() + 5_000;
    client.makeUnaryRequest(
      "/oxmon.MetricService/ReportMetrics",
      identity,
      identity,
      batch,
      new grpc.Metadata(),
      { deadline },
      (error, response) => {
        client.close();
        if (error) resolve({ ok: false, code: error.code });
        // ReportResponse with success = true starts with field 1, varint 1.
        else resolve({ ok: response[0] === 0x08 && response[1] === 0x01, code: 0 });
      },
    );
  });
}

const started = Date.now();
const acked = [];
const failures = {};
const queue = batches.map((_, index) => index);
let cyclesLeft = cycles;
async function worker() {
  while (cyclesLeft > 0 && queue.length > 0) {
    cyclesLeft--;
    const index = queue.shift();
    const { ok, code } = await callOnce(batches[index]);
    if (ok) {
      acked.push(index);
    } else {
      failures[code] = (failures[code] ?? 0) + 1;
      queue.unshift(index);
      await new Promise((resolve) => setTimeout(resolve, retryDelayMs));
    }
  }
}
await Promise.all(Array.from({ length: concurrency }, worker));
process.stdout.write(JSON.stringify({ cycles, acked, failures, ms: Date.now() - started }) + "\n");
