/**
 * The access table: what each route of the HTTP server needs, one line per declared route, written
 * as the OpenAPI document writes it (`GET /api/v1/agents/{id}`). It is the one source of truth:
 * the auth middleware (`api_auth.ts`) enforces it, the OpenAPI document states it for every
 * operation (`security`, `x-oxmon-access`, the 401/403/421 answers), and the app refuses to start
 * with a declared route the table does not name. A request the table does not match (a path no
 * route answers) needs `admin`: default deny.
 */
import type { ApiScope } from "./config.ts";
import { SESSION_COOKIE } from "./sessions.ts";

declare module "hono" {
  interface ContextVariableMap {
    /**
     * The scope `ApiAuth.middleware()` granted the request; null: none (only `public` and
     * `agent` routes answer). Unset without that middleware.
     */
    apiScope: ApiScope | null;
  }
}

/**
 * - `public`: anyone; the `Host` check still applies.
 * - `agent`: an agent's token, checked by the route itself against the agent ids it covers.
 * - `read`, `admin`: an API token or a dashboard session of that scope (admin reaches read
 *   routes too). A server without API tokens grants admin to every request it gets: it listens
 *   on loopback only.
 * - `admin-token`: admin, and never granted without a credential, not even on a loopback-only
 *   server without API tokens: these routes mint ingest credentials.
 */
export type Access = "public" | "agent" | "read" | "admin" | "admin-token";

/** Prometheus' query API reads with GET and with a form-encoded POST (long queries). */
const PROMETHEUS_READS = [
  "/query",
  "/query_range",
  "/series",
  "/labels",
  "/query_exemplars",
].flatMap((path) => [`GET /prometheus/api/v1${path}`, `POST /prometheus/api/v1${path}`]);

const TABLE: Readonly<Record<Access, readonly string[]>> = {
  public: [
    // Signing in and out; the dashboard's page and assets hold no data (`/` sends a stranger
    // to the form).
    "GET /login",
    "POST /login",
    "POST /logout",
    "GET /",
    "GET /assets/{name}",
    // For load balancers; without read it says only up or degraded.
    "GET /api/v1/health",
    // A heartbeat URL's token is the credential (cron jobs call it).
    "GET /api/v1/heartbeat/{token}",
    "POST /api/v1/heartbeat/{token}",
    "GET /api/v1/heartbeat/{token}/fail",
    "POST /api/v1/heartbeat/{token}/fail",
  ],
  agent: [
    // Prometheus remote write in: agent tokens, bound to the agent ids of the series.
    "POST /api/v1/write",
  ],
  read: [
    "GET /api/v1/openapi.json",
    "GET /api/v1/agents",
    "GET /api/v1/agents/{id}",
    "GET /api/v1/agents/{id}/latest",
    "GET /api/v1/metrics",
    "GET /api/v1/metrics/latest",
    "GET /api/v1/metrics/series",
    "GET /api/v1/metrics/names",
    "GET /api/v1/fleet",
    "GET /api/v1/alerts/rules",
    "GET /api/v1/alerts/active",
    "GET /api/v1/alerts/history",
    "GET /api/v1/certs/domains",
    "GET /api/v1/certs/domains/{id}",
    "GET /api/v1/certs/domains/{id}/history",
    "GET /api/v1/certs/status",
    "GET /api/v1/certs/status/{domain}",
    "GET /api/v1/checks",
    "GET /api/v1/checks/{name}",
    "GET /metrics",
    ...PROMETHEUS_READS,
    "GET /prometheus/api/v1/label/{name}/values",
    "GET /prometheus/api/v1/status/buildinfo",
    "GET /prometheus/api/v1/metadata",
  ],
  admin: [
    // Delivery records name channels, recipients and their errors.
    "GET /api/v1/notifications/deliveries",
    "POST /api/v1/certs/domains",
    "POST /api/v1/certs/domains/batch",
    "PUT /api/v1/certs/domains/{id}",
    "DELETE /api/v1/certs/domains/{id}",
    "POST /api/v1/certs/domains/{id}/check",
    "POST /api/v1/certs/check",
    "POST /api/v1/checks/{name}/run",
  ],
  "admin-token": [
    "GET /api/v1/agents/whitelist",
    "POST /api/v1/agents/whitelist",
    "GET /api/v1/agents/whitelist/{id}",
    "PUT /api/v1/agents/whitelist/{id}",
    "DELETE /api/v1/agents/whitelist/{id}",
    "POST /api/v1/agents/whitelist/{id}/token",
  ],
};

/** How much each access asks; where two rules match one request, the stricter one applies. */
const STRICTNESS: Readonly<Record<Access, number>> = {
  public: 0,
  agent: 1,
  read: 2,
  admin: 3,
  "admin-token": 4,
};

interface Rule {
  method: string;
  path: string;
  pattern: RegExp;
  access: Access;
}

