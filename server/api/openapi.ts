/**
 * The OpenAPI 3.1 document of the REST API, generated from the route declarations
 * (`routes.ts`) the app is built from; served at `GET /api/v1/openapi.json`.
 */
import { ERROR_CODES } from "./errors.ts";
import { pathParamNames, type RouteSpec } from "./routes.ts";

/** Routes declared for one mount point, e.g. `/api/v1/alerts`. */
export interface MountedRoutes {
  base: string;
  /** Groups the operations in the document (`agents`, `alerts`, …). */
  tag: string;
  routes: readonly RouteSpec[];
}

type Json = Record<string, unknown>;

/** `/api/v1` + `/agents/:id` → `/api/v1/agents/{id}`. */
export function openApiPath(base: string, path: string): string {
  const joined = `${base.replace(/\/$/, "")}${path === "/" ? "" : path}` || "/";
  return joined.replace(/:([A-Za-z_][A-Za-z0-9_]*)/g, "{$1}");
}

function operationId(method: string, path: string): string {
  const words = path.split(/[^A-Za-z0-9]+/).filter(Boolean);
  return method + words.map((word) => word[0].toUpperCase() + word.slice(1)).join("");
}

function operation(route: RouteSpec, tag: string, path: string): Json {
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
      description: param.prefix
        ? `${param.description} (\`${param.name}<name>=<value>\`, once per name)`
        : param.description,
      schema: param.schema ?? { type: "string" },
    });
  }
  const successTypes = [route.contentType ?? "application/json"].flat();
  const responses: Json = {};
  for (const [status, description] of Object.entries(route.responses)) {
    if (status === "204") {
      responses[status] = { description };
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
      content["application/json"] = { schema: { $ref: "#/components/schemas/Error" } };
    }
    responses[status] = { description, content };
  }
  const body = route.body;
  return {
    operationId: operationId(route.method, path),
    summary: route.summary,
    ...(route.description ? { description: route.description } : {}),
    tags: [tag],
    ...(parameters.length > 0 ? { parameters } : {}),
    ...(body
      ? {
        requestBody: {
          description: body.description,
          required: body.required ?? true,
          content: { "application/json": { schema: body.schema } },
        },
      }
      : {}),
    responses,
  };
}

/** The document for every mounted route. */
export function openApiDocument(mounted: readonly MountedRoutes[], version: string): Json {
  const paths: Record<string, Json> = {};
  for (const { base, tag, routes } of mounted) {
    for (const route of routes) {
      const path = openApiPath(base, route.path);
      paths[path] ??= {};
      paths[path][route.method] = operation(route, tag, path);
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
        "with a 400 naming them, as are unknown or mistyped fields of a request body.",
    },
    tags: [...new Set(mounted.map((one) => one.tag))].map((name) => ({ name })),
    paths,
    components: {
      schemas: {
        Error: {
          type: "object",
          required: ["error", "code"],
          properties: {
            error: { type: "string", description: "what went wrong, naming the bad parameter" },
            code: { type: "string", enum: [...ERROR_CODES] },
          },
        },
      },
    },
  };
}
