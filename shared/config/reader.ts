/**
 * Reads one TOML table into typed values, recording every problem with its TOML path instead of
 * stopping at the first. Keys that no reader asked for are reported as unknown, so a typo cannot
 * silently disable a setting.
 *
 * ```ts
 * const problems: string[] = [];
 * const root = new TableReader(parsed, "", problems);
 * const port = root.integer("grpc_port", { default: 9090, min: 0, max: 65535 });
 * root.finish();
 * if (problems.length) throw new ConfigError(file, problems);
 * ```
 */

export type TomlTable = Record<string, unknown>;

/** A config file could not be used; `problems` lists each one with its TOML path. */
export class ConfigError extends Error {
  readonly problems: readonly string[];
  constructor(source: string, problems: readonly string[], options?: ErrorOptions) {
    super(
      `Cannot load ${source}: ${problems.length} problem${problems.length === 1 ? "" : "s"}\n  ` +
        problems.join("\n  "),
      options,
    );
    this.name = "ConfigError";
    this.problems = problems;
  }
}

interface Common<T> {
  /** Used when the key is absent. Without it the key is required. */
  default?: T;
}

function describe(value: unknown): string {
  if (typeof value === "string") return JSON.stringify(value);
  if (Array.isArray(value)) return "an array";
  if (value instanceof Date) return "a date";
  if (typeof value === "object" && value !== null) return "a table";
  return String(value);
}

export class TableReader {
  readonly #table: TomlTable;
  readonly #path: string;
  readonly #problems: string[];
  readonly #seen = new Set<string>();

  constructor(table: TomlTable, path: string, problems: string[]) {
    this.#table = table;
    this.#path = path;
    this.#problems = problems;
  }

  /** TOML path of a key in this table, e.g. `alert.rules[2].duration_secs`. */
  pathOf(key: string): string {
    return this.#path ? `${this.#path}.${key}` : key;
  }

  has(key: string): boolean {
    return this.#table[key] !== undefined;
  }

  /** Records a problem with a key of this table. */
  problem(key: string, message: string): void {
    this.#problems.push(`${this.pathOf(key)}: ${message}`);
  }

  /** Marks a key as known without reading it (accepted for compatibility, unused). */
  accept(key: string): unknown {
    this.#seen.add(key);
    return this.#table[key];
  }

