import assert from "node:assert/strict";
import { parseServerConfig } from "../config.ts";
import { sha256Hex } from "./tokens.ts";

function problems(toml: string): string {
  try {
    parseServerConfig(toml);
  } catch (error) {
    return (error as Error).message;
  }
  return "";
}

Deno.test("agent and API tokens load in both forms; the config keeps only digests", () => {
  const config = parseServerConfig(`
[[agent_tokens]]
name = "web"
token = "web-token-0123456789"
agents = ["web-*"]

[[agent_tokens]]
token_sha256 = "${sha256Hex("db-token-0123456789").toUpperCase()}"
agents = ["db-1"]

[[api_tokens]]
token = "read-token-0123456789"
scope = "read"
`);
  const { agentTokens, apiTokens, agentTokensFlat } = config.security;
  assert.equal(agentTokensFlat, false);
  assert.deepEqual(agentTokens.map((t) => [t.name, t.sha256, t.agents]), [
    ["web", sha256Hex("web-token-0123456789"), ["web-*"]],
    ["agent_tokens[1]", sha256Hex("db-token-0123456789"), ["db-1"]],
  ]);
  assert.deepEqual(apiTokens.map((t) => [t.name, t.scope]), [["api_tokens[0]", "read"]]);
  assert.ok(!JSON.stringify(config).includes("web-token-0123456789"));
  assert.equal(parseServerConfig(`agent_tokens = ["flat-one"]`).security.agentTokensFlat, true);
});

Deno.test("bad trust keys are each named by their TOML path", () => {
  const text = problems(`
[[agent_tokens]]
token = "short"
token_sha256 = "abc"
agents = []

[[api_tokens]]
token_sha256 = "xyz"
scope = "root"

[grpc_tls]
cert_file = "/nonexistent/server.crt"
key_file = "/nonexistent/server.key"
client_cert_identity = true

[http]
allowed_hosts = ["bad host"]
timeout = 3

[grpc]
max_inflight_bytes = 1024
`);
  for (
    const expected of [
      /agent_tokens\[0\]\.token: an agent token needs exactly one of token and token_sha256/,
      /agent_tokens\[0\]\.agents: expected at least one agent id or glob/,
      /api_tokens\[0\]\.token_sha256: expected 64 hex digits/,
      /api_tokens\[0\]\.scope: expected one of "read", "admin", got "root"/,
      /grpc_tls\.cert_file: cannot read \/nonexistent\/server\.crt/,
      /grpc_tls\.key_file: cannot read \/nonexistent\/server\.key/,
      /grpc_tls\.client_cert_identity: needs client_ca_file/,
      /http\.allowed_hosts\[0\]: expected a host name or glob, got "bad host"/,
      /http\.timeout: unknown key/,
      /grpc\.max_inflight_bytes: must be at least ingest\.max_batch_bytes/,
    ]
  ) assert.match(text, expected);
});
