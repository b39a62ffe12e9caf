/**
 * PromQL parsed with the Prometheus project's own grammar (`@prometheus-io/lezer-promql`) into
 * the small AST oxmon evaluates. Everything outside the supported subset is refused with a
 * `PromQLError` naming it, never approximated:
 *
 * - instant and range selectors with `=`, `!=`, `=~`, `!~` matchers;
 * - `rate`, `irate`, `increase`, `avg_over_time`, `min_over_time`, `max_over_time`,
 *   `sum_over_time`, `count_over_time`, `last_over_time` of a range selector;
 * - `sum`, `avg`, `min`, `max`, `count` with `by` or `without`;
 * - arithmetic (`+ - * / % ^`) and comparisons (`== != > < >= <=`, with or without `bool`)
 *   between a vector and a number, or two numbers; unary minus; parentheses.
 */
import { parser } from "@prometheus-io/lezer-promql";
import type { SyntaxNode } from "@lezer/common";
import { MS_PER_DAY, MS_PER_HOUR, MS_PER_MINUTE, MS_PER_SECOND } from "../../../shared/time.ts";

export class PromQLError extends Error {
  /** `bad_data` for a query that cannot be parsed or is not supported. */
  readonly errorType = "bad_data";
  constructor(message: string) {
    super(message);
    this.name = "PromQLError";
  }
}

export type MatchType = "=" | "!=" | "=~" | "!~";

export interface Matcher {
  name: string;
  type: MatchType;
  value: string;
  /** Whether `text` satisfies the matcher (a missing label reads as ""). */
  matches(text: string): boolean;
}

export const RANGE_FUNCTIONS = [
  "rate",
  "irate",
  "increase",
  "avg_over_time",
  "min_over_time",
  "max_over_time",
  "sum_over_time",
  "count_over_time",
  "last_over_time",
] as const;
export type RangeFunction = typeof RANGE_FUNCTIONS[number];

export const AGGREGATIONS = ["sum", "avg", "min", "max", "count"] as const;
export type Aggregation = typeof AGGREGATIONS[number];

export const ARITHMETIC = ["+", "-", "*", "/", "%", "^"] as const;
export const COMPARISONS = ["==", "!=", ">", "<", ">=", "<="] as const;
export type BinaryOp = typeof ARITHMETIC[number] | typeof COMPARISONS[number];

export type Expr =
  | { kind: "number"; value: number }
  | { kind: "selector"; matchers: Matcher[] }
  | { kind: "matrix"; selector: { matchers: Matcher[] }; rangeMs: number }
  | { kind: "call"; func: RangeFunction; arg: { matchers: Matcher[] }; rangeMs: number }
  | {
    kind: "aggregate";
    op: Aggregation;
    grouping: { without: boolean; labels: string[] } | undefined;
    expr: Expr;
  }
  | { kind: "binary"; op: BinaryOp; bool: boolean; lhs: Expr; rhs: Expr }
  | { kind: "negate"; expr: Expr };

/** The value type an expression yields. */
export function typeOf(expr: Expr): "scalar" | "vector" | "matrix" {
  switch (expr.kind) {
    case "number":
      return "scalar";
    case "matrix":
      return "matrix";
    case "binary":
      return typeOf(expr.lhs) === "scalar" && typeOf(expr.rhs) === "scalar" ? "scalar" : "vector";
    case "negate":
      return typeOf(expr.expr);
    default:
      return "vector";
  }
}

const UNITS: Record<string, number> = {
  ms: 1,
  s: MS_PER_SECOND,
  m: MS_PER_MINUTE,
  h: MS_PER_HOUR,
  d: MS_PER_DAY,
  w: 7 * MS_PER_DAY,
  y: 365 * MS_PER_DAY,
};

