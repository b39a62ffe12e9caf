/**
 * REST routes of certificate monitoring, mounted at `/api/v1/certs`, as the original oxmon has
 * them. Reads: `GET /domains`, `/domains/:id`, `/domains/:id/history`, `/status`,
 * `/status/:domain`. Writes — every route that changes something or starts a check — are
 * declared together in `writes`, behind `guardWrites` (where API auth requires `admin`).
 */
import type { Hono, MiddlewareHandler } from "hono";
import { toRfc3339 } from "../../shared/time.ts";
import { BodyReader, readJson } from "../api/body.ts";
import { ApiError, badField, badParameter, notFound } from "../api/errors.ts";
import { optionalText, pageParams, pageQuery, parseInteger } from "../api/params.ts";
import { routeApp, type RouteSpec } from "../api/routes.ts";
import type { CertChecker } from "./checker.ts";
import { DEFAULT_CERT_PORT, domainNameProblem } from "./config.ts";
import {
  type CertDomain,
  type CertResult,
  type CertStore,
  type DomainChanges,
  DuplicateDomainError,
  type NewDomain,
} from "./store.ts";

export interface CertRouteDeps {
  store: CertStore;
  checker: Pick<CertChecker, "check" | "checkAll">;
  clock: { now(): number };
  /** Runs before every write route (e.g. requiring the `admin` scope). */
  guardWrites?: MiddlewareHandler;
}

/** Domains and results in one page: 100 unless asked, 1,000 at most. */
const CERT_PAGE = { defaultLimit: 100, maxLimit: 1000 };
const MAX_BATCH = 1000;
const MIN_INTERVAL_SECS = 60;
const MAX_INTERVAL_SECS = 31_536_000;

const PORT_SCHEMA = { type: "integer", minimum: 1, maximum: 65535 };
const INTERVAL_SCHEMA = {
  type: "integer",
  minimum: MIN_INTERVAL_SECS,
  maximum: MAX_INTERVAL_SECS,
  description: "seconds between checks of this domain; default `default_interval_secs`",
};
/** A domain to add; the handler reads exactly these fields (`BodyReader` refuses others). */
const NEW_DOMAIN_SCHEMA = {
  type: "object",
  required: ["domain"],
  additionalProperties: false,
  properties: {
    domain: { type: "string", description: "host name; stored lower-case" },
    port: { ...PORT_SCHEMA, description: `TLS port; default ${DEFAULT_CERT_PORT}` },
    check_interval_secs: INTERVAL_SCHEMA,
    note: { type: "string" },
  },
};
const DOMAIN_CHANGES_SCHEMA = {
  type: "object",
  additionalProperties: false,
  properties: {
    port: PORT_SCHEMA,
    enabled: { type: "boolean" },
    check_interval_secs: {
      ...INTERVAL_SCHEMA,
      type: ["integer", "null"],
      description: "`null` goes back to `default_interval_secs`",
    },
    note: { type: ["string", "null"], description: "`null` clears it" },
  },
};
const DOMAIN_FIELDS = Object.keys(NEW_DOMAIN_SCHEMA.properties);
const UPDATE_FIELDS = Object.keys(DOMAIN_CHANGES_SCHEMA.properties);

const PAGE = pageQuery(CERT_PAGE);
const DOMAIN_ID = { id: "domain id, as `POST /domains` answered it" };
const DOMAIN = "a domain: `{id, domain, port, enabled, check_interval_secs, note, source, " +
  "last_checked_at, created_at, updated_at}`";
const RESULT = "a check result: `{domain, port, is_valid, chain_valid, hostname_valid, " +
  "not_before, not_after, days_until_expiry, issuer, subject, san_list, …, error, checked_at}`";

