import assert from "node:assert/strict";
import { parseServerConfig } from "../config.ts";

Deno.test("[[remote_write]] and [prometheus] read with defaults", () => {
  const config = parseServerConfig(`
[prometheus]
expose_agent_metrics = true
remote_write_default_agent = "pushed"

[[remote_write]]
url = "https://vm.example:8428/api/v1/write"
basic_auth = { username = "u", password = "p" }
headers = { "X-Scope-OrgID" = "t1" }
external_labels = { cluster = "eu" }
metric_include = ["cpu.*"]
`);
  assert.equal(config.prometheus.exposeAgentMetrics, true);
  assert.equal(config.prometheus.remoteWriteDefaultAgent, "pushed");
  assert.equal(config.prometheus.lookbackDeltaSecs, 300);
  const [endpoint] = config.remoteWrite;
  assert.equal(endpoint.name, "vm.example:8428");
  assert.deepEqual(endpoint.basicAuth, { username: "u", password: "p" });
  assert.equal(endpoint.maxBatchSamples, 5000);
  assert.equal(endpoint.flushIntervalSecs, 5);
  assert.equal(endpoint.queueMaxBytes, 256 << 20);
  assert.equal(endpoint.agentLabel, "agent");
  assert.match(endpoint.queueId, /^[0-9a-f]{16}$/);
  assert.deepEqual(parseServerConfig("").remoteWrite, []);
});

Deno.test("remote_write problems are named by their TOML path", () => {
  assert.throws(
    () =>
      parseServerConfig(`
[prometheus]
expose_agent_metric = true

[[remote_write]]
url = "ftp://x"

[[remote_write]]
url = "http://a:1/w"
bearer_token = "t"
basic_auth = { username = "u" }
max_batch_samples = 0
flush_interval_secs = -1
tls_ca_file = "/nonexistent/ca.pem"
headers = { "Content-Encoding" = "gzip" }
external_labels = { __x = "y" }
queue_max_byte = 5

[[remote_write]]
url = "http://a:1/w"
`),
    (error: Error) => {
      for (
        const expected of [
          "prometheus.expose_agent_metric: unknown key",
          'remote_write[0].url: expected an http:// or https:// URL, got "ftp://x"',
          "remote_write[1].basic_auth: use either bearer_token or basic_auth, not both",
          "remote_write[1].max_batch_samples: expected a positive integer, got 0",
          "remote_write[1].flush_interval_secs: expected a number above 0, got -1",
          'remote_write[1].tls_ca_file: cannot read "/nonexistent/ca.pem"',
          "remote_write[1].headers.Content-Encoding: is set by oxmon and cannot be overridden",
          "remote_write[1].external_labels.__x: expected a label name not starting with __",
          "remote_write[1].queue_max_byte: unknown key",
          'remote_write[2].name: "a:1" is already used by another [[remote_write]]',
          'remote_write[2].url: "http://a:1/w" is already used by another [[remote_write]]',
        ]
      ) assert.ok(error.message.includes(expected), `missing "${expected}" in:\n${error.message}`);
      return true;
    },
  );
});
