/**
 * Python's grpcio (gRPC C-core) as an independent client of the listener: a runner for a script
 * and the protobuf encoding the scripts build `MetricBatch`es with (no generated code).
 */
import assert from "node:assert/strict";

/**
 * Python definitions, for the top of a script: `field(number, wire, payload)`, `varint(n)` and
 * `ld(number, data)` (a length-delimited field), all returning bytes.
 */
export const PY_PROTOBUF = `
def field(number, wire, payload):
    return bytes([number << 3 | wire]) + payload
def varint(n):
    out = b""
    while True:
        b = n & 0x7f; n >>= 7
        if n: out += bytes([b | 0x80])
        else: return out + bytes([b])
def ld(number, data):
    return field(number, 2, varint(len(data)) + data)
`;

/** Runs `script` with `/usr/bin/python3 -c`; fails the test with its stderr unless it exits 0. */
export async function runPython(script: string, args: string[]): Promise<string> {
  const output = await new Deno.Command("/usr/bin/python3", {
    args: ["-c", script, ...args],
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert.ok(output.success, new TextDecoder().decode(output.stderr));
  return new TextDecoder().decode(output.stdout).trim();
}
