import assert from "node:assert/strict";
import { join } from "node:path";
import { systemClock } from "../../shared/clock.ts";
import { memoryLogger } from "../../shared/log.ts";
import { decodeMetricBatch, GrpcStatus } from "../../shared/wire/mod.ts";
import { listenerCommand, reportMetrics, withClient } from "../../tests/helpers/grpc_client.ts";
import { Wire } from "../../tests/helpers/wire_messages.ts";
import { openAgentRegistry } from "../agents/sqlite_registry.ts";
import { DEFAULT_INGEST_LIMITS } from "../config.ts";
import { openRowStore } from "../storage/row_engine.ts";
import { makeBatch } from "../../tests/helpers/ingest_fakes.ts";
import type { IngestResult } from "./service.ts";
import { IngestService } from "./service.ts";
import { SERVER_V8_FLAGS_ARG } from "../v8_flags.ts";
import {
  GrpcIngestSupervisor,
  type GrpcIngestSupervisorOptions,
  type IngestHandler,
  listenerCommandFor,
} from "./supervisor.ts";

/** A real server stack over a temp dir: row store, SQLite registry, service, supervisor. */
async function withServer(
  use: (env: {
    port: number;
    supervisor: GrpcIngestSupervisor;
    store: ReturnType<typeof openRowStore>;
    log: ReturnType<typeof memoryLogger>;
  }) => Promise<void>,
  options: { agentTokens?: string[]; supervisor?: Partial<GrpcIngestSupervisorOptions> } = {},
): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "oxmon-ingest-" });
  const store = openRowStore({ dataDir: dir });
  const registry = openAgentRegistry(join(dir, "agents.db"));
  const log = memoryLogger("info");
  const service = new IngestService({
    store,
    registry,
    limits: DEFAULT_INGEST_LIMITS,
    agentTokens: options.agentTokens ?? [],
    retentionDays: 7,
    clock: systemClock,
    log,
  });
  const supervisor = new GrpcIngestSupervisor({
    host: "127.0.0.1",
    port: 0,
    service,
    log,
    command: listenerCommand(),
    ...options.supervisor,
  });
  try {
    const { port } = await supervisor.start();
    await use({ port, supervisor, store, log });
  } finally {
    await supervisor.stop();
    store.close();
    registry.close();
    await Deno.remove(dir, { recursive: true });
  }
}

function grpcError(code: number, details: RegExp) {
  return (error: unknown) => {
    const { code: got, details: message } = error as { code: number; details: string };
    assert.equal(got, code, message);
    assert.match(message, details);
    return true;
  };
}

Deno.test("GrpcIngestSupervisor ingests through the listener child into storage", async () => {
  await withServer(async ({ port, store }) => {
    const now = Date.now();
    const batch = makeBatch("web-01", 1_000, now - 1_000, { labels: { mount: "/" } });
    await withClient(port, async (client) => {
      const reply = await reportMetrics(client, batch);
      assert.deepEqual({ ...reply }, { success: true, message: "stored 1000 of 1000 points" });

      const series = store.queryRaw({ agentId: "web-01", fromMs: now - 60_000, toMs: now });
      assert.equal(series.length, 1_000);
      const core7 = series.find((s) => s.labels.core === "7")!;
      assert.deepEqual(core7.samples, [{ timestampMs: now - 1_000, value: 3.5 }]);

      const retry = await reportMetrics(client, batch);
      assert.equal(retry.success, true);
      assert.match(retry.message!, /1000 already stored/);
      const again = store.queryRaw({ agentId: "web-01", fromMs: now - 60_000, toMs: now });
      assert.equal(again.reduce((sum, s) => sum + s.samples.length, 0), 1_000, "stored once");

      const bad = makeBatch("web-01", 5, now);
      bad.dataPoints![3].value = NaN;
      await assert.rejects(
        reportMetrics(client, bad),
        grpcError(GrpcStatus.INVALID_ARGUMENT, /^data_points\[3\]\.value: expected a finite/),
      );

      // A value sent as a length-delimited field: refused, not stored as 0.
      const mistyped = new Wire().string(1, "web-01")
        .delimited(3, new Wire().string(3, "cpu.usage").tag(1, 0).varint(now).finish())
        .delimited(3, new Wire().string(3, "cpu.usage").string(4, "8 bytes!").finish())
        .finish();
      await assert.rejects(
        reportMetrics(client, mistyped),
        grpcError(
          GrpcStatus.INVALID_ARGUMENT,
          /batch\.data_points\[1\]\.value: wire type 2, expected 1 \(double\)$/,
        ),
      );
    });
  });
});

