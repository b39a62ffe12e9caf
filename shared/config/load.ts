import { parse } from "smol-toml";
import { ConfigError, TableReader } from "./reader.ts";

/**
 * Parses TOML text and hands the root table to `build`, which reads it with a `TableReader`.
 * Every problem (syntax, type, range, unknown key) is collected and thrown together as one
 * `ConfigError` naming `source`.
 */
export function loadConfigText<T>(
  text: string,
  source: string,
  build: (root: TableReader) => T,
): Readonly<T> {
  let parsed: Record<string, unknown>;
  try {
    parsed = parse(text) as Record<string, unknown>;
  } catch (error) {
    const message = error instanceof Error ? error.message.split("\n")[0] : String(error);
    throw new ConfigError(source, [`invalid TOML: ${message}`], { cause: error });
  }
  const problems: string[] = [];
  const root = new TableReader(parsed, "", problems);
  const config = build(root);
  root.finish();
  if (problems.length > 0) throw new ConfigError(source, problems);
  return deepFreeze(config);
}

/** Reads and loads a config file; a missing file is a `ConfigError` too. */
export function loadConfigFile<T>(path: string, build: (root: TableReader) => T): Readonly<T> {
  let text: string;
  try {
    text = Deno.readTextFileSync(path);
  } catch (error) {
    const reason = error instanceof Deno.errors.NotFound ? "file not found" : String(error);
    throw new ConfigError(path, [reason], { cause: error });
  }
  return loadConfigText(text, path, build);
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === "object" && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const item of Object.values(value)) deepFreeze(item);
  }
  return value;
}
