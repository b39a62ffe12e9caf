import assert from "node:assert/strict";
import { ApiError } from "./errors.ts";
import {
  checkParams,
  labelFilter,
  MAX_STEP_MS,
  parseInteger,
  parseStep,
  parseTime,
  timeRange,
} from "./params.ts";

function assertBadParameter(fn: () => unknown, name: string, detail?: RegExp) {
  assert.throws(fn, (error: unknown) => {
    assert.ok(error instanceof ApiError);
    assert.equal(error.status, 400);
    assert.match(error.message, new RegExp(`"${name.replace(".", "\\.")}"`));
    if (detail) assert.match(error.message, detail);
    return true;
  });
}

Deno.test("parseTime accepts RFC 3339 with any offset and Unix milliseconds", async (t) => {
  const ms = Date.UTC(2026, 0, 2, 3, 4, 5, 678);
  await t.step("UTC", () => assert.equal(parseTime("from", "2026-01-02T03:04:05.678Z"), ms));
  await t.step(
    "offset",
    () => assert.equal(parseTime("from", "2026-01-02T05:04:05.678+02:00"), ms),
  );
  await t.step("lower-case and space separator", () => {
    assert.equal(parseTime("from", "2026-01-02 03:04:05.678z"), ms);
  });
  await t.step(
    "without fraction",
    () => assert.equal(parseTime("to", "2026-01-02T03:04:05Z"), ms - 678),
  );
  await t.step("Unix ms", () => assert.equal(parseTime("to", String(ms)), ms));
  await t.step("the last RFC 3339 instant", () => {
    assert.equal(parseTime("to", "253402300799999"), parseTime("to", "9999-12-31T23:59:59.999Z"));
  });
});

Deno.test("parseTime rejects what is not a real instant, naming the parameter", async (t) => {
  for (
    const bad of [
      "",
      "yesterday",
      "2026-01-02",
      "2026-01-02T03:04:05", // no offset: ambiguous
      "2026-02-30T00:00:00Z", // no such day
      "2026-01-02T24:00:00Z",
      "-5",
      "1.5",
      "99999999999999999999",
      "253402300800000", // year 10000
    ]
  ) {
    await t.step(
      JSON.stringify(bad),
      () => assertBadParameter(() => parseTime("from", bad), "from"),
    );
  }
});

Deno.test("parseStep takes seconds or a duration and rejects the rest", () => {
  assert.equal(parseStep("step", "60"), 60_000);
  assert.equal(parseStep("step", "5m"), 300_000);
  assert.equal(parseStep("step", "1h30m"), 5_400_000);
  assert.equal(parseStep("step", "250ms"), 250);
  assertBadParameter(() => parseStep("step", "0"), "step", /positive/);
  assertBadParameter(() => parseStep("step", "5 minutes"), "step");
  assertBadParameter(() => parseStep("step", "0.0001"), "step", /whole number/);
});

Deno.test("parseTime refuses instants storage cannot hold: before 1970 or after 9999", () => {
  assert.equal(parseTime("from", "1970-01-01T00:00:00Z"), 0);
  for (const bad of ["1969-12-31T23:59:59Z", "1900-01-01T00:00:00Z", "9999-12-31T23:59:59-01:00"]) {
    assertBadParameter(() => parseTime("from", bad), "from", /from 1970-01-01T00:00:00Z/);
  }
});

Deno.test("parseStep refuses a step beyond ten years instead of overflowing storage", () => {
  assert.equal(parseStep("step", "3650d"), MAX_STEP_MS);
  for (
    const huge of ["99999999999999999999999", "3651d", "9007199254740993", `${"9".repeat(400)}s`]
  ) {
    assertBadParameter(() => parseStep("step", huge), "step", /at most 3650d/);
  }
});

Deno.test("checkParams names unknown and repeated parameters", async (t) => {
  const allowed = ["agent", "metric"];
  await t.step("known names and prefixed labels pass", () => {
    checkParams(new URLSearchParams("agent=a&metric=m&label.mount=/"), allowed, {
      prefixes: ["label."],
    });
  });
  await t.step("a typo is refused, listing what is expected", () => {
    assertBadParameter(
      () => checkParams(new URLSearchParams("agnet=a"), allowed, { prefixes: ["label."] }),
      "agnet",
      /expected agent, metric, label\.<name>/,
    );
  });
  await t.step("a label filter without prefix is a typo too", () => {
    assertBadParameter(
      () => checkParams(new URLSearchParams("mount=/"), allowed, { prefixes: ["label."] }),
      "mount",
    );
  });
  await t.step("a repeated parameter is refused", () => {
    assertBadParameter(
      () => checkParams(new URLSearchParams("agent=a&agent=b"), allowed),
      "agent",
      /more than once/,
    );
  });
  await t.step("a repeatable parameter may be given more than once, and no other", () => {
    const params = new URLSearchParams("match[]=up&match[]=x&start=1");
    checkParams(params, ["match[]", "start"], { repeatable: ["match[]"] });
    assertBadParameter(
      () =>
        checkParams(new URLSearchParams("start=1&start=2"), ["match[]", "start"], {
          repeatable: ["match[]"],
        }),
      "start",
      /more than once/,
    );
  });
});

Deno.test("labelFilter collects label.<name> parameters", () => {
  assert.equal(labelFilter(new URLSearchParams("agent=a")), undefined);
  assert.deepEqual(labelFilter(new URLSearchParams("label.mount=/&label.device=sda")), {
    mount: "/",
    device: "sda",
  });
  assertBadParameter(() => labelFilter(new URLSearchParams("label.=x")), "label.");
});

Deno.test("timeRange defaults to the last hour and refuses from after to", () => {
  const now = Date.UTC(2026, 0, 1, 12);
  assert.deepEqual(timeRange(new URLSearchParams(), now), { fromMs: now - 3_600_000, toMs: now });
  assert.deepEqual(timeRange(new URLSearchParams(`to=${now - 1000}`), now), {
    fromMs: now - 3_601_000,
    toMs: now - 1000,
  });
  assert.deepEqual(timeRange(new URLSearchParams(`from=${now}&to=${now}`), now), {
    fromMs: now,
    toMs: now,
  });
  assertBadParameter(
    () => timeRange(new URLSearchParams(`from=${now + 1}&to=${now}`), now),
    "from",
    /after "to"/,
  );
});

Deno.test("parseInteger enforces its bounds", () => {
  assert.equal(parseInteger("limit", "10", { min: 1, max: 100 }), 10);
  assertBadParameter(
    () => parseInteger("limit", "0", { min: 1, max: 100 }),
    "limit",
    /from 1 to 100/,
  );
  assertBadParameter(() => parseInteger("limit", "1e3"), "limit");
  assertBadParameter(() => parseInteger("offset", "-1"), "offset");
});
