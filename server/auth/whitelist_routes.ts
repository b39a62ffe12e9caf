/**
 * `/api/v1/agents/whitelist`: the original oxmon's run-time agent token API, so a migrating
 * user's tooling keeps working. Successful answers use the original's envelope
 * (`{"err_code": 0, "err_msg": "success", "trace_id": "...", "data": ...}`); errors use this
 * server's error format with the original's status codes (400, 401, 403, 404, 409). Every route
 * needs an admin credential (`admin-token` in the access table, enforced by the app's auth
 * middleware).
 *
 * A token is shown once, in the answer that issues or rotates it; only its SHA-256 is stored.
 */
import { randomUUID } from "node:crypto";
import type { Hono } from "hono";
import type { Clock } from "../../shared/clock.ts";
import type { Logger } from "../../shared/log.ts";
import type { AgentRegistry } from "../agents/types.ts";
import { agentStatus } from "../agents/status.ts";
import { toRfc3339 } from "../../shared/time.ts";
import { ApiError, notFound } from "../api/errors.ts";
import { pageParams, pageQuery } from "../api/params.ts";
import { routeApp, type RouteSpec } from "../api/routes.ts";
import { clip } from "../../shared/log.ts";
import {
  WhitelistConflictError,
  type WhitelistEntry,
  type WhitelistStore,
} from "./whitelist_store.ts";

export interface WhitelistRouteDeps {
  store: WhitelistStore;
  registry: AgentRegistry;
  clock: Clock;
  agentIntervalSecs: number;
  log: Logger;
  /** Most characters of an agent id (ingest's `max_agent_id_length`). */
  maxAgentIdLength: number;
}

const AGENT_ID = /^[A-Za-z0-9._:-]+$/;
const MAX_DESCRIPTION = 1024;
/** Entries in one page: 20 unless asked, 1,000 at most. */
const WHITELIST_PAGE = { defaultLimit: 20, maxLimit: 1000 };

function envelope(data: unknown) {
  return { err_code: 0, err_msg: "success", trace_id: randomUUID(), data };
}

async function jsonBody(request: Request): Promise<Record<string, unknown>> {
  const text = await request.text();
  if (text.length > 64 * 1024) throw new ApiError("bad_request", "body: at most 64 KiB");
  let body: unknown;
  try {
    body = text === "" ? {} : JSON.parse(text);
  } catch {
    throw new ApiError("bad_request", "body: expected a JSON object");
  }
  if (typeof body !== "object" || body === null || Array.isArray(body)) {
    throw new ApiError("bad_request", "body: expected a JSON object");
  }
  return body as Record<string, unknown>;
}

function optionalDescription(body: Record<string, unknown>): string | null | undefined {
  const value = body.description;
  if (value === undefined) return undefined;
  if (value === null) return null;
  if (typeof value !== "string" || value.length > MAX_DESCRIPTION) {
    throw new ApiError(
      "bad_request",
      `description: expected a string of at most ${MAX_DESCRIPTION} characters`,
    );
  }
  return value;
}

function optionalInterval(body: Record<string, unknown>): number | null | undefined {
  const value = body.collection_interval_secs;
  if (value === undefined) return undefined;
  if (value === null) return null;
  if (typeof value !== "number" || !Number.isInteger(value) || value < 1 || value > 86_400) {
    throw new ApiError(
      "bad_request",
      "collection_interval_secs: expected an integer from 1 to 86400",
    );
  }
  return value;
}

function checkKeys(body: Record<string, unknown>, allowed: readonly string[]): void {
  for (const key of Object.keys(body)) {
    if (!allowed.includes(key)) {
      throw new ApiError("bad_request", `body: unknown field "${clip(key, 64)}"`);
    }
  }
}

