/**
 * One leveled, structured logger: `log.info("agent registered", { agent_id })`.
 * Lines go to stderr as `2026-11-27T01:02:03.456Z INFO  message key=value ...` (or one JSON
 * object per line with `format: "json"`), so stdout stays free for CLI output.
 */
import type { TableReader } from "./config/reader.ts";

export const LOG_LEVELS = ["debug", "info", "warn", "error"] as const;
export type LogLevel = typeof LOG_LEVELS[number];
export type LogFields = Record<string, unknown>;

export interface Logger {
  debug(message: string, fields?: LogFields): void;
  info(message: string, fields?: LogFields): void;
  warn(message: string, fields?: LogFields): void;
  error(message: string, fields?: LogFields): void;
  /** A logger that adds `fields` to every line. */
  with(fields: LogFields): Logger;
}

export type LogFormat = "text" | "json";

export interface LoggerOptions {
  /** Lowest level written. Default `"info"`. */
  level?: LogLevel;
  /** `"text"` (default) or `"json"`. */
  format?: LogFormat;
  /** Where finished lines go. Default: stderr. */
  sink?: (line: string) => void;
}

/**
 * At most `max` characters of a value a client chose (an agent id, a header), with the length it
 * had: a log line or an error message never echoes a 60 KB id whole.
 */
export function clip(value: string, max = 128): string {
  if (value.length <= max) return value;
  return `${value.slice(0, max)}…(${value.length} chars)`;
}

/** Backstop for any string field: longer ones are clipped (a stack trace fits). */
const MAX_FIELD_CHARS = 8192;

function capped(value: unknown): unknown {
  return typeof value === "string" && value.length > MAX_FIELD_CHARS
    ? clip(value, MAX_FIELD_CHARS)
    : value;
}

const encoder = new TextEncoder();
const stderrSink = (line: string) => {
  Deno.stderr.writeSync(encoder.encode(line + "\n"));
};

function formatValue(value: unknown): string {
  if (value instanceof Error) return JSON.stringify(capped(value.message));
  if (typeof value === "string") return /^[\w.:/@+-]+$/.test(value) ? value : JSON.stringify(value);
  if (typeof value === "number" || typeof value === "boolean" || value == null) {
    return String(value);
  }
  return JSON.stringify(value);
}

export function isLogLevel(value: unknown): value is LogLevel {
  return typeof value === "string" && (LOG_LEVELS as readonly string[]).includes(value);
}

/** The `[log]` table of the agent's and the server's config: `level` and `format`. */
export function readLogConfig(table: TableReader): { level: LogLevel; format: LogFormat } {
  const level = table.string("level", { default: "info" });
  if (!isLogLevel(level)) {
    table.problem("level", `expected debug, info, warn or error, got "${level}"`);
  }
  const format = table.string("format", { default: "text", oneOf: ["text", "json"] });
  table.finish();
  return { level: isLogLevel(level) ? level : "info", format: format as LogFormat };
}

export function createLogger(options: LoggerOptions = {}, baseFields: LogFields = {}): Logger {
  const minRank = LOG_LEVELS.indexOf(options.level ?? "info");
  const sink = options.sink ?? stderrSink;
  const json = options.format === "json";
  const write = (level: LogLevel, message: string, fields?: LogFields) => {
    if (LOG_LEVELS.indexOf(level) < minRank) return;
    const all = { ...baseFields, ...fields };
    const time = new Date().toISOString();
    if (json) {
      const plain: LogFields = {};
      for (const [key, value] of Object.entries(all)) {
        plain[key] = capped(value instanceof Error ? value.message : value);
      }
      sink(JSON.stringify({ time, level, msg: message, ...plain }));
      return;
    }
    let line = `${time} ${level.toUpperCase().padEnd(5)} ${message}`;
    for (const [key, value] of Object.entries(all)) {
      line += ` ${key}=${formatValue(capped(value))}`;
    }
    sink(line);
  };
  return {
    debug: (message, fields) => write("debug", message, fields),
    info: (message, fields) => write("info", message, fields),
    warn: (message, fields) => write("warn", message, fields),
    error: (message, fields) => write("error", message, fields),
    with: (fields) => createLogger(options, { ...baseFields, ...fields }),
  };
}

const ignore = () => {};
/** A logger that drops everything without formatting it; for tests that do not look at logs. */
export const silentLogger: Logger = Object.freeze({
  debug: ignore,
  info: ignore,
  warn: ignore,
  error: ignore,
  with: () => silentLogger,
});

/** A logger that keeps its lines, for tests that assert on logging. */
export function memoryLogger(level: LogLevel = "debug"): Logger & { lines: string[] } {
  const lines: string[] = [];
  return Object.assign(createLogger({ level, sink: (line) => lines.push(line) }), { lines });
}
