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

Deno.test("TableReader.integers reads a table of limits by field, with defaults and bounds", () => {
  const defaults = { maxPoints: 10, maxBytes: 4096 };
  const keys = { maxPoints: ["max_points", 1], maxBytes: ["max_bytes", 1024, 8192] } as const;
  const read = (text: string) =>
    loadConfigText(text, "test.toml", (root) => {
      const limits = root.table("limits");
      const value = limits.integers(defaults, keys);
      limits.finish();
      return value;
    });
  assert.deepEqual(read(""), { maxPoints: 10, maxBytes: 4096 });
  assert.deepEqual(read("[limits]\nmax_bytes = 2048"), { maxPoints: 10, maxBytes: 2048 });
  assert.throws(
    () => read("[limits]\nmax_points = 0\nmax_bytes = 9000\nmax_byte = 1"),
    (error: unknown) =>
      error instanceof ConfigError && error.problems.join("\n") === [
          "limits.max_points: expected a positive integer, got 0",
          "limits.max_bytes: expected an integer of at most 8192, got 9000",
          "limits.max_byte: unknown key",
        ].join("\n"),
  );
});
