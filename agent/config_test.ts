import assert from "node:assert/strict";
import { ConfigError } from "../shared/config/mod.ts";
import {
  applyOverrides,
  DEFAULT_DEVICE_EXCLUDE,
  defaultAgentConfig,
  loadAgentConfig,
  parseAgentConfig,
  parseServerEndpoint,
} from "./config.ts";
import { DEFAULT_FS_TYPES_EXCLUDE } from "./collectors/filesystem.ts";

function problemsOf(text: string): readonly string[] {
  try {
    parseAgentConfig(text);
  } catch (error) {
    assert.ok(error instanceof ConfigError, String(error));
    return error.problems;
  }
  assert.fail("expected a ConfigError");
}

Deno.test("every key of the original oxmon agent loads unchanged", () => {
  const config = parseAgentConfig(`
agent_id = "web-01"
server_endpoint = "http://10.0.0.1:9090"
collection_interval_secs = 30
buffer_max_size = 500
`);
  assert.equal(config.agentId, "web-01");
  assert.equal(config.serverEndpoint, "http://10.0.0.1:9090");
  assert.deepEqual(config.server, { address: "10.0.0.1:9090", tls: false });
  assert.equal(config.collectionIntervalSecs, 30);
  assert.equal(config.bufferMaxSize, 500);
  assert.ok(Object.isFrozen(config) && Object.isFrozen(config.filters.mounts));
});

Deno.test("defaults: host name, local server, 10 s, 1000 batches, 5 s grace", () => {
  const config = defaultAgentConfig();
  assert.match(config.agentId, /^[A-Za-z0-9][A-Za-z0-9._-]*$/);
  assert.deepEqual(config.server, { address: "127.0.0.1:9090", tls: false });
  assert.equal(config.collectionIntervalSecs, 10);
  assert.equal(config.bufferMaxSize, 1000);
  assert.equal(config.shutdownGraceSecs, 5);
  assert.equal(config.authToken, undefined);
  assert.deepEqual(config.filters.devices.exclude, DEFAULT_DEVICE_EXCLUDE);
  assert.deepEqual(config.filters.interfaces.exclude, [
    "lo",
    "ifb*",
    "veth*",
    "docker*",
    "br-*",
    "virbr*",
  ]);
  assert.deepEqual(config.filters.fsTypesExclude, DEFAULT_FS_TYPES_EXCLUDE);
  assert.ok(Object.values(config.collectors).every(Boolean));
  assert.equal(config.logLevel, "info");
});

Deno.test("the additions load: token, TLS, filters, collectors, log", () => {
  const config = parseAgentConfig(`
server_endpoint = "https://oxmon.example.com:9443"
auth_token = "s3cret-token"
tls_ca_file = "/etc/oxmon/ca.pem"
shutdown_grace_secs = 2.5
send_timeout_secs = 3
proc_root = "/host/proc"
sys_root = "/host/sys"
[filters]
mount_include = ["/", "/data*"]
mount_exclude = ["/data/tmp"]
fs_type_exclude = ["tmpfs"]
device_include = ["nvme*"]
device_exclude = []
interface_include = ["eth*"]
interface_exclude = ["eth9"]
[collectors]
disk_io = false
[log]
level = "debug"
format = "json"
`);
  assert.deepEqual(config.server, { address: "oxmon.example.com:9443", tls: true });
  assert.equal(config.authToken, "s3cret-token");
  assert.equal(config.tlsCaFile, "/etc/oxmon/ca.pem");
  assert.equal(config.shutdownGraceSecs, 2.5);
  assert.equal(config.sendTimeoutSecs, 3);
  assert.equal(config.procRoot, "/host/proc");
  assert.equal(config.sysRoot, "/host/sys");
  assert.deepEqual(config.filters, {
    mounts: { include: ["/", "/data*"], exclude: ["/data/tmp"] },
    fsTypesExclude: ["tmpfs"],
    devices: { include: ["nvme*"], exclude: [] },
    interfaces: { include: ["eth*"], exclude: ["eth9"] },
  });
  assert.equal(config.collectors.disk_io, false);
  assert.equal(config.collectors.cpu, true);
  assert.equal(config.logLevel, "debug");
  assert.equal(config.logFormat, "json");
});

Deno.test("config problems are all reported, each with its TOML path", () => {
  const problems = problemsOf(`
agent_id = "web 01"
server_endpoint = "ftp://x"
collection_interval_secs = 0
buffer_max_size = -1
auth_token = "two words"
colection_interval_secs = 5
[filters]
mount_include = "/"
device_exclud = ["x"]
[collectors]
gpu = true
cpu = "yes"
[log]
level = "loud"
`);
  const expected = [
    /^agent_id: expected 1 to 128 letters.*got "web 01"$/,
    /^server_endpoint: expected http:\/\/host:port.*got "ftp:\/\/x"$/,
    /^collection_interval_secs: expected a positive integer, got 0$/,
    /^buffer_max_size: expected a positive integer, got -1$/,
    /^auth_token: expected printable ASCII/,
    /^colection_interval_secs: unknown key$/,
    /^filters\.mount_include: expected an array of strings, got "\/"$/,
    /^filters\.device_exclud: unknown key$/,
    /^collectors\.gpu: unknown key$/,
    /^collectors\.cpu: expected true or false, got "yes"$/,
    /^log\.level: expected debug, info, warn or error, got "loud"$/,
  ];
  for (const pattern of expected) {
    assert.ok(problems.some((p) => pattern.test(p)), `${pattern} not in\n${problems.join("\n")}`);
  }
  assert.equal(problems.length, expected.length, problems.join("\n"));
});

