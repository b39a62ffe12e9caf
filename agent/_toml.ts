/**
 * A strict reader for the subset of TOML the agent's config uses, so the agent does not load
 * an npm TOML parser (npm resolution and the package cost about 1.5 MB resident; the agent must
 * stay under 50 MB).
 *
 * Supported: comments, `[table]` and `[[array of tables]]` headers and `key = value` lines with
 * bare keys, basic and literal strings on one line, decimal integers and floats, booleans, arrays
 * of those (over several lines, with comments and a trailing comma) and one-line inline tables
 * (`headers = { Authorization = "Bearer x" }`). Anything else — dotted or quoted keys,
 * multi-line strings, dates, hex/octal/binary integers, inf and nan — is refused with a
 * `SyntaxError` naming the line, never read some other way.
 * `_toml_test.ts` checks it against smol-toml, the parser the server uses.
 */

export type TomlValue = string | number | boolean | TomlValue[] | { [key: string]: TomlValue };
export type TomlTable = { [key: string]: TomlValue };

const BARE_KEY = /^[A-Za-z0-9_-]+$/;
const INTEGER = /^[+-]?(0|[1-9](_?[0-9])*)$/;
const FLOAT = /^[+-]?(0|[1-9](_?[0-9])*)(\.[0-9](_?[0-9])*)?([eE][+-]?[0-9](_?[0-9])*)?$/;
const ESCAPES: Record<string, string> = {
  b: "\b",
  t: "\t",
  n: "\n",
  f: "\f",
  r: "\r",
  '"': '"',
  "\\": "\\",
};
const UNSUPPORTED =
  "the agent reads bare keys, [table] and [[table]] headers, one-line strings, decimal " +
  "numbers, booleans, arrays and one-line inline tables of these";

