/** The agent's TOML subset reader against smol-toml, the parser the rest of oxmon uses. */
import assert from "node:assert/strict";
import { parse } from "smol-toml";
import { parseTomlSubset } from "./_toml.ts";

const agreed = [
  "",
  "\n\n# only a comment\n",
  'agent_id = "web-01"',
  "agent_id = 'web-01' # trailing comment",
  "collection_interval_secs = 10\nbuffer_max_size = 1_000",
  "a = -5\nb = +7\nc = 0\nd = -0",
  "a = 1.5\nb = -0.25\nc = 1e3\nd = 6.02E+23\ne = 1_000.5\nf = 5e-1",
  "on = true\noff = false",
  'quote = "a \\"quoted\\" \\\\ word"',
  'escapes = "tab\\tnew\\nline \\u00fc \\U0001F600"',
  "literal = 'C:\\path\\to\\file # not a comment'",
  'hash = "# not a comment"',
  "equals = 'a=b'",
  "empty = ''\nalso = \"\"",
  'unicode = "ünïcødé ✓"',
  "list = []",
  'list = ["a", "b", ]',
  "list = [ 1, 2, 3 ]",
  'list = [\n  "a", # first\n  "b",\n  # a comment line\n  "c"\n]',
  "nested = [[1, 2], ['x']]",
  "[filters]\nmount_include = []\nmount_exclude = ['/boot*']",
  'top = 1\n[filters]\nkey = 2\n[collectors]\ncpu = false\n[log]\nlevel = "debug"',
  "[ spaced ]\nkey = 1",
  '[log] # comment\nformat = "json"',
  "  indented = 1\n\tkey2 = 'tab'",
  "key = 1\r\nother = 2\r\n",
  "dash-key = 1\nunder_score = 2\n123 = 3",
  "[empty]",
  '[[checks]]\nname = "a"\n[[checks]]\nname = "b"\nport = 5',
  'top = 1\n[[checks]]\nname = "api"\nheaders = { Authorization = "Bearer x", X-Id = \'7\' }\n[log]\nlevel = "info"',
  "inline = {}\nnested = { a = { b = [1, 2] }, c = true }",
  '[check_settings]\nmax_concurrent = 4\n[[checks]]\nexpected_status = ["2xx", 301]',
];

const refused: [string, RegExp][] = [
  ["a.b = 1", /line 1: key "a.b" is not a bare key/],
  ['"quoted" = 1', /line 1: key ""quoted"" is not a bare key/],
  ["[a.b]\nk = 1", /line 1: table name "a.b" is not a bare key/],
  ["[[a.b]]\nk = 1", /line 1: table name "a.b" is not a bare key/],
  ['inline = { "a" = 1 }', /line 1: expected a bare key in an inline table/],
  ['x = 1\ntext = """\nmany\n"""', /line 2: multi-line strings are not supported/],
  ["text = '''one'''", /line 1: multi-line strings are not supported/],
  ["when = 1979-05-27T07:32:00Z", /line 1: cannot read the value "1979-05-27T07:32:00Z"/],
  ["hex = 0xff", /line 1: cannot read the value "0xff"/],
  ["big = inf", /line 1: cannot read the value "inf"/],
  ["not_a_number = nan", /line 1: cannot read the value "nan"/],
];

/** Invalid TOML: both parsers must refuse it. */
const invalid = [
  "key",
  "key =",
  "= 1",
  "a = 1\na = 2",
  "[t]\n[t]",
  "t = 1\n[t]",
  'a = "unterminated',
  "a = 'unterminated",
  "a = [1, 2",
  "a = 1 2",
  "a = 01",
  "a = 1__0",
  "a = 1.",
  "a = .5",
  "a = _1",
  'a = "\\x"',
  "a = True",
  "[t",
  "a = [1 2]",
  'a = "\\ud800"',
  "[t]\n[[t]]",
  "[[t]]\n[t]",
  "t = 1\n[[t]]",
  "a = { b = 1, b = 2 }",
  "a = { b = 1 ",
];

Deno.test("parseTomlSubset reads what smol-toml reads, the same way", async (t) => {
  for (const text of agreed) {
    await t.step(JSON.stringify(text), () => {
      assert.deepEqual(parseTomlSubset(text), parse(text));
    });
  }
  await t.step("config/agent.example.toml", async () => {
    const text = await Deno.readTextFile(
      new URL("../config/agent.example.toml", import.meta.url),
    );
    const uncommented = text.replace(/^# (\w+ = )/gm, "$1");
    for (const variant of [text, uncommented]) {
      assert.deepEqual(parseTomlSubset(variant), parse(variant));
    }
    assert.equal(parseTomlSubset(uncommented).auth_token, "change-me");
  });
});

Deno.test("parseTomlSubset refuses TOML it does not support, naming the line", async (t) => {
  for (const [text, message] of refused) {
    await t.step(JSON.stringify(text), () => {
      // Valid TOML that smol-toml reads: refusing it must never mean misreading it.
      parse(text);
      assert.throws(() => parseTomlSubset(text), (error: Error) => {
        assert.ok(error instanceof SyntaxError);
        assert.match(error.message, message);
        return true;
      });
    });
  }
});

Deno.test("parseTomlSubset refuses invalid TOML, like smol-toml", async (t) => {
  for (const text of invalid) {
    await t.step(JSON.stringify(text), () => {
      assert.throws(() => parse(text));
      assert.throws(() => parseTomlSubset(text), /^SyntaxError: line \d+: /);
    });
  }
});
