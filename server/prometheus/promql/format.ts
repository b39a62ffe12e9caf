/** Values and timestamps as Prometheus' HTTP API writes them. */

/**
 * A float as Go's `strconv.FormatFloat(v, 'f', -1, 64)`: the shortest digits that read back to
 * the same float, never in exponent form; `NaN`, `+Inf`, `-Inf`.
 */
export function formatSampleValue(value: number): string {
  if (Number.isNaN(value)) return "NaN";
  if (value === Infinity) return "+Inf";
  if (value === -Infinity) return "-Inf";
  const text = String(value);
  const match = /^(-?)(\d)(?:\.(\d+))?e([+-]\d+)$/.exec(text);
  if (!match) return text;
  const [, sign, lead, fraction = "", exponentText] = match;
  const digits = lead + fraction;
  const exponent = Number(exponentText);
  const point = 1 + exponent;
  if (point <= 0) return `${sign}0.${"0".repeat(-point)}${digits}`;
  if (point >= digits.length) return sign + digits + "0".repeat(point - digits.length);
  return `${sign}${digits.slice(0, point)}.${digits.slice(point)}`;
}

/** Epoch ms as the seconds Prometheus writes (`1435781451.781`). */
export function toPromTime(ms: number): number {
  return ms / 1000;
}

/**
 * A time parameter: RFC 3339 or Unix seconds (with fraction), as Prometheus accepts it.
 * Undefined when it cannot be read.
 */
export function parsePromTime(text: string): number | undefined {
  if (/^[+-]?\d+(\.\d+)?$/.test(text)) {
    const ms = Math.round(Number(text) * 1000);
    return Number.isSafeInteger(ms) ? ms : undefined;
  }
  if (!/^\d{4}-\d{2}-\d{2}T/.test(text)) return undefined;
  const ms = Date.parse(text);
  return Number.isFinite(ms) ? ms : undefined;
}
