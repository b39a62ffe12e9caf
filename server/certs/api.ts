/**
 * REST routes of certificate monitoring, mounted at `/api/v1/certs`, as the original oxmon has
 * them. Reads: `GET /domains`, `/domains/:id`, `/domains/:id/history`, `/status`,
 * `/status/:domain`. Writes — every route that changes something or starts a check — are
 * declared together in `writeRoutes`, behind `guardWrites` (where API auth requires `admin`).
 */
import { Hono, type MiddlewareHandler } from "hono";
import { toRfc3339 } from "../../shared/time.ts";
import { BodyReader, readJson } from "../api/body.ts";
import { ApiError, badField, badParameter, notFound } from "../api/errors.ts";
import { checkParams, optionalText, parseInteger } from "../api/params.ts";
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

const DEFAULT_LIMIT = 100;
const MAX_LIMIT = 1000;
const MAX_BATCH = 1000;
const DOMAIN_FIELDS = ["domain", "port", "check_interval_secs", "note"];
const UPDATE_FIELDS = ["port", "enabled", "check_interval_secs", "note"];

export function createCertRoutes(deps: CertRouteDeps): Hono {
  const { store } = deps;
  const domainOr404 = (id: string): CertDomain => {
    const domain = store.domain(id);
    if (!domain) throw notFound("certificate domain", id);
    return domain;
  };
  const page = (params: URLSearchParams) => {
    const limit = params.get("limit");
    const offset = params.get("offset");
    return {
      limit: limit === null
        ? DEFAULT_LIMIT
        : parseInteger("limit", limit, { min: 1, max: MAX_LIMIT }),
      offset: offset === null ? 0 : parseInteger("offset", offset),
    };
  };

  const reads = new Hono()
    .get("/domains", (c) => {
      const params = new URL(c.req.url).searchParams;
      checkParams(params, ["enabled", "search", "limit", "offset"]);
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
    })
    .get("/domains/:id", (c) => {
      checkParams(new URL(c.req.url).searchParams, []);
      return c.json(domainJson(domainOr404(c.req.param("id"))));
    })
    .get("/domains/:id/history", (c) => {
      const params = new URL(c.req.url).searchParams;
      checkParams(params, ["limit", "offset"]);
      const domain = domainOr404(c.req.param("id"));
      const { limit, offset } = page(params);
      const { total, results } = store.history(domain.id, limit, offset);
      return c.json({ total, limit, offset, results: results.map(resultJson) });
    })
    .get("/status", (c) => {
      checkParams(new URL(c.req.url).searchParams, []);
      const results = store.latestResults().map(resultJson);
      return c.json({ count: results.length, results });
    })
    .get("/status/:domain", (c) => {
      const params = new URL(c.req.url).searchParams;
      checkParams(params, ["port"]);
      const name = c.req.param("domain").toLowerCase();
      const port = params.has("port")
        ? parseInteger("port", params.get("port")!, { min: 1, max: 65535 })
        : undefined;
      const domains = store.domainsNamed(name).filter((d) => port === undefined || d.port === port);
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
    });

  // Every route that changes state or starts work, in one place.
  const writes = new Hono();
  if (deps.guardWrites) writes.use("*", deps.guardWrites);
  writes
    .post("/domains", async (c) => {
      checkParams(new URL(c.req.url).searchParams, []);
      const domain = readNewDomain(new BodyReader(await readJson(c), "", DOMAIN_FIELDS));
      const [added] = addOr409(() => store.addDomains([domain], deps.clock.now()));
      return c.json(domainJson(added), 201);
    })
    .post("/domains/batch", async (c) => {
      checkParams(new URL(c.req.url).searchParams, []);
      const body = new BodyReader(await readJson(c), "", ["domains"]);
      const items = body.array("domains");
      if (items.length === 0) throw badField("domains", "expected at least one domain");
      if (items.length > MAX_BATCH) throw badField("domains", `at most ${MAX_BATCH} at once`);
      const domains = items.map((item, index) =>
        readNewDomain(new BodyReader(item, `domains[${index}]`, DOMAIN_FIELDS))
      );
      const added = addOr409(() => store.addDomains(domains, deps.clock.now()));
      return c.json({ domains: added.map(domainJson) }, 201);
    })
    .put("/domains/:id", async (c) => {
      checkParams(new URL(c.req.url).searchParams, []);
      const domain = ownedByApi(domainOr404(c.req.param("id")));
      const body = new BodyReader(await readJson(c), "", UPDATE_FIELDS);
      const changes: DomainChanges = {};
      if (body.has("port")) changes.port = body.integer("port", { min: 1, max: 65535 });
      if (body.has("enabled")) changes.enabled = body.boolean("enabled");
      if (body.isNull("check_interval_secs")) changes.checkIntervalSecs = null;
      else if (body.has("check_interval_secs")) {
        changes.checkIntervalSecs = body.integer("check_interval_secs", {
          min: 60,
          max: 31_536_000,
        });
      }
      if (body.isNull("note")) changes.note = null;
      else if (body.has("note")) changes.note = body.string("note");
      const updated = addOr409(() => store.updateDomain(domain.id, changes, deps.clock.now()));
      return c.json(domainJson(updated ?? domainOr404(domain.id)));
    })
    .delete("/domains/:id", (c) => {
      checkParams(new URL(c.req.url).searchParams, []);
      const domain = ownedByApi(domainOr404(c.req.param("id")));
      store.deleteDomain(domain.id);
      return c.body(null, 204);
    })
    .post("/domains/:id/check", async (c) => {
      checkParams(new URL(c.req.url).searchParams, []);
      const result = await deps.checker.check(domainOr404(c.req.param("id")));
      return c.json(resultJson(result));
    })
    .post("/check", async (c) => {
      checkParams(new URL(c.req.url).searchParams, []);
      const results = (await deps.checker.checkAll()).map(resultJson);
      return c.json({ count: results.length, results });
    });

  return new Hono().route("/", reads).route("/", writes);
}

function readNewDomain(body: BodyReader): NewDomain {
  const name = body.string("domain").trim().toLowerCase();
  const problem = domainNameProblem(name);
  if (problem) throw badField(body.pathOf("domain"), problem);
  return {
    domain: name,
    port: body.has("port") ? body.integer("port", { min: 1, max: 65535 }) : DEFAULT_CERT_PORT,
    checkIntervalSecs: body.has("check_interval_secs")
      ? body.integer("check_interval_secs", { min: 60, max: 31_536_000 })
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
