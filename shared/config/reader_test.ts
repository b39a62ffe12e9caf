import assert from "node:assert/strict";
import { ConfigError, loadConfigText } from "./mod.ts";

const build = (root: import("./reader.ts").TableReader) => {
  const rules = root.tables("rules").map((rule) => {
    const value = {
      name: rule.string("name"),
      durationSecs: rule.integer("duration_secs", { default: 0, min: 0 }),
    };
    rule.finish();
    return value;
  });
  return { port: root.integer("port", { default: 9090, min: 0, max: 65535 }), rules };
};

Deno.test("loadConfigText applies defaults and freezes the result", () => {
  const config = loadConfigText("", "test.toml", build);
  assert.deepEqual(config, { port: 9090, rules: [] });
  assert.ok(Object.isFrozen(config));
  assert.ok(Object.isFrozen(config.rules));
});

Deno.test("loadConfigText reports every problem with its TOML path", () => {
  const text = `
port = "x"
colour = 1
[[rules]]
name = "a"
duration_secs = -5
[[rules]]
durashun_secs = 3
`;
  let error: ConfigError | undefined;
  try {
    loadConfigText(text, "test.toml", build);
  } catch (caught) {
    if (caught instanceof ConfigError) error = caught;
  }
  assert.ok(error, "expected a ConfigError");
  const problems = error.problems;
  assert.ok(problems.includes('port: expected a non-negative integer, got "x"'), String(problems));
  assert.ok(problems.includes("colour: unknown key"), String(problems));
  assert.ok(
    problems.includes("rules[0].duration_secs: expected a non-negative integer, got -5"),
    String(problems),
  );
  assert.ok(problems.includes("rules[1].name: is required"), String(problems));
  assert.ok(problems.includes("rules[1].durashun_secs: unknown key"), String(problems));
  assert.match(error.message, /^Cannot load test.toml: 5 problems/);
});

Deno.test("loadConfigText turns a TOML syntax error into a ConfigError", () => {
  assert.throws(
    () => loadConfigText("port = = 1", "bad.toml", build),
    /Cannot load bad.toml: .*invalid TOML/s,
  );
});
