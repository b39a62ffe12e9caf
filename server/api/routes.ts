/**
 * REST routes are declared, not just registered: each route is written once, with its method,
 * path, parameters and answers, and both the Hono app and the OpenAPI document
 * (`GET /api/v1/openapi.json`) are built from that declaration. A route's query parameters are
 * checked against its declaration before its handler runs, so the document cannot list a
 * parameter the route refuses, nor the route accept one the document leaves out.
 *
 * ```ts
 * export function createWidgetRoutes(deps: WidgetDeps): Hono {
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
 * Mount the result with `createApiApp({ mounts: { widgets: createWidgetRoutes(deps) } })`; the app
 * refuses to start with a route nobody declared.
 *
 * Routes that speak another protocol's conventions say so in their declaration rather than
 * bypassing the checks: Prometheus' API takes `match[]` several times (`repeatable: true`) and the
 * same parameters as a form-encoded POST body (`formParams: true`); its errors have Prometheus'
 * shape (`errorSchema`); remote write reads a binary body (`body.mediaType`).
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
  /**
   * May be given more than once, each value counting (Prometheus' `match[]`). Default false: a
   * repeated parameter is a 400, since reading one of its values would silently drop the other.
   */
  repeatable?: boolean;
}

/** A request body. The handler still reads it (`BodyReader` for JSON); this describes it. */
export interface RequestBody {
  description: string;
  /** JSON Schema of the body (`{ type: "string", format: "binary" }` for bytes). */
  schema: Readonly<Record<string, unknown>>;
  /** Default true. */
  required?: boolean;
  /** Default `application/json`. */
  mediaType?: string;
}

export interface RouteSpec {
  method: HttpMethod;
  /** Hono path syntax relative to where the routes are mounted, e.g. `/agents/:id`. */
  path: string;
  summary: string;
  description?: string;
  /** A description for each `:name` in `path`. */
  pathParams?: Readonly<Record<string, string>>;
  /**
   * Every query parameter the route takes; any other, or one given twice that is not
   * `repeatable`, is a 400.
   */
  query?: readonly QueryParam[];
  /**
   * The parameters may also come as an `application/x-www-form-urlencoded` body, checked together
   * with the URL's as one list (Prometheus' API; Grafana POSTs its queries so). The handler reads
   * them with `routeParams(c)`. Only for POST; not with `body`. Default false.
   */
  formParams?: boolean;
  /** The body the route reads; none by default. Only for POST, PUT and PATCH. */
  body?: RequestBody;
  /**
   * What each status code means for this route; a 204 answers without a body, a 3xx with a
   * `Location`. Authentication's answers (401, 403, 421) are added from the access table.
   */
  responses: Readonly<Record<number, string>>;
  /**
   * JSON Schema of the route's error answers; one with a `title` is listed once under that name
   * in the document's components. Default: oxmon's `{"error", "code"}` (`Error`).
   */
  errorSchema?: Readonly<Record<string, unknown>>;
  /** Media type(s) of a successful answer. Default `application/json`. */
  contentType?: string | readonly string[];
  /**
   * Another media type the handler's error answers come in (a form page answers its errors as
   * `text/html`); the checks before the handler still answer JSON. Default: none.
   */
  errorContentType?: string;
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
  if (route.formParams && (route.method !== "post" || route.body)) {
    throw new TypeError(`Route ${where}: formParams needs POST and no other body`);
  }
  // A redirect is a form's success answer (`POST /login` answers 303).
  if (!Object.keys(route.responses).some((status) => /^[23]\d\d$/.test(status))) {
    throw new TypeError(`Route ${where}: no 2xx or 3xx response is described`);
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
    const query = route.query ?? [];
    const names = query.filter((param) => !param.prefix).map((param) => param.name);
    const prefixes = query.filter((param) => param.prefix).map((param) => param.name);
    const repeatable = query.filter((param) => param.repeatable).map((param) => param.name);
    const method = route.method.toUpperCase();
    for (const middleware of route.middleware ?? []) app.on(method, route.path, middleware);
    app.on(method, route.path, async (c) => {
      const params = route.formParams ? await withFormBody(c) : new URL(c.req.url).searchParams;
      checkParams(params, names, { prefixes, repeatable });
      checkedParams.set(c, params);
      return await route.handler(c);
    });
  }
  declarations.set(app, Object.freeze([...routes]));
  return app;
}

const checkedParams = new WeakMap<Context, URLSearchParams>();

/** The URL's parameters and, for a form-encoded POST, the body's, as Prometheus reads them. */
async function withFormBody(c: Context): Promise<URLSearchParams> {
  const params = new URLSearchParams(new URL(c.req.url).search);
  const type = c.req.header("content-type") ?? "";
  if (c.req.method === "POST" && /^application\/x-www-form-urlencoded\s*(;|$)/i.test(type)) {
    // Hono keeps the body it read, so the handler may still read it.
    for (const [name, value] of new URLSearchParams(await c.req.text())) {
      params.append(name, value);
    }
  }
  return params;
}

/**
 * The parameters `routeApp` checked for this request: the URL's, plus a form body's for a route
 * with `formParams`.
 */
export function routeParams(c: Context): URLSearchParams {
  return checkedParams.get(c) ?? new URL(c.req.url).searchParams;
}

/** The declarations an app was built from by `routeApp`; undefined for any other app. */
export function declaredRoutes(app: Hono): readonly RouteSpec[] | undefined {
  return declarations.get(app);
}
