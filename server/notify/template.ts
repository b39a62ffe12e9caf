/**
 * `{{placeholder}}` templates for webhook and SMS bodies, with every value escaped for the
 * body's format, so an alert message can neither break nor inject structure:
 *
 * - `json`: inside a JSON string literal a value is JSON-string-escaped (no quotes added); outside
 *   one (`"value": {{value}}`) it is written as a JSON literal (number, quoted string, array,
 *   object, or `null`), so the result always parses.
 * - `form` / `query`: values are percent-encoded (`application/x-www-form-urlencoded`, URL query).
 * - `text`: values are written as they are.
 */

/** A value a placeholder can stand for. */
export type TemplateValue =
  | string
  | number
  | boolean
  | null
  | undefined
  | readonly TemplateValue[]
  | { readonly [key: string]: TemplateValue };

export type TemplateFields = Readonly<Record<string, TemplateValue>>;
export type TemplateFormat = "json" | "text" | "form" | "query";

export interface Template {
  readonly format: TemplateFormat;
  /** Placeholder names the template uses, in order of first use. */
  readonly names: readonly string[];
  render(fields: TemplateFields): string;
}

interface Part {
  literal: string;
  /** Placeholder after the literal; absent for the last part. */
  name?: string;
  /** JSON only: the placeholder sits inside a string literal. */
  inString: boolean;
}

const PLACEHOLDER = /\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}/g;

/** The text form of a value: numbers without noise, lists joined by ", ". */
export function valueToText(value: TemplateValue): string {
  if (value === null || value === undefined) return "";
  if (typeof value === "number") return formatNumber(value);
  if (typeof value === "string") return value;
  if (typeof value === "boolean") return String(value);
  if (Array.isArray(value)) return value.map(valueToText).join(", ");
  return JSON.stringify(value);
}

/** Up to 2 decimals like the original oxmon, but without trailing zeros (`95.5`, `1024`). */
export function formatNumber(value: number): string {
  if (!Number.isFinite(value)) return String(value);
  return String(Number(value.toFixed(2)));
}

function toJsonLiteral(value: TemplateValue): string {
  return JSON.stringify(value, (_key, item) => {
    if (typeof item === "number" && !Number.isFinite(item)) return null;
    return item === undefined ? null : item;
  }) ?? "null";
}

function splitTemplate(text: string, json: boolean): Part[] {
  const parts: Part[] = [];
  let inString = false;
  let escaped = false;
  const track = (literal: string) => {
    if (!json) return;
    for (const char of literal) {
      if (!inString) {
        if (char === '"') inString = true;
      } else if (escaped) escaped = false;
      else if (char === "\\") escaped = true;
      else if (char === '"') inString = false;
    }
  };
  let last = 0;
  for (const match of text.matchAll(PLACEHOLDER)) {
    const literal = text.slice(last, match.index);
    track(literal);
    parts.push({ literal, name: match[1], inString });
    last = match.index + match[0].length;
  }
  const tail = text.slice(last);
  track(tail);
  parts.push({ literal: tail, inString });
  return parts;
}

function renderValue(part: Part, value: TemplateValue, format: TemplateFormat): string {
  switch (format) {
    case "json":
      return part.inString ? JSON.stringify(valueToText(value)).slice(1, -1) : toJsonLiteral(value);
    case "form":
    case "query":
      return encodeURIComponent(valueToText(value));
    case "text":
      return valueToText(value);
  }
}

export interface CompileTemplateOptions {
  /** Names a placeholder may use; any other name is an error. */
  known: readonly string[];
  /**
   * The body's format. `"auto"` (default) picks `json` when the template, filled with `sample`,
   * parses as a JSON object or array, else `text`.
   */
  format?: TemplateFormat | "auto";
  /** Values used to check the template at compile time. Default: every known name as `0`. */
  sample?: TemplateFields;
}

/**
 * Compiles a template. Throws `TypeError` naming an unknown placeholder, or, for an explicit
 * `json` format, a template that is not JSON once filled in.
 */
export function compileTemplate(text: string, options: CompileTemplateOptions): Template {
  const names: string[] = [];
  for (const match of text.matchAll(PLACEHOLDER)) {
    const name = match[1];
    if (!options.known.includes(name)) {
      throw new TypeError(
        `unknown placeholder {{${name}}}; expected one of ${
          options.known.map((known) => `{{${known}}}`).join(", ")
        }`,
      );
    }
    if (!names.includes(name)) names.push(name);
  }
  const sample = options.sample ?? Object.fromEntries(options.known.map((name) => [name, 0]));
  const jsonParts = splitTemplate(text, true);
  const build = (format: TemplateFormat, parts: Part[]): Template => ({
    format,
    names,
    render(fields) {
      let out = "";
      for (const part of parts) {
        out += part.literal;
        if (part.name !== undefined) out += renderValue(part, fields[part.name], format);
      }
      return out;
    },
  });
  const asJson = build("json", jsonParts);
  let parsed: unknown;
  let parsesAsJson = false;
  try {
    parsed = JSON.parse(asJson.render(sample));
    parsesAsJson = true;
  } catch {
    // not JSON
  }
  const format = options.format ?? "auto";
  if (format === "json") {
    if (!parsesAsJson) throw new TypeError("is not valid JSON once its placeholders are filled in");
    return asJson;
  }
  // A bare placeholder (`{{text}}`) parses as a JSON scalar, yet its writer means plain text:
  // only an object or array written out in the template makes a JSON body.
  const jsonStructure = parsesAsJson && typeof parsed === "object" && parsed !== null;
  if (format === "auto") return jsonStructure ? asJson : build("text", splitTemplate(text, false));
  return build(format, splitTemplate(text, false));
}

/** The body format a `Content-Type` header asks for, or `"auto"` when it does not say. */
export function formatForContentType(contentType: string | undefined): TemplateFormat | "auto" {
  if (contentType === undefined) return "auto";
  const type = contentType.split(";")[0].trim().toLowerCase();
  if (type === "application/json" || type.endsWith("+json")) return "json";
  if (type === "application/x-www-form-urlencoded") return "form";
  return "text";
}
