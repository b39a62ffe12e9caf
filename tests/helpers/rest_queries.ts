/**
 * Random REST query strings for the API fuzz test: parameter names each route takes, names of
 * other routes, typos, empty and odd names, repeated names, and values from the valid to the
 * absurd (huge numbers, negative times, durations of a thousand units, control characters,
 * broken percent escapes), written raw or encoded.
 */
import { Random } from "./chunk_random.ts";

export { Random };

/** A route under `/api/v1` and the query parameters it takes (`label.` is a prefix). */
export interface RouteUnderTest {
  /** Path under `/api/v1`, with `:name` where a path parameter goes. */
  path: string;
  params: readonly string[];
  prefixes?: readonly string[];
  /** Parameters that may be given more than once. */
  repeatable?: readonly string[];
  /** Parameters whose values are integers. */
  integers?: readonly string[];
  /** Allowed values, for parameters that have a list. */
  enums?: Readonly<Record<string, readonly string[]>>;
}

type OpenApiParameter = { name: string; in: string; schema?: Record<string, unknown> };

/**
 * Every GET route under `/api/v1` of an OpenAPI document (`GET /api/v1/openapi.json`, generated
 * from the route declarations), with the query parameters each declares.
 */
export function routesFromOpenApi(
  doc: { paths: Record<string, Record<string, unknown>> },
): RouteUnderTest[] {
  const routes: RouteUnderTest[] = [];
  for (const [path, operations] of Object.entries(doc.paths)) {
    const get = operations.get as { parameters?: OpenApiParameter[] } | undefined;
    if (!get || !path.startsWith("/api/v1/")) continue;
    const params: string[] = [];
    const prefixes: string[] = [];
    const repeatable: string[] = [];
    const integers: string[] = [];
    const enums: Record<string, readonly string[]> = {};
    for (const param of get.parameters ?? []) {
      if (param.in !== "query") continue;
      if (param.name.endsWith("<name>")) {
        prefixes.push(param.name.slice(0, -"<name>".length));
        continue;
      }
      params.push(param.name);
      const schema = param.schema ?? {};
      if (schema.type === "array") repeatable.push(param.name);
      if (schema.type === "integer") integers.push(param.name);
      if (Array.isArray(schema.enum)) enums[param.name] = schema.enum.map(String);
    }
    const routePath = path.slice("/api/v1".length).replace(/\{([^}]+)\}/g, ":$1");
    routes.push({ path: routePath, params, prefixes, repeatable, integers, enums });
  }
  return routes;
}

/** Names of other routes, as a confused client sends them. */
const OTHER_NAMES = ["agent", "metric", "from", "to", "step", "limit", "offset", "status", "range"];

const TIMES = [
  "2026-11-27T12:00:00Z",
  "2026-11-27T11:00:00.123456789Z",
  "2026-11-27 11:00:00+02:00",
  "2026-02-30T00:00:00Z",
  "2026-13-01T00:00:00Z",
  "1969-12-31T23:59:59Z",
  "0001-01-01T00:00:00Z",
  "9999-12-31T23:59:59.999Z",
  "10000-01-01T00:00:00Z",
  "2026-11-27T24:00:00Z",
  "2026-11-27T12:00:60Z",
  "2026-11-27",
  "now",
  "0",
  "1",
  "-1",
  "1795780800000",
  "253402300799999",
  "253402300800000",
  "9007199254740991",
  "9007199254740993",
  "99999999999999999999999",
  "1e12",
  "1.5",
  " 1795780800000 ",
  "0x10",
  "Infinity",
  "NaN",
];

const STEPS = [
  "60",
  "1",
  "0",
  "-60",
  "1ms",
  "0.5ms",
  "0.0001",
  "5m",
  "1h30m",
  "1w",
  "3650d",
  "3651d",
  "1y",
  "99999999999999999999999",
  "9007199254740993",
  "1e3",
  "1e400",
  "5 minutes",
  "m",
  "1h-1m",
  "1w".repeat(200),
  "9".repeat(400) + "s",
  "NaN",
  "Infinity",
];

const INTEGERS = [
  "0",
  "1",
  "100",
  "1000",
  "1001",
  "-1",
  "+5",
  "1.0",
  "1e2",
  "0x10",
  "007",
  "9007199254740991",
  "9007199254740992",
  "99999999999999999999",
  " 5",
  "",
];

const ENUMS = [
  "info",
  "warning",
  "critical",
  "firing",
  "resolved",
  "sent",
  "failed",
  "silenced",
  "dropped",
  "15m",
  "1h",
  "6h",
  "24h",
  "7d",
  "30d",
  "1y",
  "CRITICAL",
  "__proto__",
  "constructor",
  "toString",
  "hasOwnProperty",
];

