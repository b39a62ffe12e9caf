/**
 * Keeps the documentation from drifting away from the code: every config key the readers know
 * appears in the example configs and in the README, every example config and every TOML example
 * in the README loads, and every REST route is in the README.
 */
import assert from "node:assert/strict";
import { parse as parseToml } from "smol-toml";
import { configLoader, type TableReader } from "../shared/config/mod.ts";
import { loadAgentConfig, readAgentConfig } from "../agent/config.ts";
import { loadServerConfig, parseServerConfig, readServerConfig } from "../server/config.ts";
import { RULE_TYPES } from "../server/alerts/config.ts";
import { CHECK_TYPES, type CheckType } from "../shared/checks/spec.ts";
import { CHANNEL_TYPES, RECURRENCES } from "../server/notify/config.ts";
import { openFullApi } from "./helpers/full_api.ts";

const ROOT = new URL("../", import.meta.url).pathname;
const README = Deno.readTextFileSync(`${ROOT}README.md`);
const AGENT_EXAMPLE = `${ROOT}config/agent.example.toml`;
const SERVER_EXAMPLE = `${ROOT}config/server.example.toml`;

/**
 * Wraps a parsed TOML table so that every key a reader asks for is recorded, present or not, as
 * `table.key` (array elements as `[]`). Asking is what a reader does for each key it knows.
 */
function recording(value: unknown, path: string, seen: Set<string>): unknown {
  if (Array.isArray(value)) {
    return new Proxy(value, {
      get(target, key, receiver) {
        const item = Reflect.get(target, key, receiver);
        return typeof key === "string" && /^\d+$/.test(key)
          ? recording(item, `${path}[]`, seen)
          : item;
      },
    });
  }
  if (value !== null && typeof value === "object" && !(value instanceof Date)) {
    return new Proxy(value as Record<string, unknown>, {
      get(target, key, receiver) {
        const item = Reflect.get(target, key, receiver);
        if (typeof key !== "string" || !/^[a-z][a-z0-9_]*$/.test(key)) return item;
        const keyPath = path ? `${path}.${key}` : key;
        seen.add(keyPath);
        return recording(item, keyPath, seen);
      },
    });
  }
  return value;
}

/** Every key path `build` asks for while reading `text`. */
function keysAskedFor(text: string, build: (root: TableReader) => unknown): Set<string> {
  const seen = new Set<string>();
  const loader = configLoader((toml) => recording(parseToml(toml), "", seen) as never);
  loader.text(text, "documentation test", build);
  return seen;
}

/** `[check_settings]` and one check of each type a side runs, for the server and the agent. */
const CHECK_VARIANTS = (() => {
  const checks: Record<CheckType, string> = {
    http: 'url = "http://h/"',
    tcp: 'host = "h"\nport = 1',
    dns: 'query_name = "example.com"',
    heartbeat: 'token = "0123456789abcdef"\ninterval_secs = 60',
  };
  const text = (types: readonly CheckType[]) =>
    "\n[check_settings]\nmax_concurrent = 1\n" +
    types.map((type) => `\n[[checks]]\nname = "doc-${type}"\ntype = "${type}"\n${checks[type]}\n`)
      .join("");
  return {
    server: text(CHECK_TYPES),
    agent: text(CHECK_TYPES.filter((type) => type !== "heartbeat")),
  };
})();

/** A file with a PEM file's shape: where the config names one, its reader checks that much. */
const PEM_FILE = (() => {
  const dir = Deno.makeTempDirSync({ prefix: "oxmon-docs-pem-" });
  const path = `${dir}/placeholder.pem`;
  Deno.writeTextFileSync(path, "-----BEGIN CERTIFICATE-----\n-----END CERTIFICATE-----\n");
  globalThis.addEventListener("unload", () => Deno.removeSync(dir, { recursive: true }));
  return path;
})();

/**
 * Credentials and TLS in each of their forms: agent and API tokens as a secret and as a digest,
 * TLS for both listeners with mutual TLS for agents.
 */