/** `5m`, `1h30m`, `500ms`, or a number of seconds, as milliseconds. */
export function parseDuration(text: string): number | undefined {
  if (/^\d+(\.\d+)?$/.test(text)) return Math.round(Number(text) * MS_PER_SECOND);
  const re = /(\d+)(ms|s|m|h|d|w|y)/gy;
  let total = 0;
  let end = 0;
  for (let match = re.exec(text); match; match = re.exec(text)) {
    total += Number(match[1]) * UNITS[match[2]];
    end = re.lastIndex;
  }
  return end === text.length && end > 0 ? total : undefined;
}

function parseNumber(text: string): number {
  const lower = text.toLowerCase();
  const sign = lower.startsWith("-") ? -1 : 1;
  const body = lower.replace(/^[+-]/, "");
  if (body === "inf") return sign * Infinity;
  if (body === "nan") return NaN;
  if (/^0x[0-9a-f]+$/.test(body)) return sign * parseInt(body.slice(2), 16);
  const value = Number(body);
  if (body !== "" && Number.isFinite(value)) return sign * value;
  const duration = parseDuration(body);
  if (duration !== undefined) return sign * duration / MS_PER_SECOND;
  throw new PromQLError(`cannot parse number ${JSON.stringify(text)}`);
}

/** A PromQL string literal: "…" and '…' with Go escapes, `…` raw. */
function unquote(text: string): string {
  const quote = text[0];
  const body = text.slice(1, -1);
  if (quote === "`") return body;
  return body.replace(
    /\\(?:([abfnrtv\\'"])|x([0-9a-fA-F]{2})|u([0-9a-fA-F]{4})|U([0-9a-fA-F]{8})|([0-7]{3}))/g,
    (_, simple, hex, u4, u8, octal) => {
      if (simple) {
        return ({ a: "\x07", b: "\b", f: "\f", n: "\n", r: "\r", t: "\t", v: "\v" } as Record<
          string,
          string
        >)[simple] ?? simple;
      }
      const code = parseInt(hex ?? u4 ?? u8 ?? octal, hex || u4 || u8 ? 16 : 8);
      return String.fromCodePoint(code);
    },
  );
}

function compileMatcher(name: string, type: MatchType, value: string): Matcher {
  if (type === "=" || type === "!=") {
    const equal = type === "=";
    return { name, type, value, matches: (text) => (text === value) === equal };
  }
  let re: RegExp;
  try {
    // Prometheus regexes are RE2 and fully anchored.
    re = new RegExp(`^(?:${value})$`, "s");
  } catch (error) {
    throw new PromQLError(
      `invalid regular expression ${JSON.stringify(value)}: ${(error as Error).message}`,
    );
  }
  const positive = type === "=~";
  return { name, type, value, matches: (text) => re.test(text) === positive };
}

class Parser {
  readonly #query: string;

  constructor(query: string) {
    this.#query = query;
  }

  text(node: SyntaxNode): string {
    return this.#query.slice(node.from, node.to);
  }

  position(node: SyntaxNode): string {
    const before = this.#query.slice(0, node.from);
    const line = before.split("\n").length;
    const column = node.from - before.lastIndexOf("\n");
    return `${line}:${column}`;
  }

  unsupported(node: SyntaxNode, what: string): PromQLError {
    return new PromQLError(
      `${this.position(node)}: ${what} is not supported by oxmon's PromQL (${
        JSON.stringify(this.text(node).slice(0, 80))
      }); supported: selectors, ${RANGE_FUNCTIONS.join(", ")}, ${
        AGGREGATIONS.join("/")
      } with by/without, and arithmetic or comparisons with a number`,
    );
  }

  children(node: SyntaxNode): SyntaxNode[] {
    const out: SyntaxNode[] = [];
    for (let child = node.firstChild; child; child = child.nextSibling) out.push(child);
    return out;
  }

  expr(node: SyntaxNode): Expr {
    switch (node.name) {
      case "PromQL": {
        const [child] = this.children(node);
        if (!child) throw new PromQLError("empty query");
        return this.expr(child);
      }
      case "ParenExpr":
        return this.expr(this.children(node)[0]);
      case "NumberDurationLiteral":
        return { kind: "number", value: parseNumber(this.text(node)) };
      case "VectorSelector":
        return { kind: "selector", matchers: this.selector(node) };
      case "MatrixSelector": {
        const [vector, duration] = this.children(node);
        if (vector.name !== "VectorSelector") throw this.unsupported(node, "a range of this kind");
        return {
          kind: "matrix",
          selector: { matchers: this.selector(vector) },
          rangeMs: this.duration(duration),
        };
      }
      case "FunctionCall":
        return this.call(node);
      case "AggregateExpr":
        return this.aggregate(node);
      case "BinaryExpr":
        return this.binary(node);
      case "UnaryExpr": {
        const [op, operand] = this.children(node);
        const inner = this.expr(operand);
        if (this.text(op) === "+") return inner;
        if (inner.kind === "number") return { kind: "number", value: -inner.value };
        if (typeOf(inner) === "matrix") throw this.unsupported(node, "negating a range vector");
        return { kind: "negate", expr: inner };
      }
      case "StringLiteral":
        throw this.unsupported(node, "a string expression");
      case "SubqueryExpr":
        throw this.unsupported(node, "a subquery");
      case "OffsetExpr":
        throw this.unsupported(node, "the offset modifier");
      case "StepInvariantExpr":
        throw this.unsupported(node, "the @ modifier");
      default:
        throw this.unsupported(node, `a ${node.name}`);
    }
  }

  duration(node: SyntaxNode): number {
    const ms = parseDuration(this.text(node));
    if (ms === undefined || node.name !== "DurationExpr") {
      throw this.unsupported(node, "a computed duration");
    }
    if (ms <= 0) throw new PromQLError(`${this.position(node)}: a range must be positive`);
    return ms;
  }

  selector(node: SyntaxNode): Matcher[] {
    const matchers: Matcher[] = [];
    for (const child of this.children(node)) {
      if (child.name === "Identifier") {
        matchers.push(compileMatcher("__name__", "=", this.text(child)));
      } else if (child.name === "LabelMatchers") {
        for (const item of this.children(child)) matchers.push(this.matcher(item));
      } else throw this.unsupported(child, `a ${child.name} in a selector`);
    }
    if (!matchers.some((matcher) => !matcher.matches(""))) {
      throw new PromQLError(
        `${this.position(node)}: vector selector must contain at least one non-empty matcher`,
      );
    }
    return matchers;
  }

  matcher(node: SyntaxNode): Matcher {
    const parts = this.children(node);
    if (node.name === "QuotedLabelName") {
      // `{"metric_name"}`: a quoted metric name alone.
      return compileMatcher("__name__", "=", unquote(this.text(parts[0])));
    }
    if (node.name !== "UnquotedLabelMatcher" && node.name !== "QuotedLabelMatcher") {
      throw this.unsupported(node, "this label matcher");
    }
    const [nameNode, opNode, valueNode] = parts;
    const name = nameNode.name === "QuotedLabelName"
      ? unquote(this.text(nameNode.firstChild!))
      : this.text(nameNode);
    return compileMatcher(name, this.text(opNode) as MatchType, unquote(this.text(valueNode)));
  }

  call(node: SyntaxNode): Expr {
    const [identifier, body] = this.children(node);
    const name = this.text(identifier);
    if (!(RANGE_FUNCTIONS as readonly string[]).includes(name)) {
      throw this.unsupported(node, `the function ${name}()`);
    }
    const args = this.children(body);
    if (args.length !== 1) {
      throw new PromQLError(
        `${this.position(node)}: expected 1 argument in call to "${name}", got ${args.length}`,
      );
    }
    const arg = this.expr(args[0]);
    if (arg.kind !== "matrix") {
      if (args[0].name === "SubqueryExpr") throw this.unsupported(args[0], "a subquery");
      throw new PromQLError(
        `${this.position(node)}: expected type range vector in call to function "${name}"`,
      );
    }
    return { kind: "call", func: name as RangeFunction, arg: arg.selector, rangeMs: arg.rangeMs };
  }

  aggregate(node: SyntaxNode): Expr {
    let op = "";
    let grouping: { without: boolean; labels: string[] } | undefined;
    let body: SyntaxNode | undefined;
    for (const child of this.children(node)) {
      if (child.name === "AggregateOp") op = this.text(child);
      else if (child.name === "AggregateModifier") {
        const [kind, labels] = this.children(child);
        grouping = {
          without: kind.name === "Without",
          labels: labels ? this.children(labels).map((label) => this.label(label)) : [],
        };
      } else if (child.name === "FunctionCallBody") body = child;
    }
    if (!(AGGREGATIONS as readonly string[]).includes(op)) {
      throw this.unsupported(node, `the aggregation ${op}`);
    }
    const args = body ? this.children(body) : [];
    if (args.length !== 1) {
      throw new PromQLError(
        `${
          this.position(node)
        }: wrong number of arguments for aggregate expression provided, expected 1, got ${args.length}`,
      );
    }
    const expr = this.expr(args[0]);
    if (typeOf(expr) !== "vector") {
      throw new PromQLError(
        `${this.position(node)}: expected type instant vector in aggregation expression, got ${
          typeOf(expr) === "matrix" ? "range vector" : "scalar"
        }`,
      );
    }
    return { kind: "aggregate", op: op as Aggregation, grouping, expr };
  }

  label(node: SyntaxNode): string {
    return node.name === "QuotedLabelName" ? unquote(this.text(node.firstChild!)) : this.text(node);
  }

  binary(node: SyntaxNode): Expr {
    const parts = this.children(node);
    const lhsNode = parts[0];
    const rhsNode = parts[parts.length - 1];
    const opNode = parts[1];
    let bool = false;
    for (const part of parts.slice(2, -1)) {
      if (part.name === "BoolModifier") bool = true;
      else throw this.unsupported(part, "vector matching (on/ignoring/group_left/group_right)");
    }
    const op = this.text(opNode);
    if (![...ARITHMETIC, ...COMPARISONS].includes(op as BinaryOp)) {
      throw this.unsupported(node, `the operator ${op}`);
    }
    const lhs = this.expr(lhsNode);
    const rhs = this.expr(rhsNode);
    const [left, right] = [typeOf(lhs), typeOf(rhs)];
    if (left === "matrix" || right === "matrix") {
      throw new PromQLError(
        `${
          this.position(node)
        }: binary expression must contain only scalar and instant vector types`,
      );
    }
    if (left === "vector" && right === "vector") {
      throw this.unsupported(node, "a binary operation between two vectors");
    }
    const comparison = (COMPARISONS as readonly string[]).includes(op);
    if (bool && !comparison) {
      throw new PromQLError(
        `${this.position(node)}: bool modifier can only be used on comparison operators`,
      );
    }
    if (comparison && !bool && left === "scalar" && right === "scalar") {
      throw new PromQLError(
        `${this.position(node)}: comparisons between scalars must use BOOL modifier`,
      );
    }
    return { kind: "binary", op: op as BinaryOp, bool, lhs, rhs };
  }
}

/** Parses a query; throws `PromQLError` for a syntax error or anything not supported. */
export function parsePromQL(query: string): Expr {
  if (query.trim() === "") throw new PromQLError("empty query");
  const tree = parser.parse(query);
  let error: SyntaxNode | undefined;
  tree.iterate({
    enter: (ref) => {
      if (ref.type.isError && !error) error = ref.node;
    },
  });
  const reader = new Parser(query);
  if (error) {
    throw new PromQLError(
      `${reader.position(error)}: parse error: unexpected ${
        error.from >= query.length
          ? "end of input"
          : JSON.stringify(query.slice(error.from, error.from + 10))
      }`,
    );
  }
  return reader.expr(tree.topNode);
}
