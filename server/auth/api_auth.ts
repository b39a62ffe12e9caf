/**
 * Who may read: every request passes a `Host` check (DNS rebinding), then carries either an
 * `Authorization: Bearer <api token>` or the dashboard's session cookie, whose scope must reach
 * what the access table (`access.ts`) says the route needs. `/api/v1/health` stays open for load
 * balancers but says no more than up or degraded without `read`; the login form lives at
 * `/login`.
 *
 * With no API token configured the server binds loopback only (see `config.ts`) and a request
 * without credentials gets `admin`: whoever can reach loopback on this machine is trusted (the
 * Host check keeps web pages of other sites out), so `deno task demo`, a local `curl` and the
 * whole dashboard work as before. Issuing agent tokens (the whitelist API, `admin-token` in the
 * table) always needs an admin API token: a local user must not be able to mint ingest
 * credentials.
 */
import type { Context, Hono, MiddlewareHandler } from "hono";
import { getCookie } from "hono/cookie";
import type { Clock } from "../../shared/clock.ts";
import { clip, type Logger } from "../../shared/log.ts";
import { readBodyLimited } from "../api/body.ts";
import { errorBody } from "../api/errors.ts";
import { routeApp } from "../api/routes.ts";
import { requiredAccess, scopeReaches } from "./access.ts";
import type { ApiScope, ApiTokenConfig } from "./config.ts";
import { LOGIN_CSP, loginPage } from "./login_page.ts";
import { SESSION_COOKIE, type SessionStore } from "./sessions.ts";
import { bearerToken, digestFromHex, findDigest, tokenDigest } from "./tokens.ts";

export interface ApiAuthOptions {
  tokens: readonly ApiTokenConfig[];
  /** Scope of a request without credentials; default none. */
  anonymousScope?: ApiScope;
  /** True when the server serves the `Host` header's name. */
  hostAllowed: (host: string | null) => boolean;
  sessions: SessionStore;
  /** Mark the cookie `Secure` (HTTPS). */
  secureCookie: boolean;
  clock: Clock;
  log: Logger;
}

export interface ApiAuthCounters {
  unauthenticated: number;
  forbidden: number;
  wrong_host: number;
  logins: number;
  failed_logins: number;
}

function hostOf(c: Context): string | null {
  return c.req.header("host") ?? null;
}

/** Same-origin check for cookie-authenticated writes (SameSite=Strict is the first line). */
function sameOrigin(c: Context): boolean {
  const site = c.req.header("sec-fetch-site");
  if (site !== undefined) return site === "same-origin" || site === "none";
  const origin = c.req.header("origin");
  if (origin === undefined) return false;
  try {
    return new URL(origin).host === hostOf(c);
  } catch {
    return false;
  }
}

export class ApiAuth {
  readonly #options: ApiAuthOptions;
  readonly #tokens: { name: string; scope: ApiScope; digest: Uint8Array }[];
  readonly counters: ApiAuthCounters = {
    unauthenticated: 0,
    forbidden: 0,
    wrong_host: 0,
    logins: 0,
    failed_logins: 0,
  };