const TRUST_VARIANTS = `
[[agent_tokens]]
name = "doc-secret"
token = "doc-agent-token-0123456789"
agents = ["web-*"]

[[agent_tokens]]
token_sha256 = "${"0".repeat(64)}"
agents = ["*"]

[[api_tokens]]
name = "doc-read"
token = "doc-api-token-0123456789"
scope = "read"

[[api_tokens]]
token_sha256 = "${"1".repeat(64)}"
scope = "admin"

[grpc_tls]
cert_file = "${PEM_FILE}"
key_file = "${PEM_FILE}"
client_ca_file = "${PEM_FILE}"
client_cert_identity = true

[http_tls]
cert_file = "${PEM_FILE}"
key_file = "${PEM_FILE}"
`;

/**
 * The server example plus one rule of each type, one channel of each type, one silence window of
 * each recurrence, a `[[remote_write]]` endpoint with basic auth and every credential and TLS
 * table, so that every variant's keys are asked for.
 */
function everyServerVariant(): string {
  const rules: Record<string, string> = {
    threshold: 'operator = "greater_than"\nvalue = 1.0',
    rate_of_change: "rate_threshold = 1.0",
    trend_prediction: "predict_threshold = 1.0\nhorizon_secs = 60",
    agent_absent: "absent_secs = 60",
    cert_expiration: "",
    check_failed: "",
  };
  const channels: Record<string, string> = {
    email: 'smtp_host = "h"\nfrom = "a@b"\nrecipients = ["c@d"]',
    webhook: 'url = "http://h/"',
    sms: 'gateway_url = "http://h/"\nphone_numbers = ["+1"]',
  };
  const windows: Record<string, string> = {
    daily: "",
    weekdays: "",
    weekly: 'days = ["mon"]',
    once: 'date = "2026-12-24"',
  };
  let text = Deno.readTextFileSync(SERVER_EXAMPLE) + CHECK_VARIANTS.server +
    '\n[[cert_check.domains]]\ndomain = "example.com"\n' +
    '\n[[remote_write]]\nurl = "http://h/api/v1/write"\n' +
    'basic_auth = { username = "u", password = "p" }\n' + TRUST_VARIANTS;
  for (const type of RULE_TYPES) {
    text += `\n[[alert.rules]]\nname = "doc-${type}"\ntype = "${type}"\nmetric = "m"\n` +
      `${rules[type]}\n`;
  }
  for (const type of CHANNEL_TYPES) {
    text += `\n[[notification.channels]]\ntype = "${type}"\nname = "doc-${type}"\n` +
      `${channels[type]}\n`;
  }
  for (const recurrence of RECURRENCES) {
    text += `\n[[notification.silence_windows]]\nstart_time = "01:00"\nend_time = "02:00"\n` +
      `recurrence = "${recurrence}"\n${windows[recurrence]}\n`;
  }
  return text;
}

const leaf = (path: string) => path.slice(path.lastIndexOf(".") + 1).replace("[]", "");
const escape = (text: string) => text.replace(/[.[\]]/g, "\\$&");
/** Free-form tables: their keys are the user's (label names, HTTP header names). */
const FREE_FORM = /\.(labels|headers)\./;

/**
 * A key is documented in an example as a `key =` line (possibly commented out, `# key = ...`) or,
 * for a table, as its header (`[filters]`, `[[alert.rules]]`; `alert` through `[[alert.rules]]`).
 */
function documentedIn(text: string): (key: string) => boolean {
  return (key) =>
    new RegExp(`^(#\\s*)?${leaf(key)}\\s*=`, "m").test(text) ||
    new RegExp(`^\\s*#?\\s*\\[\\[?${escape(key.replaceAll("[]", ""))}[\\].]`, "m").test(text);
}
/** In backticks, or for a table its header: `[filters]`, `[[alert.rules]]`. */
const inReadme = (key: string) =>
  README.includes(`\`${leaf(key)}\``) ||
  new RegExp(`\\[\\[?${escape(key.replaceAll("[]", ""))}[\\].]`).test(README);
