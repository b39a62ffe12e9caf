/**
 * Units of time and UTC day numbering, once for the whole project: partitions are named after
 * UTC days, retention counts whole days, and alert, silence and API code count hours and days.
 */

export const MS_PER_SECOND = 1_000;
export const MS_PER_MINUTE = 60_000;
export const MS_PER_HOUR = 3_600_000;
export const MS_PER_DAY = 86_400_000;

/** Formats epoch milliseconds as RFC 3339 in UTC. */
export function toRfc3339(ms: number): string {
  return new Date(ms).toISOString();
}

/** The UTC day (`YYYY-MM-DD`) a timestamp falls in. */
export function utcDay(ms: number): string {
  return new Date(ms).toISOString().slice(0, 10);
}

/** The day number (whole UTC days since the epoch) of a timestamp; cheaper than formatting a date. */
export function dayNumber(ms: number): number {
  return Math.floor(ms / MS_PER_DAY);
}

/** The `YYYY-MM-DD` name of a day number. */
export function dayName(dayNum: number): string {
  return utcDay(dayNum * MS_PER_DAY);
}

/** Epoch ms of 00:00 UTC of a `YYYY-MM-DD` day; `NaN` when `day` is not one. */
export function dayStartMs(day: string): number {
  return Date.parse(`${day}T00:00:00.000Z`);
}
