import assert from "node:assert/strict";
import { ConfigError, loadConfigText } from "../config/mod.ts";
import { readChecksConfig, type ReadChecksOptions } from "./config.ts";

const read = (text: string, side: ReadChecksOptions["side"] = "server") =>
  loadConfigText(text, "test config", (root) => readChecksConfig(root, { side }));

function problems(text: string, side: ReadChecksOptions["side"] = "server"): string[] {
  try {
    read(text, side);
  } catch (error) {
    if (error instanceof ConfigError) return [...error.problems];
    throw error;
  }
  assert.fail("expected a ConfigError");
}

Deno.test("[[checks]] of every type load with their defaults", () => {
  const config = read(`
[check_settings]
max_concurrent = 8

[[checks]]
name = "api"
type = "http"
url = "https://api.example.com/health"
expected_status = ["2xx", 301, "400-404"]
headers = { Authorization = "Bearer x" }
body_contains = "ok"

[[checks]]
name = "db"
type = "tcp"
host = "10.0.0.5"
port = 5432
interval_secs = 30
timeout_secs = 3

[[checks]]
name = "resolver"
type = "dns"
query_name = "example.com"
record_type = "MX"
resolver = "127.0.0.1:5353"
expected = "10 mail.example.com"

[[checks]]
name = "backup"
type = "heartbeat"
token = "0123456789abcdef0123"
interval_secs = 86400
`);
  assert.equal(config.maxConcurrent, 8);
  assert.deepEqual(config.checks, [
    {
      name: "api",
      type: "http",
      intervalSecs: 60,
      timeoutSecs: 10,
      url: "https://api.example.com/health",
      method: "GET",
      headers: { Authorization: "Bearer x" },
      expectedStatus: [{ min: 200, max: 299 }, { min: 301, max: 301 }, { min: 400, max: 404 }],
      bodyContains: "ok",
      tlsVerify: true,
      followRedirects: true,
    },
    { name: "db", type: "tcp", intervalSecs: 30, timeoutSecs: 3, host: "10.0.0.5", port: 5432 },
    {
      name: "resolver",
      type: "dns",
      intervalSecs: 60,
      timeoutSecs: 10,
      queryName: "example.com",
      recordType: "MX",
      resolver: { ipAddr: "127.0.0.1", port: 5353 },
      expected: ["10 mail.example.com"],
    },
    {
      name: "backup",
      type: "heartbeat",
      intervalSecs: 86400,
      timeoutSecs: 0,
      token: "0123456789abcdef0123",
      graceSecs: 60,
    },
  ]);
  assert.deepEqual(read("").checks, []);
});

Deno.test("a bad check is reported by its TOML path, every problem at once", () => {
  assert.deepEqual(
    problems(`
[[checks]]
name = "bad name!"
type = "http"
url = "ftp://x"
method = "FETCH"
expected_status = [200, "6xx"]
body_regex = "("
interval_secs = 5
timeout_secs = 10
colour = "red"

[[checks]]
name = "t"
type = "tcp"
host = "db"

[[checks]]
name = "t"
type = "dns"
query_name = "x.example"
resolver = "not-an-ip"

[[checks]]
name = "hb"
type = "heartbeat"
token = "short"

[[checks]]
name = "what"
type = "ping"
host = "x"
`),
    [
      `checks[0].name: expected 1 to 64 letters, digits, '.', '_' or '-', starting with a letter or digit, got "bad name!"`,
      "checks[0].timeout_secs: expected at most interval_secs (5), got 10",
      'checks[0].url: expected an http:// or https:// URL, got "ftp://x"',
      'checks[0].method: expected one of "GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", got "FETCH"',
      "checks[0].body_regex: not a valid regular expression: Invalid regular expression: /(/: Unterminated group",
      `checks[0].expected_status[1]: expected a status (200), a range ("200-299"), a class ("2xx") or an array of them, got "6xx"`,
      "checks[0].colour: unknown key",
      "checks[1].port: is required",
      `checks[2].resolver: expected an IP address with an optional port ("127.0.0.1", "127.0.0.1:5353", "[::1]:53"), got "not-an-ip"`,
      'checks[2].name: duplicate check name "t" (also checks[1].name)',
      "checks[3].interval_secs: is required",
      "checks[3].token: expected 16 to 128 letters, digits, '_' or '-' (e.g. from `openssl rand -hex 16`), got \"short\"",
      'checks[4].type: expected one of "http", "tcp", "dns", "heartbeat", got "ping"',
    ],
  );
});

Deno.test("checks on agents live in the agents' config: from = [...] is refused with the reason", () => {
  const [problem] = problems(`
[[checks]]
name = "intranet"
type = "http"
url = "http://10.0.0.1/"
from = ["web-*"]
`);
  assert.match(problem, /^checks\[0\]\.from: the server runs only from = "server" checks/);
  assert.equal(
    read(`[[checks]]\nname = "x"\ntype = "tcp"\nhost = "h"\nport = 1\nfrom = "server"\n`).checks
      .length,
    1,
  );
});

Deno.test("an agent refuses heartbeats, from and tls_verify = false", () => {
  assert.deepEqual(
    problems(
      `
[[checks]]
name = "hb"
type = "heartbeat"
token = "0123456789abcdef0123"
interval_secs = 60

[[checks]]
name = "insecure"
type = "http"
url = "https://10.0.0.1/"
tls_verify = false
from = "server"
`,
      "agent",
    ),
    [
      "checks[0].type: heartbeat checks are pings the server receives; configure them in the server's config",
      "checks[1].tls_verify: an agent always verifies certificates (Deno's fetch cannot skip it); trust a private CA with tls_ca_file, or run the check from the server",
      "checks[1].from: unknown key",
    ],
  );
});
