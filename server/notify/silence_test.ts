import assert from "node:assert/strict";
import type { Recurrence, SilenceWindowConfig, Weekday } from "./config.ts";
import { activeSilenceWindow, inSilenceWindow, localTime } from "./silence.ts";

function window(
  start: string,
  end: string,
  recurrence: Recurrence,
  extra: { days?: Weekday[]; date?: string; timezone?: string } = {},
): SilenceWindowConfig {
  const minute = (text: string) => Number(text.slice(0, 2)) * 60 + Number(text.slice(3));
  return {
    startTime: start,
    endTime: end,
    startMinute: minute(start),
    endMinute: minute(end),
    recurrence,
    days: extra.days ?? [],
    date: extra.date,
    timezone: extra.timezone ?? "UTC",
  };
}

/** Epoch ms of an ISO time written with its offset, e.g. `2026-01-02T23:00:00+08:00`. */
const at = (iso: string) => Date.parse(iso);

function check(w: SilenceWindowConfig, cases: [string, boolean][]) {
  for (const [iso, expected] of cases) {
    assert.equal(
      inSilenceWindow(w, at(iso)),
      expected,
      `${iso} should be ${expected ? "in" : "out"}`,
    );
  }
}

// 2026-01-02 is a Friday.
Deno.test("a daily window includes its start and excludes its end", () => {
  check(window("02:00", "04:00", "daily"), [
    ["2026-01-02T01:59:59Z", false],
    ["2026-01-02T02:00:00Z", true],
    ["2026-01-02T03:59:59Z", true],
    ["2026-01-02T04:00:00Z", false],
  ]);
});

Deno.test("a daily window across midnight covers both sides of it", () => {
  check(window("22:00", "06:00", "daily"), [
    ["2026-01-02T21:59:00Z", false],
    ["2026-01-02T22:00:00Z", true],
    ["2026-01-02T23:59:59Z", true],
    ["2026-01-03T00:00:00Z", true],
    ["2026-01-03T05:59:00Z", true],
    ["2026-01-03T06:00:00Z", false],
  ]);
});

Deno.test("a weekdays window across midnight belongs to the day it starts", () => {
  check(window("22:00", "06:00", "weekdays"), [
    ["2026-01-02T23:00:00Z", true], // Friday night
    ["2026-01-03T05:00:00Z", true], // Saturday morning, started Friday
    ["2026-01-03T23:00:00Z", false], // Saturday night
    ["2026-01-04T23:00:00Z", false], // Sunday night
    ["2026-01-05T05:00:00Z", false], // Monday morning, started Sunday
    ["2026-01-05T23:00:00Z", true], // Monday night
    ["2026-01-05T12:00:00Z", false], // Monday midday
  ]);
});

Deno.test("a weekly window applies on its listed days only", () => {
  check(window("09:00", "10:00", "weekly", { days: ["mon", "wed"] }), [
    ["2026-01-05T09:30:00Z", true], // Monday
    ["2026-01-06T09:30:00Z", false], // Tuesday
    ["2026-01-07T09:30:00Z", true], // Wednesday
    ["2026-01-07T10:00:00Z", false],
  ]);
  check(window("23:00", "01:00", "weekly", { days: ["sun"] }), [
    ["2026-01-04T23:30:00Z", true], // Sunday night
    ["2026-01-05T00:30:00Z", true], // Monday 00:30, started Sunday
    ["2026-01-04T00:30:00Z", false], // Sunday 00:30, started Saturday
  ]);
});

Deno.test("a once window applies on its date only, including past midnight", () => {
  check(window("23:00", "01:00", "once", { date: "2026-01-03" }), [
    ["2026-01-03T23:30:00Z", true],
    ["2026-01-04T00:30:00Z", true],
    ["2026-01-03T00:30:00Z", false], // the night before belongs to 2026-01-02
    ["2026-01-04T23:30:00Z", false],
    ["2027-01-03T23:30:00Z", false],
  ]);
});

Deno.test("windows use the wall clock of their time zone", async (t) => {
  await t.step("Asia/Shanghai (UTC+8, no DST)", () => {
    check(window("02:00", "04:00", "daily", { timezone: "Asia/Shanghai" }), [
      ["2026-01-02T02:30:00+08:00", true],
      ["2026-01-01T18:30:00Z", true],
      ["2026-01-02T02:30:00Z", false],
    ]);
    check(window("22:00", "06:00", "weekdays", { timezone: "Asia/Shanghai" }), [
      ["2026-01-02T23:00:00+08:00", true], // Friday night in Shanghai (Friday 15:00 UTC)
      ["2026-01-03T01:00:00+08:00", true], // Saturday 01:00 in Shanghai, started Friday
      ["2026-01-05T01:00:00+08:00", false], // Monday 01:00 in Shanghai, started Sunday
      ["2026-01-05T23:00:00+08:00", true], // Monday night in Shanghai (Monday 15:00 UTC)
      ["2026-01-02T23:00:00Z", false], // Saturday 07:00 in Shanghai: the window has ended
    ]);
  });
  await t.step("America/New_York follows daylight saving time", () => {
    const w = window("09:00", "10:00", "daily", { timezone: "America/New_York" });
    check(w, [
      ["2026-01-15T14:30:00Z", true], // 09:30 EST (UTC-5)
      ["2026-01-15T13:30:00Z", false], // 08:30 EST
      ["2026-07-15T13:30:00Z", true], // 09:30 EDT (UTC-4)
      ["2026-07-15T14:30:00Z", false], // 10:30 EDT
    ]);
  });
  await t.step("the night clocks spring forward (2026-03-08, 02:00 EST → 03:00 EDT)", () => {
    check(window("01:00", "03:00", "once", { date: "2026-03-08", timezone: "America/New_York" }), [
      ["2026-03-08T06:30:00Z", true], // 01:30 EST
      ["2026-03-08T06:59:59Z", true], // 01:59:59 EST
      ["2026-03-08T07:00:00Z", false], // 03:00 EDT: the hour 02:00–03:00 does not exist
    ]);
  });
});

Deno.test("localTime reads the local calendar day and minute", () => {
  const local = localTime(at("2026-01-02T23:30:00Z"), "Asia/Shanghai");
  assert.equal(local.minute, 7 * 60 + 30);
  assert.equal(local.epochDay, Date.UTC(2026, 0, 3) / 86_400_000);
});

Deno.test("activeSilenceWindow returns the first window that applies", () => {
  const night = window("22:00", "06:00", "daily");
  const lunch = window("12:00", "13:00", "daily");
  assert.equal(activeSilenceWindow([night, lunch], at("2026-01-02T12:30:00Z")), lunch);
  assert.equal(activeSilenceWindow([night, lunch], at("2026-01-02T14:00:00Z")), undefined);
  assert.equal(activeSilenceWindow([], at("2026-01-02T12:30:00Z")), undefined);
});
