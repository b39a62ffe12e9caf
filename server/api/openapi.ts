/**
 * The OpenAPI 3.1 document of the REST API, generated from the route declarations
 * (`routes.ts`) the app is built from; served at `GET /api/v1/openapi.json`.
 */
import { ERROR_CODES } from "./errors.ts";
import { pathParamNames, type QueryParam, type RouteSpec } from "./routes.ts";

/** Routes declared for one mount point, e.g. `/api/v1/alerts`. */
export interface MountedRoutes {
  base: string;
  /** Groups the operations in the document (`agents`, `alerts`, …). */
  tag: string;
  routes: readonly RouteSpec[];
}

type Json = Record<string, unknown>;

/**
 * Who may call each route, as the document states it: its security schemes, and per route its
 * `security`, `x-oxmon-access` and the answers authentication adds (401, 403, 421), rendered as
 * oxmon's errors. From the access table (`server/auth/access.ts`); a route it has no rule for
 * throws.
 */
export interface OpenApiSecurity {
  schemes: Readonly<Record<string, Json>>;
  of(method: string, path: string): {
    access: string;
    security: Json[];
    responses: Readonly<Record<number, string>>;
  };
}

export interface OpenApiOptions {
  /** Default: no `security` (an app without authentication). */
  security?: OpenApiSecurity;
}

/** `/api/v1` + `/agents/:id` → `/api/v1/agents/{id}`. */
export function openApiPath(base: string, path: string): string {
  const joined = `${base.replace(/\/$/, "")}${path === "/" ? "" : path}` || "/";
  return joined.replace(/:([A-Za-z_][A-Za-z0-9_]*)/g, "{$1}");
}

function operationId(method: string, path: string): string {
  const words = path.split(/[^A-Za-z0-9]+/).filter(Boolean);
  return method + words.map((word) => word[0].toUpperCase() + word.slice(1)).join("");
}

/** A repeatable parameter's schema is an array of its values (`match[]=a&match[]=b`). */
function paramSchema(param: QueryParam): Json {
  const schema = param.schema ?? { type: "string" };
  return param.repeatable ? { type: "array", items: schema } : schema;
}

function paramDescription(param: QueryParam): string {
  if (param.prefix) return `${param.description} (\`${param.name}<name>=<value>\`, once per name)`;
  if (param.repeatable) return `${param.description} (may be given more than once)`;
  return param.description;
}

/** The parameters as the fields of a form-encoded body (`formParams`). */
function formBody(params: readonly QueryParam[]): Json {
  return {
    description: "The query parameters, form-encoded instead of (or besides) in the URL",
    required: false,
    content: {
      "application/x-www-form-urlencoded": {
        schema: {
          type: "object",
          properties: Object.fromEntries(
            params.map((param) => [
              param.name,
              { ...paramSchema(param), description: paramDescription(param) },
            ]),
          ),
        },
        encoding: Object.fromEntries(
          params.filter((param) => param.repeatable).map((param) => [
            param.name,
            { style: "form", explode: true },
          ]),
        ),
      },
    },
  };
}

/**
 * The schema of a route's error answers: a reference to a component for a titled one (which is
 * added to `schemas`), the schema itself otherwise.
 */
function errorSchemaOf(route: RouteSpec, schemas: Record<string, Json>): Json {
  const schema = route.errorSchema;
  if (!schema) return { $ref: "#/components/schemas/Error" };
  if (typeof schema.title !== "string") return schema;
  schemas[schema.title] = schema;
  return { $ref: `#/components/schemas/${schema.title}` };
}