const RULES: readonly Rule[] = (() => {
  const rules: Rule[] = [];
  const seen = new Set<string>();
  for (const [access, routes] of Object.entries(TABLE) as [Access, readonly string[]][]) {
    for (const route of routes) {
      if (seen.has(route)) {
        throw new TypeError(`Access table: ${route} is listed twice`);
      }
      seen.add(route);
      const [method, path] = route.split(" ");
      const pattern = new RegExp(
        `^${
          path.split(/\{[^}]+\}/).map((part) => part.replace(/[.*+?^${}()|[\]\\]/g, "\\$&"))
            .join("[^/]+")
        }$`,
      );
      rules.push({ method, path, pattern, access });
    }
  }
  return rules;
})();

/** Every rule as `METHOD /path` → access, e.g. for tests that hold it to the routes. */
export function accessTable(): ReadonlyMap<string, Access> {
  return new Map(RULES.map((rule) => [`${rule.method} ${rule.path}`, rule.access]));
}

/**
 * The rule for a declared route (`path` as OpenAPI writes it, `/agents/{id}`); undefined when the
 * table has none.
 */
export function accessOfRoute(method: string, path: string): Access | undefined {
  const upper = method.toUpperCase();
  return RULES.find((rule) => rule.method === upper && rule.path === path)?.access;
}

/**
 * What a request needs: the strictest rule matching its method and path (`/agents/whitelist`
 * matches both the whitelist's rule and `/agents/{id}`'s), `admin` when none does. `path` must be
 * the one the router matches (Hono's `c.req.path`, percent-decoded as the router decodes it), so
 * that `/agents/%77hitelist` is the whitelist here too. HEAD is answered as GET.
 */
export function requiredAccess(method: string, path: string): Access {
  const upper = method === "HEAD" ? "GET" : method.toUpperCase();
  let found: Access | undefined;
  for (const rule of RULES) {
    if (rule.method !== upper || !rule.pattern.test(path)) continue;
    if (found === undefined || STRICTNESS[rule.access] > STRICTNESS[found]) found = rule.access;
  }
  return found ?? "admin";
}

/** Whether a granted scope (null: no credential) reaches what a route needs. */
export function scopeReaches(scope: ApiScope | null, access: Access): boolean {
  if (access === "public" || access === "agent") return true;
  if (scope === null) return false;
  return access === "read" || scope === "admin";
}

/** The API scope an access asks of a caller's API token or session; undefined for none. */
export function scopeOf(access: Access): ApiScope | undefined {
  if (access === "read") return "read";
  if (access === "admin" || access === "admin-token") return "admin";
  return undefined;
}

type Json = Record<string, unknown>;

/**
 * How the OpenAPI document states the access table: the security schemes, and for each declared
 * route its `security`, `x-oxmon-access` and the answers the auth middleware may give it.
 */
export const ACCESS_SECURITY = {
  schemes: {
    apiToken: {
      type: "http",
      scheme: "bearer",
      description: "An `[[api_tokens]]` token. Its scope, `read` or `admin`, is what an " +
        "operation lists; `admin` reaches `read` operations too. A server without API tokens " +
        "listens on loopback only and grants `admin` to every request (except the agent " +
        "whitelist's).",
    },
    session: {
      type: "apiKey",
      in: "cookie",
      name: SESSION_COOKIE,
      description: "The dashboard's session after signing in at `/login` with an API token " +
        "(HttpOnly, SameSite=Strict), with that token's scope. A write with it must come from " +
        "this server's own pages (`Sec-Fetch-Site` or `Origin`).",
    },
    agentToken: {
      type: "http",
      scheme: "bearer",
      description: "An agent token (`[[agent_tokens]]` or issued by the agent whitelist), " +
        "bound to the agent ids it may write as.",
    },
  } satisfies Record<string, Json>,

  /** The route's access; throws `TypeError` for a route the table has no rule for. */
  of(method: string, path: string): {
    access: Access;
    security: Json[];
    responses: Readonly<Record<number, string>>;
  } {
    const access = accessOfRoute(method, path);
    if (access === undefined) {
      throw new TypeError(`No access rule for ${method.toUpperCase()} ${path}`);
    }
    const scope = scopeOf(access);
    const responses: Record<number, string> = {
      421: "the `Host` header names a host this server does not serve (`[http] allowed_hosts`)",
    };
    if (access === "agent") return { access, security: [{ agentToken: [] }], responses };
    if (scope === undefined) return { access, security: [], responses };
    responses[401] = access === "admin-token"
      ? "no admin API token or signed-in admin session (not even a server without API tokens " +
        "answers this without one)"
      : "no accepted API token or session";
    if (scope === "admin" || method.toLowerCase() !== "get") {
      responses[403] = scope === "admin"
        ? "the credential's scope is `read`, or a signed-in write came from another site"
        : "a signed-in request came from another site";
    }
    return {
      access,
      security: [{ apiToken: [scope] }, { session: [scope] }],
      responses,
    };
  },
};