export function createCertRoutes(deps: CertRouteDeps): Hono {
  const { store } = deps;
  const domainOr404 = (id: string): CertDomain => {
    const domain = store.domain(id);
    if (!domain) throw notFound("certificate domain", id);
    return domain;
  };
  const page = (params: URLSearchParams) => pageParams(params, CERT_PAGE);

  const reads: RouteSpec[] = [
    {
      method: "get",
      path: "/domains",
      summary: "Monitored domains",
      query: [
        { name: "enabled", description: "`true` or `false`", schema: { type: "boolean" } },
        { name: "search", description: "only domains whose name contains this" },
        ...PAGE,
      ],
      responses: {
        200: `\`{total, limit, offset, domains}\`; ${DOMAIN}`,
        400: "a bad parameter",
      },
      handler: (c) => {
        const params = new URL(c.req.url).searchParams;
        const enabledText = optionalText(params, "enabled");
        if (enabledText !== undefined && enabledText !== "true" && enabledText !== "false") {
          throw badParameter("enabled", `expected true or false, got "${enabledText}"`);
        }
        const { limit, offset } = page(params);
        const { total, domains } = store.listDomains({
          enabled: enabledText === undefined ? undefined : enabledText === "true",
          search: optionalText(params, "search"),
          limit,
          offset,
        });
        return c.json({ total, limit, offset, domains: domains.map(domainJson) });
      },
    },
    {
      method: "get",
      path: "/domains/:id",
      summary: "One monitored domain",
      pathParams: DOMAIN_ID,
      responses: { 200: DOMAIN, 404: "no domain with this id" },
      handler: (c) => c.json(domainJson(domainOr404(c.req.param("id")!))),
    },
    {
      method: "get",
      path: "/domains/:id/history",
      summary: "A domain's check results, newest first",
      pathParams: DOMAIN_ID,
      query: PAGE,
      responses: {
        200: `\`{total, limit, offset, results}\`; ${RESULT}`,
        400: "a bad parameter",
        404: "no domain with this id",
      },
      handler: (c) => {
        const params = new URL(c.req.url).searchParams;
        const domain = domainOr404(c.req.param("id")!);
        const { limit, offset } = page(params);
        const { total, results } = store.history(domain.id, limit, offset);
        return c.json({ total, limit, offset, results: results.map(resultJson) });
      },
    },
    {
      method: "get",
      path: "/status",
      summary: "The newest result of every enabled domain, soonest expiry first",
      responses: { 200: `\`{count, results}\`; ${RESULT}` },
      handler: (c) => {
        const results = store.latestResults().map(resultJson);
        return c.json({ count: results.length, results });
      },
    },
    {
      method: "get",
      path: "/status/:domain",
      summary: "The newest result of one domain",
      pathParams: { domain: "host name, any case" },
      query: [{
        name: "port",
        description: `only this port; without it, ${DEFAULT_CERT_PORT} first`,
        schema: PORT_SCHEMA,
      }],
      responses: {
        200: RESULT,
        400: "a bad parameter",
        404: "the domain is not monitored (on that port), or not checked yet",
      },
      handler: (c) => {
        const params = new URL(c.req.url).searchParams;
        const name = c.req.param("domain")!.toLowerCase();
        const port = params.has("port")
          ? parseInteger("port", params.get("port")!, { min: 1, max: 65535 })
          : undefined;
        const domains = store.domainsNamed(name).filter((d) =>
          port === undefined || d.port === port
        );
        if (domains.length === 0) {
          throw new ApiError(
            "not_found",
            `Domain "${name}"${port ? ` port ${port}` : ""} is not monitored`,
          );
        }
        const result = store.latestResult(domains[0].id);
        if (!result) {
          throw new ApiError("not_found", `No certificate check of "${name}" yet`);
        }
        return c.json(resultJson(result));
      },
    },
  ];

  // Every route that changes state or starts work, in one place.
  const writes: RouteSpec[] = [
    {
      method: "post",
      path: "/domains",
      summary: "Monitor a domain",
      body: { description: "the domain to add", schema: NEW_DOMAIN_SCHEMA },
      responses: {
        201: DOMAIN,
        400: "a bad body: not JSON, an unknown field, a bad value",
        409: "the domain is monitored on this port already",
      },
      handler: async (c) => {
        const domain = readNewDomain(new BodyReader(await readJson(c), "", DOMAIN_FIELDS));
        const [added] = addOr409(() => store.addDomains([domain], deps.clock.now()));
        return c.json(domainJson(added), 201);
      },
    },
    {
      method: "post",
      path: "/domains/batch",
      summary: "Monitor several domains, all or none",
      body: {
        description: `1 to ${MAX_BATCH} domains to add`,
        schema: {
          type: "object",
          required: ["domains"],
          additionalProperties: false,
          properties: {
            domains: { type: "array", minItems: 1, maxItems: MAX_BATCH, items: NEW_DOMAIN_SCHEMA },
          },
        },
      },
      responses: {
        201: "`{domains: [...]}`, each a domain as `POST /domains` answers it",
        400: "a bad body; the field is named, e.g. `domains[2].port`",
        409: "one of them is monitored already; none was added",
      },
      handler: async (c) => {
        const body = new BodyReader(await readJson(c), "", ["domains"]);
        const items = body.array("domains");
        if (items.length === 0) throw badField("domains", "expected at least one domain");
        if (items.length > MAX_BATCH) throw badField("domains", `at most ${MAX_BATCH} at once`);
        const domains = items.map((item, index) =>
          readNewDomain(new BodyReader(item, `domains[${index}]`, DOMAIN_FIELDS))
        );
        const added = addOr409(() => store.addDomains(domains, deps.clock.now()));
        return c.json({ domains: added.map(domainJson) }, 201);
      },
    },
    {
      method: "put",
      path: "/domains/:id",
      summary: "Change a domain added through the API",
      pathParams: DOMAIN_ID,
      body: {
        description: "the fields to change; others keep their value",
        schema: DOMAIN_CHANGES_SCHEMA,
      },
      responses: {
        200: DOMAIN,
        400: "a bad body",
        404: "no domain with this id",
        409: "the domain is listed in the server config, or the change makes a duplicate",
      },
      handler: async (c) => {
        const domain = ownedByApi(domainOr404(c.req.param("id")!));
        const body = new BodyReader(await readJson(c), "", UPDATE_FIELDS);
        const changes: DomainChanges = {};
        if (body.has("port")) changes.port = body.integer("port", { min: 1, max: 65535 });
        if (body.has("enabled")) changes.enabled = body.boolean("enabled");
        if (body.isNull("check_interval_secs")) changes.checkIntervalSecs = null;
        else if (body.has("check_interval_secs")) {
          changes.checkIntervalSecs = body.integer("check_interval_secs", {
            min: MIN_INTERVAL_SECS,
            max: MAX_INTERVAL_SECS,
          });
        }
        if (body.isNull("note")) changes.note = null;
        else if (body.has("note")) changes.note = body.string("note");
        const updated = addOr409(() => store.updateDomain(domain.id, changes, deps.clock.now()));
        return c.json(domainJson(updated ?? domainOr404(domain.id)));
      },
    },
    {
      method: "delete",
      path: "/domains/:id",
      summary: "Stop monitoring a domain added through the API",
      pathParams: DOMAIN_ID,
      responses: {
        204: "deleted, with its results",
        404: "no domain with this id",
        409: "the domain is listed in the server config",
      },
      handler: (c) => {
        const domain = ownedByApi(domainOr404(c.req.param("id")!));
        store.deleteDomain(domain.id);
        return c.body(null, 204);
      },
    },
    {
      method: "post",
      path: "/domains/:id/check",
      summary: "Check one domain now",
      pathParams: DOMAIN_ID,
      responses: { 200: RESULT, 404: "no domain with this id" },
      handler: async (c) => {
        const result = await deps.checker.check(domainOr404(c.req.param("id")!));
        return c.json(resultJson(result));
      },
    },
    {
      method: "post",
      path: "/check",
      summary: "Check every enabled domain now",
      responses: { 200: `\`{count, results}\`; ${RESULT}` },
      handler: async (c) => {
        const results = (await deps.checker.checkAll()).map(resultJson);
        return c.json({ count: results.length, results });
      },
    },
  ];
  const guard = deps.guardWrites ? [deps.guardWrites] : [];
  return routeApp([...reads, ...writes.map((route) => ({ ...route, middleware: guard }))]);
}