function operation(
  route: RouteSpec,
  tag: string,
  path: string,
  schemas: Record<string, Json>,
  security: OpenApiSecurity | undefined,
): Json {
  const parameters: Json[] = pathParamNames(route.path).map((name) => ({
    name,
    in: "path",
    required: true,
    description: route.pathParams![name],
    schema: { type: "string" },
  }));
  for (const param of route.query ?? []) {
    parameters.push({
      name: param.prefix ? `${param.name}<name>` : param.name,
      in: "query",
      required: param.required ?? false,
      description: paramDescription(param),
      schema: paramSchema(param),
      ...(param.repeatable ? { style: "form", explode: true } : {}),
    });
  }
  const successTypes = [route.contentType ?? "application/json"].flat();
  const errorSchema = errorSchemaOf(route, schemas);
  const access = security?.of(route.method, path);
  const responses: Json = {};
  const answers = Object.entries({ ...access?.responses, ...route.responses })
    .sort(([a], [b]) => Number(a) - Number(b));
  for (const [status, description] of answers) {
    if (status === "204") {
      responses[status] = { description };
      continue;
    }
    if (status.startsWith("3")) {
      responses[status] = {
        description,
        headers: { Location: { description: "where to go", schema: { type: "string" } } },
      };
      continue;
    }
    const content: Json = {};
    if (status.startsWith("2")) {
      for (const mediaType of successTypes) {
        content[mediaType] = {
          schema: mediaType === "application/json" ? { type: "object" } : { type: "string" },
        };
      }
    } else {
      // Authentication's own refusals are oxmon's errors whatever the route's shape.
      const own = Object.hasOwn(route.responses, status);
      content["application/json"] = {
        schema: own ? errorSchema : { $ref: "#/components/schemas/Error" },
      };
      if (own && route.errorContentType) {
        content[route.errorContentType] = { schema: { type: "string" } };
      }
    }
    responses[status] = { description, content };
  }
  const body = route.body;
  const requestBody = body
    ? {
      description: body.description,
      required: body.required ?? true,
      content: { [body.mediaType ?? "application/json"]: { schema: body.schema } },
    }
    : route.formParams
    ? formBody(route.query ?? [])
    : undefined;
  return {
    operationId: operationId(route.method, path),
    summary: route.summary,
    ...(route.description ? { description: route.description } : {}),
    tags: [tag],
    ...(parameters.length > 0 ? { parameters } : {}),
    ...(requestBody ? { requestBody } : {}),
    responses,
    ...(access ? { security: access.security, "x-oxmon-access": access.access } : {}),
  };
}

/** The document for every mounted route. */
export function openApiDocument(
  mounted: readonly MountedRoutes[],
  version: string,
  options: OpenApiOptions = {},
): Json {
  const paths: Record<string, Json> = {};
  const schemas: Record<string, Json> = {
    Error: {
      type: "object",
      required: ["error", "code"],
      properties: {
        error: { type: "string", description: "what went wrong, naming the bad parameter" },
        code: { type: "string", enum: [...ERROR_CODES] },
      },
    },
  };
  for (const { base, tag, routes } of mounted) {
    for (const route of routes) {
      const path = openApiPath(base, route.path);
      paths[path] ??= {};
      paths[path][route.method] = operation(route, tag, path, schemas, options.security);
    }
  }
  return {
    openapi: "3.1.0",
    info: {
      title: "oxmon REST API",
      version,
      description: "Monitoring data, agents, the fleet overview, alerts, notification " +
        "deliveries, certificate and service checks of an oxmon server, and the dashboard. " +
        "Every API answer is JSON with RFC 3339 UTC timestamps; errors are " +
        '`{"error": "...", "code": "..."}`. Unknown or repeated query parameters are refused ' +
        "with a 400 naming them, as are unknown or mistyped fields of a request body.\n\n" +
        "The Prometheus-compatible routes follow Prometheus' conventions instead: " +
        '`/prometheus/api/v1/*` answers `{"status", "data"}` with Unix-seconds timestamps ' +
        "and Prometheus' errors, takes its parameters from the URL or a form-encoded POST body, " +
        "and takes `match[]` more than once (still refusing parameters Prometheus does not " +
        "define); `POST /api/v1/write` reads Remote-Write 1.0 (snappy-compressed protobuf); " +
        "`GET /metrics` answers the Prometheus text format or OpenMetrics. The agent " +
        "whitelist (`/api/v1/agents/whitelist`) answers in the original oxmon's envelope " +
        '(`{"err_code", "err_msg", "trace_id", "data"}`).' +
        (options.security
          ? "\n\nEach operation says who may call it: `security`, and `x-oxmon-access` " +
            "(`public`; `agent`: an agent token; `read` or `admin`: an API token or a dashboard " +
            "session of that scope; `admin-token`: admin, never granted without a credential). " +
            "Every request must name a host the server serves (else 421)."
          : ""),
    },
    tags: [...new Set(mounted.map((one) => one.tag))].map((name) => ({ name })),
    paths,
    components: {
      schemas,
      ...(options.security ? { securitySchemes: options.security.schemes } : {}),
    },
  };
}
