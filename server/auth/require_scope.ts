/**
 * Middleware a route module puts in front of routes it wants closed to lesser callers (the
 * certificate and check modules' `guardWrites`): a request whose granted scope does not reach
 * `scope` is refused. The access table asks the same of these routes already; this keeps a
 * module's writes closed should the table ever lose a rule, and a test holds the two together
 * (`scopeRequiredBy`).
 */
import type { MiddlewareHandler } from "hono";
import { clip } from "../../shared/log.ts";
import { errorBody } from "../api/errors.ts";
import { scopeReaches } from "./access.ts";
import type { ApiScope } from "./config.ts";

const REQUIRED = new WeakMap<MiddlewareHandler, ApiScope>();

/**
 * Refuses (401 without a credential, 403 with too small a scope) a request whose `apiScope` does
 * not reach `scope`. Needs `ApiAuth.middleware()` in front of it, which sets `apiScope`; without
 * it the request fails (500) rather than pass unchecked. Throws `TypeError` for another scope.
 */
export function requireScope(scope: ApiScope): MiddlewareHandler {
  if (scope !== "read" && scope !== "admin") {
    throw new TypeError(`Cannot require scope "${scope}": expected "read" or "admin"`);
  }
  const requireScopeMiddleware: MiddlewareHandler = async (c, next) => {
    const granted = c.get("apiScope");
    if (granted === undefined) {
      throw new Error(`requireScope("${scope}") runs without ApiAuth's middleware in front of it`);
    }
    if (!scopeReaches(granted, scope)) {
      const where = `${c.req.method} ${clip(c.req.path, 128)}`;
      if (granted === null) {
        c.header("www-authenticate", 'Bearer realm="oxmon"');
        return c.json(errorBody("unauthorized", `${where} needs the ${scope} scope`), 401);
      }
      return c.json(errorBody("forbidden", `${where} needs the ${scope} scope`), 403);
    }
    await next();
  };
  REQUIRED.set(requireScopeMiddleware, scope);
  return requireScopeMiddleware;
}

/** The scope a `requireScope` middleware asks for; undefined for any other middleware. */
export function scopeRequiredBy(middleware: MiddlewareHandler): ApiScope | undefined {
  return REQUIRED.get(middleware);
}
