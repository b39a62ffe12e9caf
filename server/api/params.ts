/**
 * Query-parameter parsing shared by every REST route. Each parser throws `badParameter`, so a
 * bad value becomes a 400 that names the parameter; routes never see half-parsed input.
 */
import { parseDurationMs } from "../../shared/duration.ts";
import { MS_PER_DAY, MS_PER_HOUR } from "../../shared/time.ts";
import { badParameter } from "./errors.ts";
import type { QueryParam } from "./routes.ts";

/** Prefix of label filters, e.g. `label.mount=/`; it cannot be mistaken for a typo of a name. */
export const LABEL_PREFIX = "label.";

export interface CheckParamsOptions {
  /** Free names allowed after any of these prefixes (`label.` in `label.mount=/`). Default none. */
  prefixes?: readonly string[];
  /**
   * Names that may be given more than once, e.g. Prometheus' `match[]`. Default none: everywhere
   * else a second value would be silently ignored or overwrite the first.
   */
  repeatable?: readonly string[];
}

/**
 * Rejects parameters that are not in `allowed` (nor start with one of `prefixes`), and any given
 * more than once that is not `repeatable`: a misspelt filter must not silently widen a query.
 */
export function checkParams(
  params: URLSearchParams,
  allowed: readonly string[],
  { prefixes = [], repeatable = [] }: CheckParamsOptions = {},
): void {
  const seen = new Set<string>();
  const unknown: string[] = [];
  for (const name of params.keys()) {
    if (seen.has(name)) {
      if (repeatable.includes(name)) continue;
      throw badParameter(name, "given more than once");
    }
    seen.add(name);
    if (!allowed.includes(name) && !prefixes.some((prefix) => name.startsWith(prefix))) {
      unknown.push(name);
    }
  }
  if (unknown.length > 0) {
    const list = unknown.map((name) => `"${name}"`).join(", ");
    const expected = [...allowed, ...prefixes.map((prefix) => `${prefix}<name>`)].join(", ");
    throw badParameter(
      unknown[0],
      `unknown parameter${unknown.length > 1 ? "s" : ""} ${list}; ` +
        (expected ? `expected ${expected}` : "this route takes none"),
    );
  }
}

/** A parameter that, when present, must not be empty. */
export function optionalText(params: URLSearchParams, name: string): string | undefined {
  const value = params.get(name);
  if (value === null) return undefined;
  if (value.trim() === "") throw badParameter(name, "must not be empty");
  return value;
}

/** `label.<name>=<value>` parameters as a label filter; undefined when there are none. */
export function labelFilter(params: URLSearchParams): Record<string, string> | undefined {
  let labels: Record<string, string> | undefined;
  for (const [key, value] of params) {
    if (!key.startsWith(LABEL_PREFIX)) continue;
    const name = key.slice(LABEL_PREFIX.length);
    if (name === "") throw badParameter(key, `expected ${LABEL_PREFIX}<label name>=<value>`);
    labels ??= {};
    labels[name] = value;
  }
  return labels;
}

/** The last instant RFC 3339 can write (4-digit years); storage names partitions the same way. */
export const MAX_TIME_MS = Date.UTC(9999, 11, 31, 23, 59, 59, 999);

const RFC3339 =
  /^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(\.\d{1,9})?([Zz]|[+-]\d{2}:\d{2})$/;

/**
 * A point in time given as RFC 3339 (`2026-01-02T03:04:05Z`, any offset) or as Unix epoch
 * milliseconds (`1767323045000`). Returns epoch milliseconds.
 */
export function parseTime(name: string, text: string): number {
  const value = text.trim();
  if (/^\d+$/.test(value)) {
    const ms = Number(value);
    if (!Number.isSafeInteger(ms) || ms > MAX_TIME_MS) {
      throw badParameter(
        name,
        `Unix milliseconds must be at most ${MAX_TIME_MS} (the end of year 9999), got ${value}`,
      );
    }
    return ms;
  }
  const match = RFC3339.exec(value);
  if (match) {
    const [year, month, day, hour, minute, second] = match.slice(1, 7).map(Number);
    const date = new Date(Date.UTC(year, month - 1, day));
    // Date.parse rolls 2026-02-30 over to March; a calendar check catches it.
    const realDay = date.getUTCFullYear() === year && date.getUTCMonth() === month - 1 &&
      date.getUTCDate() === day;
    const ms = Date.parse(value.toUpperCase().replace(" ", "T"));
    if (realDay && hour < 24 && minute < 60 && second < 60 && Number.isFinite(ms)) {
      // Storage holds nothing before the epoch; past the end of 9999 offsets could carry it.
      if (ms < 0 || ms > MAX_TIME_MS) {
        throw badParameter(
          name,
          `must be from 1970-01-01T00:00:00Z to 9999-12-31T23:59:59.999Z, got "${text}"`,
        );
      }
      return ms;
    }
  }
  throw badParameter(
    name,
    `expected RFC 3339 (e.g. 2026-01-02T03:04:05Z) or Unix milliseconds, got "${text}"`,
  );
}