export function createWhitelistRoutes(deps: WhitelistRouteDeps): Hono {
  const { store, registry, clock, log } = deps;
  const detail = (entry: WhitelistEntry, nowMs: number) => {
    const agent = registry.get(entry.agentId);
    const interval = entry.collectionIntervalSecs ?? deps.agentIntervalSecs;
    return {
      id: entry.id,
      agent_id: entry.agentId,
      created_at: toRfc3339(entry.createdMs),
      updated_at: toRfc3339(entry.updatedMs),
      description: entry.description,
      token: null,
      collection_interval_secs: entry.collectionIntervalSecs,
      last_seen: agent ? toRfc3339(agent.lastSeenMs) : null,
      status: agent ? agentStatus(agent.lastSeenMs, nowMs, interval) : "unknown",
    };
  };
  const entryOf = (id: string) => {
    const entry = store.get(id);
    if (!entry) throw notFound("whitelist entry", clip(id, 64));
    return entry;
  };

  const ID = { id: "the whitelist entry's `id`" };
  const FIELDS = {
    description: { type: ["string", "null"], maxLength: MAX_DESCRIPTION },
    collection_interval_secs: {
      type: ["integer", "null"],
      minimum: 1,
      maximum: 86_400,
      description: "the agent's expected interval, for its status; `null`: the server's",
    },
  };
  const ENVELOPE = "the original's envelope, `{err_code: 0, err_msg, trace_id, data}`";
  const routes: RouteSpec[] = [
    {
      method: "post",
      path: "/",
      summary: "Issue an agent token",
      description: "Adds an agent id to the whitelist with a new token, shown only in this " +
        "answer; the agent sends it as `auth_token`.",
      body: {
        description: "The agent to admit",
        schema: {
          type: "object",
          required: ["agent_id"],
          additionalProperties: false,
          properties: {
            agent_id: {
              type: "string",
              pattern: AGENT_ID.source,
              maxLength: deps.maxAgentIdLength,
            },
            ...FIELDS,
          },
        },
      },
      responses: {
        201: `${ENVELOPE}; \`data: {id, agent_id, token, created_at}\``,
        400: "a bad or unknown field",
        409: "the agent id is already on the whitelist",
      },
      handler: async (c) => {
        const body = await jsonBody(c.req.raw);
        checkKeys(body, ["agent_id", "description", "collection_interval_secs"]);
        const agentId = body.agent_id;
        if (
          typeof agentId !== "string" || agentId === "" ||
          agentId.length > deps.maxAgentIdLength || !AGENT_ID.test(agentId)
        ) {
          throw new ApiError(
            "bad_request",
            `agent_id: expected 1 to ${deps.maxAgentIdLength} letters, digits, ".", "_", "-" ` +
              `or ":"`,
          );
        }
        const fields = {
          description: optionalDescription(body),
          collectionIntervalSecs: optionalInterval(body),
        };
        const nowMs = clock.now();
        let issued;
        try {
          issued = store.add(agentId, fields, nowMs);
        } catch (error) {
          if (error instanceof WhitelistConflictError) {
            throw new ApiError("conflict", error.message);
          }
          throw error;
        }
        log.info("agent token issued", { agent_id: agentId, id: issued.entry.id });
        return c.json(
          envelope({
            id: issued.entry.id,
            agent_id: agentId,
            token: issued.token,
            created_at: toRfc3339(issued.entry.createdMs),
          }),
          201,
        );
      },
    },
    {
      method: "get",
      path: "/",
      summary: "The whitelist",
      description: "Entries with their agent's last contact and status; tokens are never " +
        "shown again (`token: null`).",
      query: [
        ...pageQuery(WHITELIST_PAGE),
        { name: "agent_id__contains", description: "only agent ids containing this" },
        { name: "description__contains", description: "only descriptions containing this" },
      ],
      responses: {
        200: `${ENVELOPE}; \`data: {items, total, limit, offset}\``,
        400: "a bad parameter",
      },
      handler: (c) => {
        const params = new URL(c.req.url).searchParams;
        const { limit, offset } = pageParams(params, WHITELIST_PAGE);
        const page = store.list({
          limit,
          offset,
          agentIdContains: params.get("agent_id__contains") ?? undefined,
          descriptionContains: params.get("description__contains") ?? undefined,
        });
        const nowMs = clock.now();
        return c.json(envelope({
          items: page.entries.map((entry) => detail(entry, nowMs)),
          total: page.total,
          limit,
          offset,
        }));
      },
    },
    {
      method: "get",
      path: "/:id",
      summary: "One whitelist entry",
      pathParams: ID,
      responses: { 200: `${ENVELOPE}; \`data\`: the entry`, 404: "no entry with this id" },
      handler: (c) => c.json(envelope(detail(entryOf(c.req.param("id")!), clock.now()))),
    },
    {
      method: "put",
      path: "/:id",
      summary: "Change a whitelist entry",
      pathParams: ID,
      body: {
        description: "The fields to change; `null` clears one",
        schema: { type: "object", additionalProperties: false, properties: FIELDS },
      },
      responses: {
        200: `${ENVELOPE}; \`data: {id}\``,
        400: "a bad or unknown field",
        404: "no entry with this id",
      },
      handler: async (c) => {
        const id = c.req.param("id")!;
        const body = await jsonBody(c.req.raw);
        checkKeys(body, ["description", "collection_interval_secs"]);
        const fields = {
          description: optionalDescription(body),
          collectionIntervalSecs: optionalInterval(body),
        };
        if (!store.update(id, fields, clock.now())) {
          throw notFound("whitelist entry", clip(id, 64));
        }
        return c.json(envelope({ id }));
      },
    },
    {
      method: "post",
      path: "/:id/token",
      summary: "Rotate an agent token",
      description: "Issues a new token for the entry, shown only in this answer; the old one " +
        "stops working at once.",
      pathParams: ID,
      responses: {
        200: `${ENVELOPE}; \`data: {agent_id, token}\``,
        404: "no entry with this id",
      },
      handler: (c) => {
        const id = c.req.param("id")!;
        const rotated = store.rotate(id, clock.now());
        if (!rotated) throw notFound("whitelist entry", clip(id, 64));
        log.info("agent token rotated", { agent_id: rotated.agentId, id });
        return c.json(envelope({ agent_id: rotated.agentId, token: rotated.token }));
      },
    },
    {
      method: "delete",
      path: "/:id",
      summary: "Revoke an agent token",
      description: "Removes the entry; its token stops working at once.",
      pathParams: ID,
      responses: { 200: `${ENVELOPE}; \`data: {id}\``, 404: "no entry with this id" },
      handler: (c) => {
        const id = c.req.param("id")!;
        const deleted = store.delete(id);
        if (!deleted) throw notFound("whitelist entry", clip(id, 64));
        log.info("agent token revoked", { agent_id: deleted.agentId, id });
        return c.json(envelope({ id }));
      },
    },
  ];
  return routeApp(routes);
}