const schemaKeys = (keys: Set<string>) =>
  [...keys].filter((key) => !FREE_FORM.test(key.replaceAll("[]", "")));

Deno.test("every server config key is in the server example and the README", () => {
  const keys = keysAskedFor(everyServerVariant(), readServerConfig);
  const example = Deno.readTextFileSync(SERVER_EXAMPLE);
  assert.ok(keys.size > 60, `only ${keys.size} keys recorded`);
  const missingExample = schemaKeys(keys).filter((key) => !documentedIn(example)(key));
  const missingReadme = schemaKeys(keys).filter((key) => !inReadme(key));
  assert.deepEqual(missingExample, [], "missing from config/server.example.toml");
  assert.deepEqual(missingReadme, [], "missing from README.md");
});

Deno.test("every agent config key is in the agent example and the README", () => {
  const keys = keysAskedFor(
    Deno.readTextFileSync(AGENT_EXAMPLE) + CHECK_VARIANTS.agent,
    readAgentConfig,
  );
  const example = Deno.readTextFileSync(AGENT_EXAMPLE);
  assert.ok(keys.size > 20, `only ${keys.size} keys recorded`);
  assert.deepEqual(schemaKeys(keys).filter((key) => !documentedIn(example)(key)), []);
  assert.deepEqual(schemaKeys(keys).filter((key) => !inReadme(key)), []);
});

Deno.test("the example configs load, and so does every server TOML example in the README", async (t) => {
  loadAgentConfig(AGENT_EXAMPLE);
  loadServerConfig(SERVER_EXAMPLE);
  const blocks = [...README.matchAll(/```toml\n([\s\S]*?)```/g)].map((match) => match[1]);
  assert.ok(blocks.length >= 10, `only ${blocks.length} TOML examples found`);
  for (const [index, block] of blocks.entries()) {
    await t.step(`README TOML example ${index + 1}`, () => {
      // Agent examples are recognised by the agent's own keys.
      if (/^\s*(server_endpoint|proc_root|collection_interval_secs)\s*=/m.test(block)) {
        const dir = Deno.makeTempDirSync({ prefix: "oxmon-docs-" });
        try {
          Deno.writeTextFileSync(`${dir}/agent.toml`, block);
          loadAgentConfig(`${dir}/agent.toml`);
        } finally {
          Deno.removeSync(dir, { recursive: true });
        }
      } else {
        // Files an example names (a CA bundle, a certificate) exist on the reader's machine.
        const withFiles = block.replace(
          /^(\s*\w+_file\s*=\s*)"[^"]*"/gm,
          (_, key) => `${key}"${PEM_FILE}"`,
        );
        parseServerConfig(withFiles, `README TOML example ${index + 1}`);
      }
    });
  }
});

Deno.test("every REST route is in the README", async () => {
  // Every route module the server mounts, as server.ts mounts them.
  const { request, close } = await openFullApi();
  try {
    const document = await (await request("/api/v1/openapi.json")).json();
    const routes = Object.entries(document.paths as Record<string, Record<string, unknown>>)
      .filter(([path]) => path !== "/")
      .flatMap(([path, methods]) =>
        Object.keys(methods).map((method) =>
          `${method.toUpperCase()} ${path.replace(/\{(\w+)\}/g, ":$1")}`
        )
      );
    assert.ok(routes.length >= 30, `only ${routes.length} routes`);
    const missing = routes.filter((route) => !README.includes(route));
    assert.deepEqual(missing, [], "routes missing from the README");
  } finally {
    await close();
  }
});

Deno.test("the README reads in a 100-column terminal: no line outside a code block is wider", () => {
  let fenced = false;
  const wide: string[] = [];
  for (const [index, line] of README.split("\n").entries()) {
    if (line.startsWith("```")) fenced = !fenced;
    else if (!fenced && [...line].length > 100) {
      wide.push(`line ${index + 1} (${[...line].length}): ${line.slice(0, 40)}…`);
    }
  }
  assert.deepEqual(wide, []);
});