/**
 * The widest bucket a query may ask for: ten years. Wider ones say nothing a ten-year bucket does
 * not, and past 2^53 ms the bucket arithmetic would no longer be exact.
 */
export const MAX_STEP_MS = 3650 * MS_PER_DAY;

/**
 * A bucket width given as seconds (`60`) or a duration (`5m`); returns whole milliseconds from 1
 * to `MAX_STEP_MS`.
 */
export function parseStep(name: string, text: string): number {
  let ms: number;
  try {
    ms = parseDurationMs(text);
  } catch (error) {
    throw badParameter(name, (error as Error).message);
  }
  if (ms > MAX_STEP_MS) {
    throw badParameter(name, `must be at most 3650d (ten years), got "${text}"`);
  }
  if (!Number.isInteger(ms)) {
    throw badParameter(name, `expected a whole number of milliseconds, got "${text}"`);
  }
  return ms;
}

/** An integer within `[min, max]`. */
export function parseInteger(
  name: string,
  text: string,
  { min = 0, max = Number.MAX_SAFE_INTEGER }: { min?: number; max?: number } = {},
): number {
  const value = text.trim();
  const number = /^-?\d+$/.test(value) ? Number(value) : NaN;
  if (!Number.isSafeInteger(number) || number < min || number > max) {
    throw badParameter(name, `expected an integer from ${min} to ${max}, got "${text}"`);
  }
  return number;
}

/** Default span of a query without `from`: the last hour. */
export const DEFAULT_RANGE_MS = MS_PER_HOUR;

/**
 * `from`/`to` as an inclusive range in epoch ms. Absent `to` is now; absent `from` is `to` minus
 * `defaultSpanMs`; `from` after `to` is a 400 naming `from`.
 */
export function timeRange(
  params: URLSearchParams,
  nowMs: number,
  defaultSpanMs = DEFAULT_RANGE_MS,
): { fromMs: number; toMs: number } {
  const fromText = params.get("from");
  const toText = params.get("to");
  const toMs = toText === null ? nowMs : parseTime("to", toText);
  const fromMs = fromText === null
    ? Math.max(0, toMs - defaultSpanMs)
    : parseTime("from", fromText);
  if (fromMs > toMs) {
    throw badParameter(
      "from",
      `must not be after "to" (${new Date(fromMs).toISOString()} > ${
        new Date(toMs).toISOString()
      })`,
    );
  }
  return { fromMs, toMs };
}

/** Most items a list route answers in one page, and its default page size. */
export const MAX_PAGE = 10_000;
export const DEFAULT_PAGE = 1_000;

/** A list route's page size: its default and its most. */
export interface PageBounds {
  defaultLimit?: number;
  maxLimit?: number;
}

/**
 * `limit` (1 to `maxLimit`, default `defaultLimit`; `MAX_PAGE` and `DEFAULT_PAGE` unless the
 * route says otherwise) and `offset` (default 0) of a list route: no answer grows with the number
 * of series or agents.
 */
export function pageParams(
  params: URLSearchParams,
  { defaultLimit = DEFAULT_PAGE, maxLimit = MAX_PAGE }: PageBounds = {},
): { limit: number; offset: number } {
  const limitText = params.get("limit");
  const offsetText = params.get("offset");
  return {
    limit: limitText === null
      ? defaultLimit
      : parseInteger("limit", limitText, { min: 1, max: maxLimit }),
    offset: offsetText === null ? 0 : parseInteger("offset", offsetText),
  };
}

/** How a list route declares the parameters `pageParams` reads with the same bounds. */
export function pageQuery(
  { defaultLimit = DEFAULT_PAGE, maxLimit = MAX_PAGE }: PageBounds = {},
): QueryParam[] {
  return [
    {
      name: "limit",
      description: `items in this page, 1 to ${maxLimit}; default ${defaultLimit}`,
      schema: { type: "integer", minimum: 1, maximum: maxLimit },
    },
    {
      name: "offset",
      description: "items to skip before this page; default 0",
      schema: { type: "integer", minimum: 0 },
    },
  ];
}

/** `pageQuery()` with the default bounds. */
export const PAGE_QUERY: readonly QueryParam[] = pageQuery();