Deno.test("tls_ca_file without an https endpoint is a problem", () => {
  assert.deepEqual(problemsOf(`tls_ca_file = "ca.pem"`), [
    "tls_ca_file: is only used with an https:// server_endpoint",
  ]);
});

Deno.test("a client certificate needs its key, and an https endpoint", () => {
  assert.deepEqual(problemsOf(`server_endpoint = "https://m:9090"\ntls_cert_file = "a.crt"`), [
    "tls_key_file: tls_cert_file and tls_key_file go together (a client certificate and its key)",
  ]);
  assert.deepEqual(problemsOf(`tls_cert_file = "a.crt"\ntls_key_file = "a.key"`), [
    "tls_cert_file: is only used with an https:// server_endpoint",
  ]);
  const config = parseAgentConfig(
    `server_endpoint = "https://m:9090"\ntls_cert_file = "a.crt"\ntls_key_file = "a.key"`,
  );
  assert.deepEqual([config.tlsCertFile, config.tlsKeyFile], ["a.crt", "a.key"]);
});

Deno.test("parseServerEndpoint accepts http, https and plain host:port", () => {
  assert.deepEqual(parseServerEndpoint("http://127.0.0.1:9090"), {
    address: "127.0.0.1:9090",
    tls: false,
  });
  assert.deepEqual(parseServerEndpoint("https://mon.example.com"), {
    address: "mon.example.com:9090",
    tls: true,
  });
  assert.deepEqual(parseServerEndpoint("mon:7000"), { address: "mon:7000", tls: false });
  assert.deepEqual(parseServerEndpoint("http://[::1]:9090/"), {
    address: "[::1]:9090",
    tls: false,
  });
  assert.throws(() => parseServerEndpoint("http://host:99999"), /port from 1 to 65535, got 99999/);
  assert.throws(() => parseServerEndpoint("http://host/path"), TypeError);
  assert.throws(() => parseServerEndpoint(""), TypeError);
});

Deno.test("loadAgentConfig names a missing file", () => {
  assert.throws(
    () => loadAgentConfig("/nonexistent/agent.toml"),
    /agent\.toml: 1 problem\n {2}file not found/,
  );
});

Deno.test("command-line overrides replace config keys and are checked like them", () => {
  const base = parseAgentConfig(`agent_id = "a"`);
  const config = applyOverrides(base, {
    serverEndpoint: "127.0.0.1:7000",
    agentId: "b",
    collectionIntervalSecs: 2,
  });
  assert.equal(config.server.address, "127.0.0.1:7000");
  assert.equal(config.agentId, "b");
  assert.equal(config.collectionIntervalSecs, 2);
  assert.throws(
    () => applyOverrides(base, { serverEndpoint: "x y", agentId: "", collectionIntervalSecs: 0.5 }),
    (error: unknown) => {
      assert.ok(error instanceof ConfigError);
      assert.equal(error.problems.length, 3);
      assert.match(error.problems[0], /^--server: /);
      assert.match(error.problems[1], /^--agent-id: /);
      assert.match(error.problems[2], /^--interval: .*got 0\.5$/);
      return true;
    },
  );
});

Deno.test("spool_dir, spool_max_bytes and buffer_max_bytes are read and checked", () => {
  const config = parseAgentConfig(`
spool_dir = "/var/lib/oxmon-agent/spool"
spool_max_bytes = 1048576
buffer_max_bytes = 2097152
`);
  assert.equal(config.spoolDir, "/var/lib/oxmon-agent/spool");
  assert.equal(config.spoolMaxBytes, 1_048_576);
  assert.equal(config.bufferMaxBytes, 2_097_152);
  const defaults = parseAgentConfig("");
  assert.equal(defaults.spoolDir, undefined, "memory only unless set");
  assert.equal(defaults.bufferMaxBytes, 8 * 1024 * 1024);
  const problems = problemsOf(`
spool_dir = ""
spool_max_bytes = 10
buffer_max_bytes = "lots"
`);
  assert.deepEqual([...problems].sort(), [
    'buffer_max_bytes: expected an integer, got "lots"',
    "spool_dir: expected a folder path, got an empty string",
    "spool_max_bytes: expected an integer of at least 65536, got 10",
  ]);
});

Deno.test("config/agent.example.toml loads and spells out the defaults", () => {
  const example = loadAgentConfig(
    new URL("../config/agent.example.toml", import.meta.url).pathname,
  );
  const defaults = defaultAgentConfig();
  assert.deepEqual({ ...example, agentId: "" }, { ...defaults, agentId: "" });
});