const TEXTS = [
  "web-01",
  "cpu.usage",
  "disk.used_percent",
  "/",
  "high-cpu",
  "hook",
  "",
  " ",
  "__proto__",
  "ünïcødé",
  "日本語",
  "\u0000",
  "\u0007bell",
  "a\nb",
  "%",
  "%zz",
  "%00",
  "%E2%82",
  "'; DROP TABLE agents; --",
  '"quoted"',
  "x".repeat(5000),
];

/** A value that fits the parameter's kind most of the time, anything otherwise. */
function valueFor(rng: Random, name: string, route: RouteUnderTest): string {
  if (rng.chance(0.15)) return rng.pick([...TIMES, ...STEPS, ...INTEGERS, ...ENUMS, ...TEXTS]);
  const allowed = route.enums?.[name];
  if (allowed && rng.chance(0.7)) return rng.pick(allowed);
  if (name === "from" || name === "to") return rng.pick(TIMES);
  if (name === "step") return rng.pick(STEPS);
  if (route.integers?.includes(name) || name === "limit" || name === "offset") {
    return rng.pick(INTEGERS);
  }
  if (["severity", "status", "range", "enabled"].includes(name)) {
    return rng.pick([...ENUMS, "true", "false"]);
  }
  return rng.pick(TEXTS);
}

function nameFor(rng: Random, route: RouteUnderTest): string {
  const own = route.params;
  const kind = rng.int(0, 9);
  if (kind <= 4 && own.length > 0) return rng.pick(own);
  if (kind === 5 && route.prefixes?.length) {
    return route.prefixes[0] + rng.pick(["mount", "core", "", "a.b", "__proto__", "x".repeat(300)]);
  }
  if (kind === 6) return rng.pick(OTHER_NAMES);
  if (kind === 7 && own.length > 0) {
    const name = rng.pick(own);
    return rng.pick([name.toUpperCase(), name + "s", name.slice(1), ` ${name}`, `${name}[]`]);
  }
  return rng.pick(["", "label", "label.", "x", "page", "__proto__", "%", "a=b", "日本", "\u0000"]);
}

/** How a name or value goes on the wire. */
function write(rng: Random, text: string): string {
  switch (rng.int(0, 5)) {
    case 0:
      // Raw, as a careless client sends it; `#` would end the query.
      return text.replaceAll("#", "%23").replaceAll("&", "%26").replaceAll("=", "%3D");
    case 1:
      return encodeURIComponent(text).replaceAll("%20", "+");
    default:
      return encodeURIComponent(text);
  }
}

/** A random query string (without `?`) for `route`. */
export function randomQuery(rng: Random, route: RouteUnderTest): string {
  // Half the queries use only the route's own names, once each, so values get exercised too
  // (one stray name in five would otherwise end most queries at the name check).
  const clean = rng.chance(0.5);
  const names = [...route.params, ...(route.prefixes ?? []).map((prefix) => prefix + "mount")];
  const parts: string[] = [];
  for (let count = rng.int(0, 5); count > 0; count--) {
    if (clean && names.length === 0) break;
    const name = clean ? names.splice(rng.int(0, names.length - 1), 1)[0] : nameFor(rng, route);
    if (clean) {
      parts.push(`${encodeURIComponent(name)}=${write(rng, valueFor(rng, name, route))}`);
      continue;
    }
    const value = valueFor(rng, name, route);
    switch (rng.int(0, 11)) {
      case 0:
        parts.push(write(rng, name)); // no `=`
        break;
      case 1:
        parts.push(`${write(rng, name)}=${write(rng, value)}=${write(rng, value)}`);
        break;
      case 2:
        parts.push(""); // `&&`
        break;
      default:
        parts.push(`${write(rng, name)}=${write(rng, value)}`);
    }
    // A parameter given twice, the same or another value.
    if (rng.chance(0.05)) {
      parts.push(`${write(rng, name)}=${write(rng, valueFor(rng, name, route))}`);
    }
  }
  return parts.join("&");
}

/** The path of `route` with its path parameters put in (a known agent id, or odd values). */
export function randomPath(rng: Random, route: RouteUnderTest, knownAgent: string): string {
  return route.path.replace(
    /:[A-Za-z_]+/g,
    () => rng.pick([knownAgent, knownAgent, "nobody", "%00", "a%2Fb", "x".repeat(300), "%zz", "1"]),
  );
}

/**
 * What the server must say about the parameters alone: a parameter the route does not take, or
 * one given twice, is a 400 naming one of them, whatever else is wrong. Empty when they are fine.
 */
export function parameterFaults(params: URLSearchParams, route: RouteUnderTest): Set<string> {
  const seen = new Set<string>();
  const faults = new Set<string>();
  for (const name of params.keys()) {
    if (seen.has(name) && !(route.repeatable ?? []).includes(name)) faults.add(name);
    seen.add(name);
    const known = route.params.includes(name) ||
      (route.prefixes ?? []).some((prefix) => name.startsWith(prefix));
    if (!known) faults.add(name);
  }
  return faults;
}
