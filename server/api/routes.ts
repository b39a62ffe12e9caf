/**
 * REST routes are declared, not just registered: each route is written once, with its method,
 * path, parameters and answers, and both the Hono app and the OpenAPI document
 * (`GET /api/v1/openapi.json`) are built from that declaration. A route's query parameters are
 * checked against its declaration before its handler runs, so the document cannot list a
 * parameter the route refuses, nor the route accept one the document leaves out.
 *
 * ```ts
 * export function widgetRoutes(deps: WidgetDeps): Hono {
 *   return routeApp([{
 *     method: "get",
 *     path: "/widgets/:id",
 *     summary: "One widget",
 *     pathParams: { id: "widget id" },
 *     query: [{ name: "fields", description: "comma-separated fields to return" }],
 *     responses: { 200: "the widget", 404: "no widget with this id" },
 *     handler: (c) => c.json(deps.widget(c.req.param("id"))),
 *   }]);
 * }
 * ```
 * Mount the result with `createApiApp({ mounts: { widgets: widgetRoutes(deps) } })`; the app
 * refuses to start with a route nobody declared.
 */
import { type Context, Hono, type MiddlewareHandler } from "hono";
import { checkParams } from "./params.ts";

export type HttpMethod = "get" | "post" | "put" | "patch" | "delete";

export interface QueryParam {
  /** The name; with `prefix`, the part before a free name (`label.` in `label.mount=/`). */
  name: string;
  description: string;
  /** JSON Schema of the value. Default `{ type: "string" }`. */
  schema?: Readonly<Record<string, unknown>>;
  /** Default false. */
  required?: boolean;
  /** The name is a prefix followed by any name. Default false. */
  prefix?: boolean;
}

/** A JSON request body. The handler still reads it (`BodyReader`); this describes it. */
export interface RequestBody {
  description: string;
  /** JSON Schema of the body. */
  schema: Readonly<Record<string, unknown>>;
  /** Default true. */
  required?: boolean;
}

export interface RouteSpec {
  method: HttpMethod;
  /** Hono path syntax relative to where the routes are mounted, e.g. `/agents/:id`. */
  path: string;
  summary: string;
  description?: string;
  /** A description for each `:name` in `path`. */
  pathParams?: Readonly<Record<string, string>>;
  /** Every query parameter the route takes; any other, or one given twice, is a 400. */
  query?: readonly QueryParam[];
  /** The JSON body the route reads; none by default. Only for POST, PUT and PATCH. */
  body?: RequestBody;
  /** What each status code means for this route; a 204 answers without a body. */
  responses: Readonly<Record<number, string>>;
  /** Media type(s) of a successful answer. Default `application/json`. */
  contentType?: string | readonly string[];
  /** Run before the query check and the handler, e.g. a write route's `guardWrites`. */
  middleware?: readonly MiddlewareHandler[];
  handler: (c: Context) => Response | Promise<Response>;
}

const declarations = new WeakMap<Hono, readonly RouteSpec[]>();

/** The `:name` parameters of a Hono path, in order. */
export function pathParamNames(path: string): string[] {
  return [...path.matchAll(/:([A-Za-z_][A-Za-z0-9_]*)/g)].map((match) => match[1]);
}

/** Throws `TypeError` naming what a declaration leaves undescribed. */
function checkDeclaration(route: RouteSpec): void {
  const where = `${route.method.toUpperCase()} ${route.path}`;
  const inPath = pathParamNames(route.path);
  const described = Object.keys(route.pathParams ?? {});
  for (const name of inPath) {
    if (!described.includes(name)) {
      throw new TypeError(`Route ${where}: path parameter "${name}" has no description`);
    }
  }
  for (const name of described) {
    if (!inPath.includes(name)) {
      throw new TypeError(`Route ${where}: pathParams names "${name}", which the path lacks`);
    }
  }
  if (!route.summary.trim()) throw new TypeError(`Route ${where}: summary is empty`);
  if (route.body && !["post", "put", "patch"].includes(route.method)) {
    throw new TypeError(`Route ${where}: only POST, PUT and PATCH take a body`);
  }
  if (!Object.keys(route.responses).some((status) => /^2\d\d$/.test(status))) {
    throw new TypeError(`Route ${where}: no 2xx response is described`);
  }
}

/**
 * A Hono app serving `routes`, each behind a check of its declared query parameters. Throws
 * `TypeError` for a declaration that leaves a path parameter or its success answer undescribed.
 */
export function routeApp(routes: readonly RouteSpec[]): Hono {
  const app = new Hono();
  for (const route of routes) {
    checkDeclaration(route);
    const names = (route.query ?? []).filter((param) => !param.prefix).map((param) => param.name);
    const prefixes = (route.query ?? []).filter((param) => param.prefix).map((param) => param.name);
    const method = route.method.toUpperCase();
    for (const middleware of route.middleware ?? []) app.on(method, route.path, middleware);
    app.on(method, route.path, (c) => {
      checkParams(new URL(c.req.url).searchParams, names, prefixes);
      return route.handler(c);
    });
  }
  declarations.set(app, Object.freeze([...routes]));
  return app;
}

/** The declarations an app was built from by `routeApp`; undefined for any other app. */
export function declaredRoutes(app: Hono): readonly RouteSpec[] | undefined {
  return declarations.get(app);
}