Deno.test("GrpcIngestSupervisor passes the authorization metadata to the token check", async () => {
  await withServer(async ({ port }) => {
    const batch = makeBatch("web-01", 2, Date.now());
    await withClient(port, async (client) => {
      await assert.rejects(
        reportMetrics(client, batch, 5_000, { "agent-id": "web-01" }),
        grpcError(GrpcStatus.UNAUTHENTICATED, /authorization: missing/),
      );
      await assert.rejects(
        reportMetrics(client, batch, 5_000, { authorization: "Bearer nope" }),
        grpcError(GrpcStatus.UNAUTHENTICATED, /not accepted/),
      );
      const reply = await reportMetrics(client, batch, 5_000, {
        authorization: "Bearer agent-secret",
        "agent-id": "web-01",
      });
      assert.equal(reply.success, true);
    });
  }, { agentTokens: ["agent-secret"] });
});

Deno.test("GrpcIngestSupervisor restarts a killed child at once on the same port", async () => {
  await withServer(async ({ port, supervisor, store, log }) => {
    const firstPid = supervisor.stats().pid!;
    const killedAt = performance.now();
    Deno.kill(firstPid, "SIGKILL");
    // The child is a real process: wait for the supervisor to notice and replace it.
    while (supervisor.stats().restarts === 0) {
      assert.ok(performance.now() - killedAt < 10_000, "no restart within 10 s");
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    await supervisor.whenReady();
    const restartMs = performance.now() - killedAt;
    const stats = supervisor.stats();
    assert.equal(stats.port, port);
    assert.notEqual(stats.pid, firstPid);
    assert.ok(
      log.lines.some((line) => /exited; restarting .*signal=SIGKILL restarts=1/.test(line)),
    );

    const now = Date.now();
    await withClient(port, async (client) => {
      assert.equal((await reportMetrics(client, makeBatch("web-02", 3, now))).success, true);
    });
    assert.equal(store.queryRaw({ agentId: "web-02", fromMs: now, toMs: now }).length, 3);
    assert.ok(restartMs < 5_000, `restart took ${restartMs} ms`);
  });
});

Deno.test("GrpcIngestSupervisor.stop lets a call in flight finish before the child exits", async () => {
  const log = memoryLogger("info");
  const handled = Promise.withResolvers<void>();
  const release = Promise.withResolvers<IngestResult>();
  const supervisor = new GrpcIngestSupervisor({
    host: "127.0.0.1",
    port: 0,
    log,
    command: listenerCommand(),
    service: {
      handle: () => {
        handled.resolve();
        return release.promise;
      },
    },
  });
  const { port } = await supervisor.start();
  await withClient(port, async (client) => {
    const call = reportMetrics(client, makeBatch("web-01", 1, Date.now()));
    await handled.promise;
    const stopped = supervisor.stop();
    release.resolve({ code: GrpcStatus.OK, message: "committed", success: true });
    assert.deepEqual({ ...await call }, { success: true, message: "committed" });
    await stopped;
  });
  assert.equal(supervisor.stats().restarts, 0);
  assert.ok(!log.lines.some((line) => line.includes("killing")), log.lines.join("\n"));
});

Deno.test("GrpcIngestSupervisor.start fails naming the address when the port is taken", async () => {
  const taken = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const log = memoryLogger("info");
  try {
    const supervisor = new GrpcIngestSupervisor({
      host: "127.0.0.1",
      port: taken.addr.port,
      log,
      command: listenerCommand(),
      service: { handle: () => assert.fail("no request expected") },
    });
    await assert.rejects(
      supervisor.start(),
      new RegExp(
        `^Error: Cannot start the gRPC listener on 127\\.0\\.0\\.1:${taken.addr.port}: ` +
          "the child exited with code 2: .*cannot bind",
      ),
    );
    assert.equal(supervisor.stats().restarts, 0);
  } finally {
    taken.close();
  }
});

Deno.test("listenerCommandFor runs this same program in listener mode", async (t) => {
  await t.step("under deno run, the main module (a source file or a bundle), server flags", () => {
    assert.deepEqual(listenerCommandFor("/usr/bin/deno", "file:///srv/oxmon/server/main.ts"), {
      cmd: "/usr/bin/deno",
      args: [
        "run",
        "-A",
        SERVER_V8_FLAGS_ARG,
        "file:///srv/oxmon/server/main.ts",
        "--grpc-listener",
      ],
    });
    assert.deepEqual(listenerCommandFor("C:\\deno\\deno.exe", "file:///C:/oxmon/dist/server.js"), {
      cmd: "C:\\deno\\deno.exe",
      args: [
        "run",
        "-A",
        SERVER_V8_FLAGS_ARG,
        "file:///C:/oxmon/dist/server.js",
        "--grpc-listener",
      ],
    });
  });
  await t.step("a compiled binary runs itself", () => {
    assert.deepEqual(listenerCommandFor("/usr/local/bin/oxmon-server", "file:///ignored.ts"), {
      cmd: "/usr/local/bin/oxmon-server",
      args: ["--grpc-listener"],
    });
  });
});

Deno.test("GrpcIngestSupervisor backs off while restarted children die before binding", async () => {
  const dir = await Deno.makeTempDir({ prefix: "oxmon-backoff-" });
  const failFlag = join(dir, "fail");
  const { cmd, args } = listenerCommand();
  // Stands in for a port taken by someone else: every start fails while the flag file exists.
  const script = `if [ -e "$0" ]; then echo "cannot bind: port in use" >&2; exit 2; fi; exec "$@"`;
  const log = memoryLogger("info");
  const supervisor = new GrpcIngestSupervisor({
    host: "127.0.0.1",
    port: 0,
    log,
    command: { cmd: "sh", args: ["-c", script, failFlag, cmd, ...args] },
    service: { handle: () => ({ code: GrpcStatus.OK, message: "ok", success: true }) },
  });
  try {
    const { port } = await supervisor.start();
    await Deno.writeTextFile(failFlag, "");
    Deno.kill(supervisor.stats().pid!, "SIGKILL");
    const started = performance.now();
    while (performance.now() - started < 1_000) {
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    // 100 + 200 + 400 ms of backoff fit in the second: a handful of attempts, not hundreds.
    const attempts = supervisor.stats().restarts;
    assert.ok(attempts >= 2 && attempts <= 5, `${attempts} restarts in a second`);
    const backoffs = log.lines.flatMap((line) => line.match(/backoff_ms=(\d+)/)?.[1] ?? []);
    assert.deepEqual(backoffs.slice(0, 3), ["0", "100", "200"]);
    assert.ok(log.lines.some((line) => line.includes("port in use")));

    await Deno.remove(failFlag);
    await supervisor.whenReady();
    assert.equal(supervisor.stats().port, port);
  } finally {
    await supervisor.stop();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("GrpcIngestSupervisor hands requests that arrive together to handleMany and answers each", async () => {
  const groups: number[] = [];
  let busy = true;
  // The first call holds the event loop, so the other calls pile up in the socket meanwhile.
  const holdOnce = () => {
    if (!busy) return;
    busy = false;
    const until = performance.now() + 300;
    while (performance.now() < until) { /* busy */ }
  };
  const answer = (bytes: Uint8Array, how: string): IngestResult => ({
    code: GrpcStatus.OK,
    message: `${how} ${decodeMetricBatch(bytes).agentId}`,
    success: true,
  });
  const service: IngestHandler = {
    handle(bytes) {
      holdOnce();
      return answer(bytes, "alone");
    },
    handleMany(requests) {
      holdOnce();
      groups.push(requests.length);
      return requests.map((request) => answer(request.bytes, "grouped"));
    },
  };
  const supervisor = new GrpcIngestSupervisor({
    host: "127.0.0.1",
    port: 0,
    service,
    log: memoryLogger("info"),
    command: listenerCommand(),
  });
  try {
    const { port } = await supervisor.start();
    await withClient(port, async (client) => {
      const replies = await Promise.all(
        Array.from({ length: 12 }, (_, i) => reportMetrics(client, makeBatch(`agent-${i}`, 3, 0))),
      );
      replies.forEach((reply, i) => assert.match(reply.message!, new RegExp(` agent-${i}$`)));
    });
    assert.ok(groups.some((size) => size > 1), `group sizes ${groups}`);
    const stats = supervisor.stats();
    assert.equal(stats.requests, 12);
    assert.equal(stats.groupedRequests, groups.reduce((sum, size) => sum + size, 0));
  } finally {
    await supervisor.stop();
  }
});

Deno.test("GrpcIngestSupervisor keeps its children's sockets in a private directory it removes on stop", async () => {
  const tmp = await Deno.makeTempDir({ prefix: "oxmon-socket-parent-" });
  const supervisor = new GrpcIngestSupervisor({
    host: "127.0.0.1",
    port: 0,
    log: memoryLogger("info"),
    command: listenerCommand(),
    service: { handle: () => ({ code: GrpcStatus.OK, message: "ok", success: true }) },
    socketParentDir: tmp,
  });
  const entries = (dir: string) => Array.fromAsync(Deno.readDir(dir));
  // TMPDIR is process-wide: temp dirs other test files make meanwhile land here too, so only
  // the supervisor's own entries are looked at.
  const socketDirs = async () =>
    (await entries(tmp)).filter((entry) => entry.name.startsWith("oxmon-grpc-"));
  try {
    await supervisor.start();
    const [socketDir] = await socketDirs();
    assert.match(socketDir.name, /^oxmon-grpc-/);
    const socketDirPath = join(tmp, socketDir.name);
    assert.equal((await Deno.stat(socketDirPath)).mode! & 0o777, 0o700);
    // A connected child's socket file is gone at once: nothing else can connect in its place.
    assert.deepEqual(await entries(socketDirPath), []);

    Deno.kill(supervisor.stats().pid!, "SIGKILL");
    while (supervisor.stats().restarts === 0) {
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    await supervisor.whenReady();
    assert.deepEqual(await entries(socketDirPath), []);
  } finally {
    await supervisor.stop();
  }
  assert.deepEqual(await socketDirs(), [], "the socket directory is removed on stop");
  // Not recursive: a temp dir of another test file may still be in use in there.
  await Deno.remove(tmp).catch(() => {});
});
