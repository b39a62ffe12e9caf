import { ConfigError, TableReader } from "./reader.ts";

/** Parses TOML text into its root table; throws on a syntax error. */
export type TomlParser = (text: string) => Record<string, unknown>;

export interface ConfigLoader {
  /**
   * Parses TOML text and hands the root table to `build`, which reads it with a `TableReader`.
   * Every problem (syntax, type, range, unknown key) is collected and thrown together as one
   * `ConfigError` naming `source`.
   */
  text<T>(text: string, source: string, build: (root: TableReader) => T): Readonly<T>;
  /** Reads and loads a config file; a missing file is a `ConfigError` too. */
  file<T>(path: string, build: (root: TableReader) => T): Readonly<T>;
}

/**
 * Config loading over a given TOML parser. It lives apart from any parser so that a program can
 * choose one without loading the others (the agent reads its small config with a TOML subset
 * reader and keeps npm packages out of its module graph, which costs resident memory).
 */
export function configLoader(parse: TomlParser): ConfigLoader {
  const text = <T>(text: string, source: string, build: (root: TableReader) => T) => {
    let parsed: Record<string, unknown>;
    try {
      parsed = parse(text);
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
  };
  const file = <T>(path: string, build: (root: TableReader) => T) => {
    let content: string;
    try {
      content = Deno.readTextFileSync(path);
    } catch (error) {
      const reason = error instanceof Deno.errors.NotFound ? "file not found" : String(error);
      throw new ConfigError(path, [reason], { cause: error });
    }
    return text(content, path, build);
  };
  return { text, file };
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === "object" && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const item of Object.values(value)) deepFreeze(item);
  }
  return value;
}
