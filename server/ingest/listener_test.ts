import assert from "node:assert/strict";
import { listenerCommand } from "../../tests/helpers/grpc_client.ts";
import { FrameReader, FrameType } from "./_framing.ts";
import { LISTENER_ENV, parseListenerSettings } from "./listener.ts";

Deno.test("parseListenerSettings reads host, port and options", () => {
  assert.deepEqual(parseListenerSettings('{"host":"127.0.0.1","port":0}'), {
    host: "127.0.0.1",
    port: 0,
  });
  assert.deepEqual(
    parseListenerSettings('{"host":"::","port":9090,"maxMessageBytes":1024,"logLevel":"debug"}'),
    { host: "::", port: 9090, maxMessageBytes: 1024, logLevel: "debug" },
  );
});

Deno.test("parseListenerSettings names the bad field", () => {
  assert.throws(() => parseListenerSettings(undefined), /OXMON_GRPC_LISTENER is not set/);
  assert.throws(() => parseListenerSettings("{"), /Cannot parse OXMON_GRPC_LISTENER:/);
  assert.throws(() => parseListenerSettings('{"port":1}'), /OXMON_GRPC_LISTENER\.host:/);
  assert.throws(
    () => parseListenerSettings('{"host":"h","port":70000}'),
    /OXMON_GRPC_LISTENER\.port: expected an integer from 0 to 65535, got 70000/,
  );
  assert.throws(
    () => parseListenerSettings('{"host":"h","port":1,"maxMessageBytes":0}'),
    /\.maxMessageBytes:/,
  );
  assert.throws(
    () => parseListenerSettings('{"host":"h","port":1,"logLevel":"loud"}'),
    /\.logLevel: expected debug, info, warn or error, got "loud"/,
  );
});

Deno.test("the listener child reports its port, ignores SIGINT and exits when its parent goes away", async () => {
  const { cmd, args } = listenerCommand();
  const child = new Deno.Command(cmd, {
    args,
    env: { [LISTENER_ENV]: JSON.stringify({ host: "127.0.0.1", port: 0 }) },
    stdin: "piped",
    stdout: "piped",
    stderr: "null",
  }).spawn();
  const stdout = child.stdout.getReader();
  const reader = new FrameReader();
  let ready;
  while (!ready) {
    const { value, done } = await stdout.read();
    assert.ok(!done, "the child closed stdout before reporting its port");
    ready = reader.push(value).find((frame) => frame.type === FrameType.READY);
  }
  assert.ok(ready.type === FrameType.READY && ready.port > 0);

  // Ctrl-C reaches the whole process group; the parent decides when the child ends.
  child.kill("SIGINT");
  const connection = await Deno.connect({ hostname: "127.0.0.1", port: ready.port });
  connection.close();

  await child.stdin.close();
  const exitedBy = performance.now();
  const status = await child.status;
  assert.deepEqual({ code: status.code, signal: status.signal }, { code: 0, signal: null });
  assert.ok(performance.now() - exitedBy < 3_000);
  stdout.releaseLock();
  await child.stdout.cancel();
});
