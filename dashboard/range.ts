/** Time ranges of the agent page: presets relative to now, or a fixed from–to; the step. */

export const PRESETS: Readonly<Record<string, number>> = {
  "15m": 15 * 60_000,
  "1h": 3_600_000,
  "6h": 6 * 3_600_000,
  "24h": 86_400_000,
  "7d": 7 * 86_400_000,
  "30d": 30 * 86_400_000,
};
export const DEFAULT_PRESET = "1h";

export type TimeRange =
  | { kind: "preset"; preset: string; fromMs: number; toMs: number }
  | { kind: "custom"; fromMs: number; toMs: number };

/** At most this many points per series; the step is the smallest nice one that keeps to it. */
export const MAX_POINTS = 1000;
const NICE_STEPS_SECS = [
  1,
  2,
  5,
  10,
  15,
  30,
  60,
  120,
  300,
  600,
  900,
  1800,
  3600,
  7200,
  10800,
  21600,
  43200,
  86400,
];

/** The smallest nice step that makes at most `maxPoints` buckets of `spanMs`. */
export function chooseStepSecs(spanMs: number, maxPoints = MAX_POINTS): number {
  const wanted = spanMs / 1000 / maxPoints;
  return NICE_STEPS_SECS.find((step) => step >= wanted) ??
    Math.ceil(wanted / 86400) * 86400;
}

export function presetRange(preset: string, nowMs: number): TimeRange {
  return { kind: "preset", preset, fromMs: nowMs - PRESETS[preset], toMs: nowMs };
}

/** A time given in a link: Unix milliseconds or anything `Date.parse` reads (RFC 3339). */
function parseInstant(text: string): number {
  if (/^\d+$/.test(text)) return Number(text);
  return /^\d{4}-\d{2}-\d{2}/.test(text) ? Date.parse(text) : NaN;
}

/**
 * The range a link asks for. A bad one gives the default preset and a message saying what was
 * wrong, so the page still shows something.
 */
export function rangeFromParams(
  params: URLSearchParams,
  nowMs: number,
): { range: TimeRange; error?: string } {
  const fallback = presetRange(DEFAULT_PRESET, nowMs);
  const preset = params.get("range");
  const from = params.get("from");
  const to = params.get("to");
  if (from !== null || to !== null) {
    const fromMs = from === null ? NaN : parseInstant(from);
    const toMs = to === null ? nowMs : parseInstant(to);
    if (!Number.isFinite(fromMs)) {
      return { range: fallback, error: `The link's start time "${from ?? ""}" is not a time.` };
    }
    if (!Number.isFinite(toMs)) {
      return { range: fallback, error: `The link's end time "${to}" is not a time.` };
    }
    if (fromMs >= toMs) {
      return { range: fallback, error: "The link's start time is not before its end time." };
    }
    if (toMs - fromMs > 400 * 86_400_000) {
      return { range: fallback, error: "The link's range is longer than 400 days." };
    }
    return { range: { kind: "custom", fromMs, toMs } };
  }
  if (preset === null) return { range: fallback };
  if (!Object.hasOwn(PRESETS, preset)) {
    return {
      range: fallback,
      error: `The link's range "${preset}" is not one of ${Object.keys(PRESETS).join(", ")}.`,
    };
  }
  return { range: presetRange(preset, nowMs) };
}

/** The URL parameters that bring back `range`. */
export function rangeParams(range: TimeRange): Record<string, string> {
  if (range.kind === "preset") return { range: range.preset };
  return {
    from: new Date(range.fromMs).toISOString(),
    to: new Date(range.toMs).toISOString(),
  };
}
