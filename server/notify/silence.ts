/**
 * Silence windows: is a moment inside one? Times are local wall-clock times in the window's
 * IANA time zone, read with `Intl.DateTimeFormat`, so daylight-saving shifts follow the zone
 * (a 02:00–03:00 window does not occur on the night clocks skip that hour).
 *
 * The start is inclusive and the end exclusive. A window whose end is not after its start crosses
 * midnight, and its recurrence is checked against the day it STARTS: a `weekdays` window
 * 22:00–06:00 covers Friday 22:00 to Saturday 06:00, but not Sunday 22:00 to Monday 06:00.
 */
import { dayNumber } from "../../shared/time.ts";
import type { SilenceWindowConfig, Weekday } from "./config.ts";

interface LocalTime {
  /** Days since 1970-01-01 of the local calendar date. */
  epochDay: number;
  minute: number;
}

const formatters = new Map<string, Intl.DateTimeFormat>();
const WEEKDAY_INDEX: Record<Weekday, number> = {
  sun: 0,
  mon: 1,
  tue: 2,
  wed: 3,
  thu: 4,
  fri: 5,
  sat: 6,
};

function formatterFor(timeZone: string): Intl.DateTimeFormat {
  let formatter = formatters.get(timeZone);
  if (!formatter) {
    formatter = new Intl.DateTimeFormat("en-US", {
      timeZone,
      hourCycle: "h23",
      year: "numeric",
      month: "numeric",
      day: "numeric",
      hour: "numeric",
      minute: "numeric",
    });
    formatters.set(timeZone, formatter);
  }
  return formatter;
}

/** The local calendar day and minute of `nowMs` in `timeZone`. */
export function localTime(nowMs: number, timeZone: string): LocalTime {
  const parts: Record<string, number> = {};
  for (const part of formatterFor(timeZone).formatToParts(nowMs)) {
    if (part.type !== "literal") parts[part.type] = Number(part.value);
  }
  const epochDay = dayNumber(Date.UTC(parts.year, parts.month - 1, parts.day));
  return {
    epochDay,
    minute: (parts.hour % 24) * 60 + parts.minute,
  };
}

function epochDayOf(date: string): number {
  const [year, month, day] = date.split("-").map(Number);
  return dayNumber(Date.UTC(year, month - 1, day));
}

function startsOn(window: SilenceWindowConfig, epochDay: number): boolean {
  // 1970-01-01 was a Thursday.
  const weekday = ((epochDay % 7) + 7 + 4) % 7;
  switch (window.recurrence) {
    case "daily":
      return true;
    case "weekdays":
      return weekday >= 1 && weekday <= 5;
    case "weekly":
      return window.days.some((day) => WEEKDAY_INDEX[day] === weekday);
    case "once":
      return window.date !== undefined && epochDayOf(window.date) === epochDay;
  }
}

/** Whether `nowMs` lies inside the window. */
export function inSilenceWindow(window: SilenceWindowConfig, nowMs: number): boolean {
  const local = localTime(nowMs, window.timezone);
  const { startMinute, endMinute } = window;
  if (startMinute < endMinute) {
    return local.minute >= startMinute && local.minute < endMinute &&
      startsOn(window, local.epochDay);
  }
  if (local.minute >= startMinute) return startsOn(window, local.epochDay);
  if (local.minute < endMinute) return startsOn(window, local.epochDay - 1);
  return false;
}

/** The first window `nowMs` lies in, if any. */
export function activeSilenceWindow(
  windows: readonly SilenceWindowConfig[],
  nowMs: number,
): SilenceWindowConfig | undefined {
  return windows.find((window) => inSilenceWindow(window, nowMs));
}
