import { MS_PER_DAY, MS_PER_HOUR, MS_PER_MINUTE, MS_PER_SECOND } from "./time.ts";

/**
 * Parses a duration given as plain seconds (`"300"`, `300`) or with a unit (`"500ms"`, `"30s"`,
 * `"5m"`, `"2h"`, `"1d"`, `"1w"`, or combined as `"1h30m"`). Returns milliseconds.
 * Throws `RangeError` naming the input when it is not a positive duration.
 */
export function parseDurationMs(input: string | number): number {
  if (typeof input === "number") {
    if (!Number.isFinite(input) || input <= 0) {
      throw new RangeError(`expected a positive duration, got ${input}`);
    }
    return input * MS_PER_SECOND;
  }
  const text = input.trim();
  if (/^\d+(\.\d+)?$/.test(text)) return parseDurationMs(Number(text));
  const unitMs: Record<string, number> = {
    ms: 1,
    s: MS_PER_SECOND,
    m: MS_PER_MINUTE,
    h: MS_PER_HOUR,
    d: MS_PER_DAY,
    w: 7 * MS_PER_DAY,
  };
  const part = /(\d+(?:\.\d+)?)(ms|s|m|h|d|w)/y;
  let total = 0;
  let consumed = 0;
  while (consumed < text.length) {
    part.lastIndex = consumed;
    const match = part.exec(text);
    if (!match) throw new RangeError(`expected a duration like 30s, 5m or 1h, got "${input}"`);
    total += Number(match[1]) * unitMs[match[2]];
    consumed = part.lastIndex;
  }
  if (consumed === 0 || total <= 0) {
    throw new RangeError(`expected a positive duration like 30s, 5m or 1h, got "${input}"`);
  }
  return total;
}
