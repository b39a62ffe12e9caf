/**
 * Config fuzz: thousands of TOML files — the example configs cut, shuffled, retyped and salted
 * with garbage — through the server's loader (smol-toml) and the agent's (its own TOML subset
 * reader). Each is accepted or refused with a `ConfigError` that names a TOML path or the syntax
 * problem; no other exception escapes, and nothing hangs. A sample also goes through the real
 * server program's `--check-config`: exit 0 or 2, never a crash.
 */
import assert from "node:assert/strict";
import { parseAgentConfig } from "../agent/config.ts";
import { parseServerConfig } from "../server/config.ts";
import { ConfigError } from "../shared/config/mod.ts";
import { Random } from "./helpers/chunk_random.ts";
import { SERVER_MAIN } from "./helpers/server_process.ts";

const FILES = 2_400;
const CLI_FILES = 12;
const SEED = Number(Deno.env.get("OXMON_FUZZ_SEED") ?? 7);

const SERVER_EXAMPLE = Deno.readTextFileSync(
  new URL("../config/server.example.toml", import.meta.url),
);
const AGENT_EXAMPLE = Deno.readTextFileSync(
  new URL("../config/agent.example.toml", import.meta.url),
);

const VALUES = [
  "0",
  "-1",
  "1",
  "65536",
  "9007199254740993",
  "1e308",
  "inf",
  "nan",
  "-0",
  "0x10",
  "1_000",
  "3.5",
  "true",
  "false",
  '""',
  '"x"',
  '"\\u0000"',
  '"\\uD800"',
  "'literal'",
  '"""multi\nline"""',
  "[]",
  '["a", 1]',
  "[[]]",
  "{}",
  "{ a = 1 }",
  "{ a = { b = { c = [1, 2] } } }",
  "2026-11-30T03:17:00Z",
  "2026-11-30",
  "03:17:00",
  '"' + "x".repeat(10_000) + '"',
  "[" + "1,".repeat(2_000) + "1]",
];

const GARBAGE = [
  "[",
  "]]",
  "[[alert.rules]]",
  "[notification]",
  "[[notification.channels]]",
  "[filters]",
  "[collectors]",
  "= 1",
  "a = ",
  "a.b.c = 1",
  '"quoted key" = 2',
  "\u0000",
  "\uFEFF",
  "key = 1 # comment",
  "a = 1\na = 2",
  "[x]\n[x]",
  "\t \t",
  "[".repeat(300),
  "a = " + "[".repeat(300),
  "a = { " + "b = { ".repeat(200),
];

/** One random config file made from `base`. */
function mutate(rng: Random, base: string): string {
  let lines = base.split("\n");
  for (let edits = rng.int(1, 6); edits > 0; edits--) {
    const at = rng.int(0, lines.length);
    switch (rng.int(0, 8)) {
      case 0: // delete a line
        lines.splice(at, 1);
        break;
      case 1: // duplicate a line
        if (at < lines.length) lines.splice(at, 0, lines[at]);
        break;
      case 2: { // give a key another value
        const line = lines[at] ?? "";
        const eq = line.indexOf("=");
        if (eq > 0) lines[at] = `${line.slice(0, eq + 1)} ${rng.pick(VALUES)}`;
        break;
      }
      case 3: // uncomment a commented key
        if (lines[at]?.startsWith("# ")) lines[at] = lines[at].slice(2);
        break;
      case 4:
        lines.splice(at, 0, rng.pick(GARBAGE));
        break;
      case 5: { // cut the file
        lines = lines.slice(0, at);
        const last = lines.pop();
        if (last !== undefined) lines.push(last.slice(0, rng.int(0, last.length)));
        break;
      }
      case 6: { // random bytes in a line
        const line = lines[at] ?? "";
        const pos = rng.int(0, line.length);
        const noise = String.fromCharCode(
          ...Array.from({ length: rng.int(1, 5) }, () => rng.int(0, 127)),
        );
        lines[at] = line.slice(0, pos) + noise + line.slice(pos);
        break;
      }
      case 7: // an unknown key
        lines.splice(
          at,
          0,
          `${rng.pick(["typo_key", "retention_dayz", "min_free_byte", "x"])} = ${rng.pick(VALUES)}`,
        );
        break;
      default: { // swap two lines (moves keys between tables)
        const other = rng.int(0, lines.length - 1);
        if (at < lines.length) [lines[at], lines[other]] = [lines[other], lines[at]];
      }
    }
  }
  return lines.join("\n");
}

type Outcome = "accepted" | "refused";

function judge(load: () => unknown, text: string, what: string): Outcome {
  try {
    load();
    return "accepted";
  } catch (error) {
    if (!(error instanceof ConfigError)) {
      assert.fail(
        `${what} threw ${(error as Error)?.name}: ${(error as Error)?.message}\n--- file ---\n${
          text.slice(0, 2_000)
        }`,
      );
    }
    assert.ok(error.problems.length > 0, "a refusal says why");
    for (const problem of error.problems) {
      // A syntax error, or a problem named by its TOML path: `alert.rules[2].value: ...`.
      assert.match(problem, /^(invalid TOML: .+|[^\s].*?: .+)$/s, `${what}: ${problem}`);
    }
    return "refused";
  }
}

Deno.test("thousands of mutated TOML configs are accepted or refused with a ConfigError, never a crash", () => {
  const rng = new Random(SEED);
  const counts = { server: { accepted: 0, refused: 0 }, agent: { accepted: 0, refused: 0 } };
  for (let i = 0; i < FILES; i++) {
    const server = mutate(rng, SERVER_EXAMPLE);
    counts.server[judge(() => parseServerConfig(server, "fuzz.toml"), server, "server config")]++;
    const agent = mutate(rng, AGENT_EXAMPLE);
    counts.agent[judge(() => parseAgentConfig(agent, "fuzz.toml"), agent, "agent config")]++;
  }
  console.log(
    `config fuzz (seed ${SEED}): ${FILES} server configs ${JSON.stringify(counts.server)}, ` +
      `${FILES} agent configs ${JSON.stringify(counts.agent)}`,
  );
  // Both outcomes must be common, or the fuzz proves less than it says.
  for (const side of [counts.server, counts.agent]) {
    assert.ok(side.accepted > FILES / 10, JSON.stringify(counts));
    assert.ok(side.refused > FILES / 10, JSON.stringify(counts));
  }
});

Deno.test("the server program answers mutated configs with exit 0 or 2 and a message, never a crash", async () => {
  const rng = new Random(SEED + 1);
  const dir = await Deno.makeTempDir({ prefix: "oxmon-config-fuzz-" });
  try {
    const codes: Record<number, number> = {};
    await Promise.all(Array.from({ length: CLI_FILES }, async (_, i) => {
      const path = `${dir}/config-${i}.toml`;
      Deno.writeTextFileSync(path, mutate(rng, SERVER_EXAMPLE));
      const output = await new Deno.Command(Deno.execPath(), {
        args: ["run", "-A", SERVER_MAIN.pathname, "--config", path, "--check-config"],
        stdout: "piped",
        stderr: "piped",
      }).output();
      const text = new TextDecoder().decode(output.stderr) +
        new TextDecoder().decode(output.stdout);
      assert.ok([0, 2].includes(output.code), `exit ${output.code}: ${text}`);
      if (output.code === 2) assert.match(text, new RegExp(`oxmon-server: .*${path}`));
      codes[output.code] = (codes[output.code] ?? 0) + 1;
    }));
    console.log(
      `config fuzz through the program: ${CLI_FILES} files, exit codes ${JSON.stringify(codes)}`,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
