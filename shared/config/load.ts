import { parse } from "smol-toml";
import type { TableReader } from "./reader.ts";
import { configLoader } from "./loader.ts";

const smolToml = configLoader((text) => parse(text) as Record<string, unknown>);

/**
 * Parses TOML text (full TOML 1.0, via smol-toml) and hands the root table to `build`, which
 * reads it with a `TableReader`. Every problem is thrown together as one `ConfigError`.
 */
export function loadConfigText<T>(
  text: string,
  source: string,
  build: (root: TableReader) => T,
): Readonly<T> {
  return smolToml.text(text, source, build);
}

/** Reads and loads a config file; a missing file is a `ConfigError` too. */
export function loadConfigFile<T>(path: string, build: (root: TableReader) => T): Readonly<T> {
  return smolToml.file(path, build);
}