/** Parses `text`; throws `SyntaxError` naming the line of the first problem. */
export function parseTomlSubset(text: string): TomlTable {
  // Without a prototype (as smol-toml makes them): a key like "constructor" is just a key.
  const newTable = (): TomlTable => Object.create(null);
  const root = newTable();
  const definedTables = new Set<string>();
  /** Names made by `[[name]]` headers: more of them may follow. */
  const arraysOfTables = new Set<string>();
  let table = root;
  let lineNumber = 0;
  const lines = text.replace(/^\uFEFF/, "").split("\n");
  let position = 0; // within the current line
  let line = "";

  const fail = (reason: string): never => {
    throw new SyntaxError(`line ${lineNumber}: ${reason}`);
  };
  const nextLine = (): boolean => {
    if (lineNumber >= lines.length) return false;
    line = lines[lineNumber++];
    if (line.endsWith("\r")) line = line.slice(0, -1);
    position = 0;
    // deno-lint-ignore no-control-regex
    if (/[\x00-\x08\x0a-\x1f\x7f]/.test(line)) fail("control characters are not allowed");
    return true;
  };
  const skipSpace = () => {
    while (line[position] === " " || line[position] === "\t") position++;
  };
  /** True at the end of the line or at a comment. */
  const atLineEnd = () => position >= line.length || line[position] === "#";
  const expectLineEnd = () => {
    skipSpace();
    if (!atLineEnd()) fail(`unexpected "${line.slice(position)}" after the value`);
  };

  const readBasicString = (): string => {
    let value = "";
    position++; // opening quote
    for (;;) {
      if (position >= line.length) return fail("unterminated string");
      const char = line[position++];
      if (char === '"') return value;
      if (char !== "\\") {
        value += char;
        continue;
      }
      const escape = line[position++];
      if (escape in ESCAPES) value += ESCAPES[escape];
      else if (escape === "u" || escape === "U") {
        const digits = escape === "u" ? 4 : 8;
        const hex = line.slice(position, position + digits);
        const code = /^[0-9A-Fa-f]+$/.test(hex) && hex.length === digits ? parseInt(hex, 16) : NaN;
        if (!(code <= 0x10ffff) || (code >= 0xd800 && code <= 0xdfff)) {
          fail(`invalid unicode escape "\\${escape}${hex}"`);
        }
        value += String.fromCodePoint(code);
        position += digits;
      } else fail(`invalid escape "\\${escape ?? ""}" in a string`);
    }
  };

  const readLiteralString = (): string => {
    const end = line.indexOf("'", position + 1);
    if (end < 0) fail("unterminated string");
    const value = line.slice(position + 1, end);
    position = end + 1;
    return value;
  };

  const readArray = (): TomlValue[] => {
    const values: TomlValue[] = [];
    position++; // [
    for (;;) {
      skipSpace();
      while (atLineEnd()) {
        if (!nextLine()) return fail("unterminated array");
        skipSpace();
      }
      if (line[position] === "]") {
        position++;
        return values;
      }
      values.push(readValue());
      skipSpace();
      while (atLineEnd()) {
        if (!nextLine()) return fail("unterminated array");
        skipSpace();
      }
      if (line[position] === ",") position++;
      else if (line[position] !== "]") fail(`expected "," or "]" in an array`);
    }
  };

  /** `{ a = 1, b = "x" }` on one line, as TOML 1.0 has it (no trailing comma). */
  const readInlineTable = (): TomlTable => {
    const inline = newTable();
    position++; // {
    skipSpace();
    if (line[position] === "}") {
      position++;
      return inline;
    }
    for (;;) {
      skipSpace();
      const match = /^[A-Za-z0-9_-]+/.exec(line.slice(position));
      if (!match) return fail(`expected a bare key in an inline table: ${UNSUPPORTED}`);
      const key = match[0];
      position += key.length;
      skipSpace();
      if (line[position] !== "=") fail(`expected "=" after "${key}" in an inline table`);
      position++;
      skipSpace();
      if (Object.hasOwn(inline, key)) fail(`key "${key}" is defined twice`);
      inline[key] = readValue();
      skipSpace();
      if (line[position] === ",") {
        position++;
        continue;
      }
      if (line[position] === "}") {
        position++;
        return inline;
      }
      return fail(`expected "," or "}" in an inline table`);
    }
  };

  const readValue = (): TomlValue => {
    const char = line[position];
    if (line.startsWith('"""', position) || line.startsWith("'''", position)) {
      return fail(`multi-line strings are not supported: ${UNSUPPORTED}`);
    }
    if (char === '"') return readBasicString();
    if (char === "'") return readLiteralString();
    if (char === "[") return readArray();
    if (char === "{") return readInlineTable();
    const match = /^[^\s,\]#]+/.exec(line.slice(position));
    if (!match) return fail("expected a value");
    const word = match[0];
    position += word.length;
    if (word === "true") return true;
    if (word === "false") return false;
    if (INTEGER.test(word)) {
      // "-0" is the integer 0.
      const value = Number(word.replaceAll("_", "")) + 0;
      if (!Number.isSafeInteger(value)) fail(`integer ${word} is too large`);
      return value;
    }
    if (FLOAT.test(word)) return Number(word.replaceAll("_", ""));
    return fail(`cannot read the value "${word}": ${UNSUPPORTED}`);
  };

  while (nextLine()) {
    skipSpace();
    if (atLineEnd()) continue;
    if (line[position] === "[" && line[position + 1] === "[") {
      const end = line.indexOf("]]", position);
      if (end < 0) fail("unterminated [[table]] header");
      const name = line.slice(position + 2, end).trim();
      if (!BARE_KEY.test(name)) {
        fail(`table name "${name}" is not a bare key: ${UNSUPPORTED}`);
      }
      if (name in root && !arraysOfTables.has(name)) {
        fail(`[[${name}]] conflicts with key "${name}"`);
      }
      arraysOfTables.add(name);
      table = newTable();
      ((root[name] ??= []) as TomlValue[]).push(table);
      position = end + 2;
      expectLineEnd();
      continue;
    }
    if (line[position] === "[") {
      const end = line.indexOf("]", position);
      if (end < 0) fail("unterminated table header");
      const name = line.slice(position + 1, end).trim();
      if (!BARE_KEY.test(name)) {
        fail(`table name "${name}" is not a bare key: ${UNSUPPORTED}`);
      }
      if (definedTables.has(name) || name in root) fail(`table [${name}] is defined twice`);
      definedTables.add(name);
      table = root[name] = newTable();
      position = end + 1;
      expectLineEnd();
      continue;
    }
    const equals = line.indexOf("=", position);
    if (equals < 0) fail('expected "key = value" or a [table] header');
    const key = line.slice(position, equals).trim();
    if (!BARE_KEY.test(key)) fail(`key "${key}" is not a bare key: ${UNSUPPORTED}`);
    if (Object.hasOwn(table, key)) fail(`key "${key}" is defined twice`);
    position = equals + 1;
    skipSpace();
    if (atLineEnd()) fail(`key "${key}" has no value`);
    table[key] = readValue();
    expectLineEnd();
  }
  return root;
}
