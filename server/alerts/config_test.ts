import assert from "node:assert/strict";
import { ConfigError, loadConfigText, type TableReader } from "../../shared/config/mod.ts";
import { type AlertConfig, readAlertConfig } from "./config.ts";

function load(text: string): Readonly<AlertConfig> {
  return loadConfigText(
    text,
    "test.toml",
    (root: TableReader) => readAlertConfig(root.table("alert")),
  );
}

function problems(text: string): readonly string[] {
  try {
    load(text);
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  assert.fail("expected a ConfigError");
}

// The rules of the original oxmon's config/server.example.toml, unchanged.
const ORIGINAL_RULES = `
[[alert.rules]]
name = "high-cpu"
type = "threshold"
metric = "cpu.usage"
agent_pattern = "*"
operator = "greater_than"
value = 90.0
duration_secs = 300
severity = "critical"
silence_secs = 600

[[alert.rules]]
name = "memory-spike"
type = "rate_of_change"
metric = "memory.used_percent"
agent_pattern = "*"
rate_threshold = 20.0
window_secs = 300
severity = "warning"
silence_secs = 600

[[alert.rules]]
name = "disk-full-prediction"
type = "trend_prediction"
metric = "disk.used_percent"
agent_pattern = "*"
predict_threshold = 95.0
horizon_secs = 86400
min_data_points = 10
severity = "info"
silence_secs = 3600

[[alert.rules]]
name = "cert-expiry"
type = "cert_expiration"
metric = "certificate.days_until_expiry"
agent_pattern = "cert-checker"
severity = "critical"
warning_days = 30
critical_days = 7
silence_secs = 86400

[[alert.rules]]
name = "cert-invalid"
type = "threshold"
metric = "certificate.is_valid"
agent_pattern = "cert-checker"
operator = "less_than"
value = 1.0
duration_secs = 0
severity = "critical"
silence_secs = 3600
`;

Deno.test("readAlertConfig loads the original oxmon rules unchanged", () => {
  const { rules } = load(ORIGINAL_RULES);
  assert.deepEqual(rules, [
    {
      name: "high-cpu",
      type: "threshold",
      metric: "cpu.usage",
      agentPattern: "*",
      labels: {},
      severity: "critical",
      silenceSecs: 600,
      operator: "greater_than",
      value: 90,
      durationSecs: 300,
    },
    {
      name: "memory-spike",
      type: "rate_of_change",
      metric: "memory.used_percent",
      agentPattern: "*",
      labels: {},
      severity: "warning",
      silenceSecs: 600,
      rateThreshold: 20,
      windowSecs: 300,
    },
    {
      name: "disk-full-prediction",
      type: "trend_prediction",
      metric: "disk.used_percent",
      agentPattern: "*",
      labels: {},
      severity: "info",
      silenceSecs: 3600,
      predictThreshold: 95,
      horizonSecs: 86_400,
      minDataPoints: 10,
      windowSecs: 3600,
    },
    {
      name: "cert-expiry",
      type: "cert_expiration",
      metric: "certificate.days_until_expiry",
      agentPattern: "cert-checker",
      labels: {},
      severity: "critical",
      silenceSecs: 86_400,
      warningDays: 30,
      criticalDays: 7,
    },
    {
      name: "cert-invalid",
      type: "threshold",
      metric: "certificate.is_valid",
      agentPattern: "cert-checker",
      labels: {},
      severity: "critical",
      silenceSecs: 3600,
      operator: "less_than",
      value: 1,
      durationSecs: 0,
    },
  ]);
  assert.ok(Object.isFrozen(rules[0]));
});

Deno.test("readAlertConfig reads label filters, agent_absent and the defaults", () => {
  const { rules } = load(`
[[alert.rules]]
name = "root-full"
type = "threshold"
metric = "disk.used_percent"
labels = { mount = "/" }
operator = "greater_equal"
value = 90

[[alert.rules]]
name = "agent-down"
type = "agent_absent"
agent_pattern = "web-*"
absent_secs = 120
`);
  assert.deepEqual(rules, [
    {
      name: "root-full",
      type: "threshold",
      metric: "disk.used_percent",
      agentPattern: "*",
      labels: { mount: "/" },
      severity: "warning",
      silenceSecs: 600,
      operator: "greater_equal",
      value: 90,
      durationSecs: 0,
    },
    {
      name: "agent-down",
      type: "agent_absent",
      metric: "",
      agentPattern: "web-*",
      labels: {},
      severity: "warning",
      silenceSecs: 600,
      absentSecs: 120,
    },
  ]);
});

Deno.test("readAlertConfig reports every problem with its TOML path", async (t) => {
  const cases: [string, string, string[]][] = [
    [
      "a negative duration",
      `name = "a"\ntype = "threshold"\nmetric = "m"\noperator = "less_than"\nvalue = 1\n` +
      `duration_secs = -5`,
      ["alert.rules[0].duration_secs: expected a non-negative integer, got -5"],
    ],
    [
      "an unknown key, and a key of another rule type",
      `name = "a"\ntype = "threshold"\nmetric = "m"\noperator = "less_than"\nvalue = 1\n` +
      `duraton_secs = 5\nwindow_secs = 60`,
      ["alert.rules[0].duraton_secs: unknown key", "alert.rules[0].window_secs: unknown key"],
    ],
    [
      "missing keys",
      `name = "a"\ntype = "threshold"`,
      [
        "alert.rules[0].metric: is required",
        "alert.rules[0].operator: is required",
        "alert.rules[0].value: is required",
      ],
    ],
    [
      "a bad operator, severity and value",
      `name = "a"\ntype = "threshold"\nmetric = "m"\noperator = "gt"\nvalue = "high"\n` +
      `severity = "fatal"`,
      [
        'alert.rules[0].severity: expected one of "info", "warning", "critical", got "fatal"',
        'alert.rules[0].operator: expected one of "greater_than", "less_than", "greater_equal", ' +
        '"less_equal", "equal", "not_equal", got "gt"',
        'alert.rules[0].value: expected a number, got "high"',
      ],
    ],
    [
      "an unknown type, without noise about its keys",
      `name = "a"\ntype = "threshhold"\nmetric = "m"\nvalue = 1`,
      [
        'alert.rules[0].type: expected one of "threshold", "rate_of_change", ' +
        '"trend_prediction", "agent_absent", "cert_expiration", "check_failed", got "threshhold"',
      ],
    ],
    [
      "rate and trend ranges",
      `name = "a"\ntype = "rate_of_change"\nmetric = "m"\nrate_threshold = 0\nwindow_secs = 0\n` +
      `[[alert.rules]]\nname = "b"\ntype = "trend_prediction"\nmetric = "m"\n` +
      `predict_threshold = 1\nhorizon_secs = 0\nmin_data_points = 1`,
      [
        "alert.rules[0].rate_threshold: expected a number above 0, got 0",
        "alert.rules[0].window_secs: expected a positive integer, got 0",
        "alert.rules[1].horizon_secs: expected a positive integer, got 0",
        "alert.rules[1].min_data_points: expected an integer of at least 2, got 1",
      ],
    ],
    [
      "absent_secs, a bad glob and a bad label filter",
      `name = "a"\ntype = "agent_absent"\nagent_pattern = "web-[z-a]"\n` +
      `labels = { mount = 1 }`,
      [
        'alert.rules[0].agent_pattern: expected a glob like "web-*", got "web-[z-a]"',
        "alert.rules[0].labels.mount: expected a string, got 1",
        "alert.rules[0].absent_secs: is required",
      ],
    ],
    [
      "cert levels in the wrong order",
      `name = "a"\ntype = "cert_expiration"\nwarning_days = 7\ncritical_days = 30`,
      ["alert.rules[0].critical_days: expected at most warning_days (7), got 30"],
    ],
    [
      "duplicate rule names",
      `name = "a"\ntype = "agent_absent"\nabsent_secs = 60\n` +
      `[[alert.rules]]\nname = "b"\ntype = "agent_absent"\nabsent_secs = 60\n` +
      `[[alert.rules]]\nname = "a"\ntype = "agent_absent"\nabsent_secs = 60`,
      ['alert.rules[2].name: duplicate rule name "a" (also alert.rules[0].name)'],
    ],
  ];
  for (const [name, body, expected] of cases) {
    await t.step(name, () => {
      assert.deepEqual(problems(`[[alert.rules]]\n${body}\n`), expected);
    });
  }
  await t.step("an unknown key of the section", () => {
    assert.deepEqual(problems(`[alert]\nruless = []\n`), ["alert.ruless: unknown key"]);
  });
});

Deno.test("readAlertConfig defaults the trend window as the original did", () => {
  const { rules } = load(`
[[alert.rules]]
name = "t"
type = "trend_prediction"
metric = "m"
predict_threshold = 1
horizon_secs = 60
silence_secs = 0
`);
  assert.equal(rules[0].type === "trend_prediction" && rules[0].windowSecs, 600);
});