function readNewDomain(body: BodyReader): NewDomain {
  const name = body.string("domain").trim().toLowerCase();
  const problem = domainNameProblem(name);
  if (problem) throw badField(body.pathOf("domain"), problem);
  return {
    domain: name,
    port: body.has("port") ? body.integer("port", { min: 1, max: 65535 }) : DEFAULT_CERT_PORT,
    checkIntervalSecs: body.has("check_interval_secs")
      ? body.integer("check_interval_secs", { min: MIN_INTERVAL_SECS, max: MAX_INTERVAL_SECS })
      : null,
    note: body.optionalString("note") ?? null,
  };
}

function addOr409<T>(work: () => T): T {
  try {
    return work();
  } catch (error) {
    if (error instanceof DuplicateDomainError) throw new ApiError("conflict", error.message);
    throw error;
  }
}

function ownedByApi(domain: CertDomain): CertDomain {
  if (domain.source === "config") {
    throw new ApiError(
      "conflict",
      `Domain ${domain.domain}:${domain.port} is listed in [[cert_check.domains]] of the ` +
        "server config; change it there",
    );
  }
  return domain;
}

const time = (ms: number | null) => ms === null ? null : toRfc3339(ms);

export function domainJson(domain: CertDomain) {
  return {
    id: domain.id,
    domain: domain.domain,
    port: domain.port,
    enabled: domain.enabled,
    check_interval_secs: domain.checkIntervalSecs,
    note: domain.note,
    source: domain.source,
    last_checked_at: time(domain.lastCheckedMs),
    created_at: toRfc3339(domain.createdMs),
    updated_at: toRfc3339(domain.updatedMs),
  };
}

/** A check result with the original oxmon's field names, and the certificate's details. */
export function resultJson(result: CertResult) {
  const cert = result.certificate;
  return {
    id: result.id,
    domain_id: result.domainId,
    domain: result.domain,
    port: result.port,
    is_valid: result.isValid,
    chain_valid: result.chainValid,
    hostname_valid: cert?.hostnameValid ?? null,
    not_before: cert ? toRfc3339(cert.notBeforeMs) : null,
    not_after: cert ? toRfc3339(cert.notAfterMs) : null,
    days_until_expiry: result.daysUntilExpiry,
    issuer: cert?.issuer ?? null,
    subject: cert?.subject ?? null,
    san_list: cert?.subjectAltNames ?? null,
    serial_number: cert?.serialNumber ?? null,
    fingerprint_sha256: cert?.fingerprintSha256 ?? null,
    key_type: cert?.keyType ?? null,
    key_bits: cert?.keyBits ?? null,
    tls_version: cert?.tlsVersion ?? null,
    chain: cert?.chain ?? null,
    resolved_ips: cert?.resolvedAddresses ?? null,
    error: result.error,
    duration_ms: Math.round(result.durationMs * 10) / 10,
    checked_at: toRfc3339(result.checkedMs),
  };
}