  constructor(options: ApiAuthOptions) {
    this.#options = options;
    this.#tokens = options.tokens.map(({ name, scope, sha256 }) => ({
      name,
      scope,
      digest: digestFromHex(sha256),
    }));
  }

  /** Whether API tokens are configured (a sign-in is needed). */
  get required(): boolean {
    return this.#options.anonymousScope === undefined;
  }

  #tokenScope(token: string): { scope: ApiScope; name: string } | undefined {
    const index = findDigest(this.#tokens, tokenDigest(token));
    if (index === -1) return undefined;
    const { scope, name } = this.#tokens[index];
    return { scope, name };
  }

  /** The middleware: Host check, credentials, scope; sets `apiScope`. */
  middleware(): MiddlewareHandler {
    const { log, clock, sessions } = this.#options;
    const apiAuth: MiddlewareHandler = async (c, next) => {
      const host = hostOf(c);
      if (!this.#options.hostAllowed(host)) {
        this.counters.wrong_host++;
        log.warn("http request refused: host not served", { host: clip(host ?? "", 64) });
        return c.json(
          errorBody(
            "misdirected",
            `Host "${clip(host ?? "", 64)}" is not served here; add it to [http] allowed_hosts`,
          ),
          421,
        );
      }
      // The path the router matches, percent-decoded as it decodes it: `/agents/%77hitelist`
      // must need what `/agents/whitelist` needs.
      const path = c.req.path;
      const access = requiredAccess(c.req.method, path);
      // `agent` routes check their own (agent) credentials.
      const needsScope = access !== "public" && access !== "agent";
      let scope: ApiScope | null;
      let credentialed = true;
      const authorization = c.req.header("authorization");
      if (authorization !== undefined) {
        const token = bearerToken(authorization);
        const found = token === undefined ? undefined : this.#tokenScope(token);
        if (!found) {
          if (!needsScope) {
            c.set("apiScope", null);
            return await next();
          }
          this.counters.unauthenticated++;
          log.warn("api request refused: bearer token not accepted", { path: clip(path, 128) });
          return this.#unauthorized(c, "the bearer token is not accepted");
        }
        scope = found.scope;
      } else {
        const session = sessions.get(getCookie(c, SESSION_COOKIE), clock.now());
        if (session) {
          const writes = c.req.method !== "GET" && c.req.method !== "HEAD";
          if (writes && needsScope && !sameOrigin(c)) {
            this.counters.forbidden++;
            return c.json(
              errorBody("forbidden", "a signed-in write must come from this server's own pages"),
              403,
            );
          }
          scope = session.scope;
        } else {
          scope = this.#options.anonymousScope ?? null;
          credentialed = false;
        }
      }
      if (access === "admin-token" && !credentialed) {
        this.counters.unauthenticated++;
        return this.#unauthorized(c, `${c.req.method} ${clip(path, 128)} needs an admin API token`);
      }
      c.set("apiScope", scope);
      if (scope === null && path === "/" && (c.req.method === "GET" || c.req.method === "HEAD")) {
        return c.redirect("/login", 303);
      }
      if (scopeReaches(scope, access)) return await next();
      if (scope === null) {
        this.counters.unauthenticated++;
        return this.#unauthorized(
          c,
          "authentication required: send Authorization: Bearer <api token> or sign in at /login",
        );
      }
      this.counters.forbidden++;
      return c.json(
        errorBody("forbidden", `${c.req.method} ${clip(path, 128)} needs the admin scope`),
        403,
      );
    };
    return apiAuth;
  }

  #unauthorized(c: Context, message: string) {
    c.header("www-authenticate", 'Bearer realm="oxmon"');
    return c.json(errorBody("unauthorized", message), 401);
  }

  /** `GET /login` (the form), `POST /login` (sign in), `POST /logout`, declared. */
  routes(): Hono {
    const { sessions, clock, log } = this.#options;
    const cookieAttributes = (maxAgeSecs: number) =>
      `Path=/; HttpOnly; SameSite=Strict; Max-Age=${maxAgeSecs}` +
      (this.#options.secureCookie ? "; Secure" : "");
    const page = (c: Context, status: 200 | 401 | 403 | 400, error?: string) => {
      c.header("content-security-policy", LOGIN_CSP);
      c.header("cache-control", "no-store");
      return c.html(loginPage({ error, required: this.required }), status);
    };
    return routeApp([
      {
        method: "get",
        path: "/login",
        summary: "The dashboard's sign-in form",
        description: "One field for an API token; no script, nothing loaded from elsewhere.",
        contentType: "text/html",
        responses: { 200: "the form" },
        handler: (c) => page(c, 200),
      },
      {
        method: "post",
        path: "/login",
        summary: "Sign in to the dashboard",
        description: "Trades an API token for a session cookie (`oxmon_session`: HttpOnly, " +
          "SameSite=Strict, Secure over HTTPS, lasting `[http] session_ttl_secs`) with the " +
          "token's scope. Errors answer the form again with the reason.",
        body: {
          description: "The form's one field",
          mediaType: "application/x-www-form-urlencoded",
          schema: {
            type: "object",
            required: ["token"],
            properties: { token: { type: "string", description: "an `[[api_tokens]]` token" } },
          },
        },
        errorContentType: "text/html",
        responses: {
          303: "signed in: `Set-Cookie` with the session, on to `/`",
          400: "not a form-encoded body of at most 8 KiB",
          401: "the token is not accepted",
          403: "the form was posted from another site",
        },
        handler: async (c) => {
          const origin = c.req.header("origin");
          if (origin !== undefined && origin !== "null" && !sameOrigin(c)) {
            return page(c, 403, "Sign in from this server's own page.");
          }
          const form = await readForm(c.req.raw, 8 * 1024);
          if (!form) return page(c, 400, "The form could not be read.");
          const token = (form.get("token") ?? "").trim();
          const found = token === "" ? undefined : this.#tokenScope(token);
          if (!found) {
            this.counters.failed_logins++;
            log.warn("dashboard sign-in refused");
            return page(c, 401, "That token is not accepted.");
          }
          this.counters.logins++;
          const id = sessions.create(found.scope, found.name, clock.now());
          log.info("dashboard sign-in", { token: found.name, scope: found.scope });
          c.header(
            "set-cookie",
            `${SESSION_COOKIE}=${id}; ${cookieAttributes(Math.floor(sessions.ttlMs / 1000))}`,
          );
          return c.redirect("/", 303);
        },
      },
      {
        method: "post",
        path: "/logout",
        summary: "Sign out of the dashboard",
        description: "Ends the session and clears its cookie.",
        responses: { 303: "signed out, on to `/login`" },
        handler: (c) => {
          sessions.delete(getCookie(c, SESSION_COOKIE));
          c.header("set-cookie", `${SESSION_COOKIE}=; ${cookieAttributes(0)}`);
          return c.redirect("/login", 303);
        },
      },
    ]);
  }
}

/** An urlencoded form of at most `maxBytes`, or undefined. */
async function readForm(request: Request, maxBytes: number): Promise<URLSearchParams | undefined> {
  const type = request.headers.get("content-type") ?? "";
  if (!type.startsWith("application/x-www-form-urlencoded") || !request.body) return undefined;
  const bytes = await readBodyLimited(request, maxBytes);
  return bytes && new URLSearchParams(new TextDecoder().decode(bytes));
}
