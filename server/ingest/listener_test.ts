import assert from "node:assert/strict";
import { join } from "node:path";
import { listenerCommand } from "../../tests/helpers/grpc_client.ts";
import { FrameReader, FrameType } from "./_framing.ts";
import { EXIT_BIND_FAILED, LISTENER_ENV, parseListenerSettings } from "./listener.ts";

Deno.test("parseListenerSettings reads host, port, socket and options", () => {
  assert.deepEqual(parseListenerSettings('{"host":"127.0.0.1","port":0,"socketPath":"/r/s"}'), {
    host: "127.0.0.1",
    port: 0,
    socketPath: "/r/s",
  });
  assert.deepEqual(
    parseListenerSettings(
      '{"host":"::","port":9090,"socketPath":"/r/s","maxMessageBytes":1024,"logLevel":"debug"}',
    ),
    { host: "::", port: 9090, socketPath: "/r/s", maxMessageBytes: 1024, logLevel: "debug" },
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
    () => parseListenerSettings('{"host":"h","port":1}'),
    /OXMON_GRPC_LISTENER\.socketPath: expected a socket path, got undefined/,
  );
  assert.throws(
    () => parseListenerSettings('{"host":"h","port":1,"socketPath":"/s","maxMessageBytes":0}'),
    /\.maxMessageBytes:/,
  );
  assert.throws(
    () => parseListenerSettings('{"host":"h","port":1,"socketPath":"/s","logLevel":"loud"}'),
    /\.logLevel: expected debug, info, warn or error, got "loud"/,
  );
});

Deno.test("the listener child reports its port, ignores SIGINT and exits when its parent goes away", async () => {
  const dir = await Deno.makeTempDir({ prefix: "oxmon-listener-" });
  const socketPath = join(dir, "listener.sock");
  const socket = Deno.listen({ transport: "unix", path: socketPath });
  const { cmd, args } = listenerCommand();
  const child = new Deno.Command(cmd, {
    args,
    env: { [LISTENER_ENV]: JSON.stringify({ host: "127.0.0.1", port: 0, socketPath }) },
    stdin: "null",
    stdout: "null",
    stderr: "null",
  }).spawn();
  const parent = await socket.accept();
  socket.close();
  const frames = parent.readable.getReader();
  const reader = new FrameReader();
  let ready;
  while (!ready) {
    const { value, done } = await frames.read();
    assert.ok(!done, "the child closed its socket before reporting its port");
    ready = reader.push(value).find((frame) => frame.type === FrameType.READY);
  }
  assert.ok(ready.type === FrameType.READY && ready.port > 0);

  // Ctrl-C reaches the whole process group; the parent decides when the child ends.
  child.kill("SIGINT");
  const connection = await Deno.connect({ hostname: "127.0.0.1", port: ready.port });
  connection.close();

  frames.releaseLock();
  parent.close();
  const exitedBy = performance.now();
  const status = await child.status;
  assert.deepEqual({ code: status.code, signal: status.signal }, { code: 0, signal: null });
  assert.ok(performance.now() - exitedBy < 3_000);
  await Deno.remove(dir, { recursive: true });
});

Deno.test("the listener child exits with EXIT_BIND_FAILED when the server's socket is gone", async () => {
  const dir = await Deno.makeTempDir({ prefix: "oxmon-listener-" });
  const { cmd, args } = listenerCommand();
  const settings = { host: "127.0.0.1", port: 0, socketPath: join(dir, "gone.sock") };
  const output = await new Deno.Command(cmd, {
    args,
    env: { [LISTENER_ENV]: JSON.stringify(settings) },
    stdin: "null",
    stdout: "null",
    stderr: "piped",
  }).output();
  await Deno.remove(dir, { recursive: true });
  assert.equal(output.code, EXIT_BIND_FAILED);
  assert.match(new TextDecoder().decode(output.stderr), /cannot reach the server/);
});
