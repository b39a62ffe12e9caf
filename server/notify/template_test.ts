import assert from "node:assert/strict";
import type { AlertEvent } from "../../shared/types.ts";
import { alertEvent } from "../../tests/helpers/alert_harness.ts";
import { EVENT_FIELD_NAMES, eventFields } from "./message.ts";
import { compileTemplate } from "./template.ts";

const HOSTILE = 'quote " backslash \\ newline \n tab \t close "} brace {{agent_id}} nul \u0000';

function event(overrides: Partial<AlertEvent> = {}): AlertEvent {
  return alertEvent({
    labels: { core: "0" },
    message: "CPU 95.5% > 90%",
    value: 95.5,
    timestampMs: Date.UTC(2026, 0, 2, 3, 4, 5),
    ...overrides,
  });
}

const known = EVENT_FIELD_NAMES;

Deno.test("JSON template values cannot break or inject JSON", async (t) => {
  const template = compileTemplate(
    '{"text": "[{{severity}}] {{agent_id}}: {{message}}", "rule": "{{rule}}"}',
    { known },
  );
  assert.equal(template.format, "json");
  await t.step("a hostile message stays one string value", () => {
    const body = template.render(eventFields([event({ message: HOSTILE, agentId: 'a"b' })]));
    const parsed = JSON.parse(body);
    assert.deepEqual(Object.keys(parsed), ["text", "rule"]);
    assert.equal(parsed.text, `[critical] a"b: ${HOSTILE}`);
    assert.equal(parsed.rule, "high-cpu");
  });
  await t.step("placeholders outside strings become JSON literals", () => {
    const bare = compileTemplate(
      '{"value": {{value}}, "message": {{message}}, "labels": {{labels}}, "events": {{events}}}',
      { known },
    );
    const parsed = JSON.parse(bare.render(eventFields([event({ message: HOSTILE })])));
    assert.equal(parsed.value, 95.5);
    assert.equal(parsed.message, HOSTILE);
    assert.equal(parsed.labels, "core=0");
    assert.equal(parsed.events[0].message, HOSTILE);
  });
  await t.step("a non-finite value is null, never a bare NaN", () => {
    const bare = compileTemplate('{"value": {{value}}}', { known });
    assert.deepEqual(JSON.parse(bare.render(eventFields([event({ value: NaN })]))), {
      value: null,
    });
  });
});

Deno.test("aggregated events fill a template with every event", () => {
  const template = compileTemplate(
    '{"text": "{{count}} alerts: {{message}}", "agents": "{{agent_id}}", "values": {{value}}, "severity": "{{severity}}"}',
    { known },
  );
  const events = [
    event({ id: "a", agentId: "web-1", value: 91, severity: "warning" }),
    event({ id: "b", agentId: "web-2", value: 97, message: 'disk "full"' }),
  ];
  const parsed = JSON.parse(template.render(eventFields(events)));
  assert.equal(parsed.agents, "web-1, web-2");
  assert.deepEqual(parsed.values, [91, 97]);
  assert.equal(parsed.severity, "critical");
  assert.match(
    parsed.text,
    /^2 alerts: \[WARNING\] high-cpu web-1 .*\n\[CRITICAL\] .*disk "full"$/,
  );
});

Deno.test("the body format follows Content-Type", async (t) => {
  await t.step("form bodies percent-encode values", () => {
    const template = compileTemplate("msg={{message}}&sev={{severity}}", {
      known,
      format: "form",
    });
    const body = template.render(eventFields([event({ message: "a&b=c d" })]));
    assert.equal(new URLSearchParams(body).get("msg"), "a&b=c d");
    assert.equal(new URLSearchParams(body).get("sev"), "critical");
  });
  await t.step("a template that is not JSON is plain text, values as they are", () => {
    const template = compileTemplate("ALERT {{agent_id}}: {{message}}", { known });
    assert.equal(template.format, "text");
    assert.equal(template.render(eventFields([event()])), "ALERT web-1: CPU 95.5% > 90%");
  });
  await t.step("a bare placeholder is plain text, not a quoted JSON string", () => {
    for (const text of ["{{message}}", " {{value}} "]) {
      const template = compileTemplate(text, { known });
      assert.equal(template.format, "text", text);
    }
    const template = compileTemplate("{{message}}", { known });
    assert.equal(template.render(eventFields([event()])), "CPU 95.5% > 90%");
  });
  await t.step("declared JSON that is not JSON is refused", () => {
    assert.throws(() => compileTemplate("text {{message}}", { known, format: "json" }), {
      name: "TypeError",
      message: /not valid JSON/,
    });
  });
});

Deno.test("an unknown placeholder is refused with its name", () => {
  assert.throws(() => compileTemplate('{"m": "{{mesage}}"}', { known }), {
    name: "TypeError",
    message: /unknown placeholder \{\{mesage\}\}/,
  });
});

Deno.test("escaping tracks escaped quotes inside JSON string literals", () => {
  const template = compileTemplate('{"a": "say \\"{{message}}\\"", "b": {{value}}}', { known });
  const parsed = JSON.parse(template.render(eventFields([event({ message: 'x"y' })])));
  assert.equal(parsed.a, 'say "x"y"');
  assert.equal(parsed.b, 95.5);
});