  #get<T>(key: string, options: Common<T>): { present: true; value: unknown } | {
    present: false;
    value: T | undefined;
  } {
    this.#seen.add(key);
    const value = this.#table[key];
    if (value !== undefined) return { present: true, value };
    if (!("default" in options)) this.problem(key, "is required");
    return { present: false, value: options.default };
  }

  string(
    key: string,
    options: Common<string> & {
      pattern?: RegExp;
      patternHint?: string;
      oneOf?: readonly string[];
    } = {},
  ): string {
    const got = this.#get(key, options);
    if (!got.present) return got.value ?? "";
    if (typeof got.value !== "string") {
      this.problem(key, `expected a string, got ${describe(got.value)}`);
      return options.default ?? "";
    }
    if (options.oneOf && !options.oneOf.includes(got.value)) {
      this.problem(
        key,
        `expected one of ${options.oneOf.map((v) => `"${v}"`).join(", ")}, got "${got.value}"`,
      );
      return options.default ?? options.oneOf[0];
    }
    if (options.pattern && !options.pattern.test(got.value)) {
      this.problem(key, `expected ${options.patternHint ?? options.pattern}, got "${got.value}"`);
      return options.default ?? "";
    }
    return got.value;
  }

  optionalString(key: string): string | undefined {
    this.#seen.add(key);
    const value = this.#table[key];
    if (value === undefined) return undefined;
    if (typeof value !== "string") {
      this.problem(key, `expected a string, got ${describe(value)}`);
      return undefined;
    }
    return value;
  }

  number(
    key: string,
    options: Common<number> & { min?: number; max?: number; above?: number } = {},
  ): number {
    const got = this.#get(key, options);
    if (!got.present) return got.value ?? 0;
    const value = got.value;
    if (typeof value !== "number" || !Number.isFinite(value)) {
      this.problem(key, `expected a number, got ${describe(value)}`);
      return options.default ?? 0;
    }
    if (options.above !== undefined && !(value > options.above)) {
      this.problem(key, `expected a number above ${options.above}, got ${value}`);
    } else if (options.min !== undefined && value < options.min) {
      this.problem(key, `expected a number of at least ${options.min}, got ${value}`);
    } else if (options.max !== undefined && value > options.max) {
      this.problem(key, `expected a number of at most ${options.max}, got ${value}`);
    } else return value;
    return options.default ?? value;
  }

  integer(key: string, options: Common<number> & { min?: number; max?: number } = {}): number {
    const got = this.#get(key, options);
    if (!got.present) return got.value ?? 0;
    const value = got.value;
    const range = options.min === 1
      ? "a positive integer"
      : options.min === 0
      ? "a non-negative integer"
      : "an integer";
    if (typeof value !== "number" || !Number.isInteger(value)) {
      this.problem(key, `expected ${range}, got ${describe(value)}`);
      return options.default ?? 0;
    }
    if (options.min !== undefined && value < options.min) {
      this.problem(
        key,
        `expected ${range}${options.min > 1 ? ` of at least ${options.min}` : ""}, got ${value}`,
      );
    } else if (options.max !== undefined && value > options.max) {
      this.problem(key, `expected an integer of at most ${options.max}, got ${value}`);
    } else return value;
    return options.default ?? value;
  }

  /**
   * One integer per field of `defaults`, each read under its TOML key within its bounds
   * (`[key, min, max?]`), in the order `keys` lists them: a table of limits as one field list.
   */
  integers<T extends { [K in keyof T]: number }>(
    defaults: Readonly<T>,
    keys: { readonly [K in keyof T]: readonly [key: string, min: number, max?: number] },
  ): T {
    const values = {} as T;
    for (const field of Object.keys(keys) as (keyof T)[]) {
      const [key, min, max] = keys[field];
      values[field] = this.integer(key, { default: defaults[field], min, max }) as T[keyof T];
    }
    return values;
  }

  boolean(key: string, options: Common<boolean> = {}): boolean {
    const got = this.#get(key, options);
    if (!got.present) return got.value ?? false;
    if (typeof got.value !== "boolean") {
      this.problem(key, `expected true or false, got ${describe(got.value)}`);
      return options.default ?? false;
    }
    return got.value;
  }

  stringArray(key: string, options: Common<string[]> = {}): string[] {
    const got = this.#get(key, options);
    if (!got.present) return got.value ?? [];
    if (!Array.isArray(got.value) || got.value.some((item) => typeof item !== "string")) {
      this.problem(key, `expected an array of strings, got ${describe(got.value)}`);
      return options.default ?? [];
    }
    return got.value as string[];
  }

  /** A table of string values, e.g. HTTP headers or a label filter. */
  stringMap(key: string): Record<string, string> {
    this.#seen.add(key);
    const value = this.#table[key];
    if (value === undefined) return {};
    if (
      typeof value !== "object" || value === null || Array.isArray(value) || value instanceof Date
    ) {
      this.problem(key, `expected a table of strings, got ${describe(value)}`);
      return {};
    }
    const out: Record<string, string> = {};
    for (const [name, item] of Object.entries(value)) {
      if (typeof item !== "string") {
        this.problem(`${key}.${name}`, `expected a string, got ${describe(item)}`);
      } else out[name] = item;
    }
    return out;
  }

  /** A sub-table (`[server.limits]`); an absent one reads as empty. */
  table(key: string): TableReader {
    this.#seen.add(key);
    const value = this.#table[key];
    if (value === undefined) return new TableReader({}, this.pathOf(key), this.#problems);
    if (
      typeof value !== "object" || value === null || Array.isArray(value) || value instanceof Date
    ) {
      this.problem(key, `expected a table, got ${describe(value)}`);
      return new TableReader({}, this.pathOf(key), this.#problems);
    }
    return new TableReader(value as TomlTable, this.pathOf(key), this.#problems);
  }

  /** An array of tables (`[[alert.rules]]`); an absent one reads as empty. */
  tables(key: string): TableReader[] {
    this.#seen.add(key);
    const value = this.#table[key];
    if (value === undefined) return [];
    if (!Array.isArray(value)) {
      this.problem(
        key,
        `expected an array of tables ([[${this.pathOf(key)}]]), got ${describe(value)}`,
      );
      return [];
    }
    return value.flatMap((item, index) => {
      const path = `${this.pathOf(key)}[${index}]`;
      if (typeof item !== "object" || item === null || Array.isArray(item)) {
        this.#problems.push(`${path}: expected a table, got ${describe(item)}`);
        return [];
      }
      return [new TableReader(item as TomlTable, path, this.#problems)];
    });
  }

  /** Reports every key of this table that no reader asked for. */
  finish(): void {
    for (const key of Object.keys(this.#table)) {
      if (!this.#seen.has(key)) this.problem(key, "unknown key");
    }
  }
}
