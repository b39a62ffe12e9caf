/**
 * `/api/v1/agents/whitelist`: the original oxmon's run-time agent token API, so a migrating
 * user's tooling keeps working. Successful answers use the original's envelope
 * (`{"err_code": 0, "err_msg": "success", "trace_id": "...", "data": ...}`); errors use this
 * server's error format with the original's status codes (400, 401, 403, 404, 409). Every route
 * needs the `admin` scope (enforced by the app's auth middleware).
 *
 * A token is shown once, in the answer that issues or rotates it; only its SHA-256 is stored.
 */
import { randomUUID } from "node:crypto";
import { Hono } from "hono";
import type { Clock } from "../../shared/clock.ts";
import type { Logger } from "../../shared/log.ts";
import type { AgentRegistry } from "../agents/types.ts";
import { agentStatus } from "../api/_deps.ts";
import { rfc3339 } from "../api/_time.ts";
import { ApiError, notFound } from "../api/errors.ts";
import { checkParams, parseInteger } from "../api/params.ts";
import { clip } from "../../shared/log.ts";
import {
  WhitelistConflictError,
  type WhitelistEntry,
  type WhitelistStore,
} from "./whitelist_store.ts";

export interface WhitelistRoutesDeps {
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
const MAX_PAGE = 1000;

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

export function whitelistRoutes(deps: WhitelistRoutesDeps): Hono {
  const { store, registry, clock, log } = deps;
  const detail = (entry: WhitelistEntry, nowMs: number) => {
    const agent = registry.get(entry.agentId);
    const interval = entry.collectionIntervalSecs ?? deps.agentIntervalSecs;
    return {
      id: entry.id,
      agent_id: entry.agentId,
      created_at: rfc3339(entry.createdMs),
      updated_at: rfc3339(entry.updatedMs),
      description: entry.description,
      token: null,
      collection_interval_secs: entry.collectionIntervalSecs,
      last_seen: agent ? rfc3339(agent.lastSeenMs) : null,
      status: agent ? agentStatus(agent.lastSeenMs, nowMs, interval) : "unknown",
    };
  };
  const entryOf = (id: string) => {
    const entry = store.get(id);
    if (!entry) throw notFound("whitelist entry", clip(id, 64));
    return entry;
  };

  return new Hono()
    .post("/", async (c) => {
      const body = await jsonBody(c.req.raw);
      checkKeys(body, ["agent_id", "description", "collection_interval_secs"]);
      const agentId = body.agent_id;
      if (
        typeof agentId !== "string" || agentId === "" || agentId.length > deps.maxAgentIdLength ||
        !AGENT_ID.test(agentId)
      ) {
        throw new ApiError(
          "bad_request",
          `agent_id: expected 1 to ${deps.maxAgentIdLength} letters, digits, ".", "_", "-" or ":"`,
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
        if (error instanceof WhitelistConflictError) throw new ApiError("conflict", error.message);
        throw error;
      }
      log.info("agent token issued", { agent_id: agentId, id: issued.entry.id });
      return c.json(
        envelope({
          id: issued.entry.id,
          agent_id: agentId,
          token: issued.token,
          created_at: rfc3339(issued.entry.createdMs),
        }),
        201,
      );
    })
    .get("/", (c) => {
      const params = new URL(c.req.url).searchParams;
      checkParams(params, ["limit", "offset", "agent_id__contains", "description__contains"]);
      const limitText = params.get("limit");
      const offsetText = params.get("offset");
      const limit = limitText === null
        ? 20
        : parseInteger("limit", limitText, { min: 1, max: MAX_PAGE });
      const offset = offsetText === null ? 0 : parseInteger("offset", offsetText);
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
    })
    .get("/:id", (c) => c.json(envelope(detail(entryOf(c.req.param("id")), clock.now()))))
    .put("/:id", async (c) => {
      const id = c.req.param("id");
      const body = await jsonBody(c.req.raw);
      checkKeys(body, ["description", "collection_interval_secs"]);
      const fields = {
        description: optionalDescription(body),
        collectionIntervalSecs: optionalInterval(body),
      };
      if (!store.update(id, fields, clock.now())) throw notFound("whitelist entry", clip(id, 64));
      return c.json(envelope({ id }));
    })
    .post("/:id/token", (c) => {
      const id = c.req.param("id");
      const rotated = store.rotate(id, clock.now());
      if (!rotated) throw notFound("whitelist entry", clip(id, 64));
      log.info("agent token rotated", { agent_id: rotated.agentId, id });
      return c.json(envelope({ agent_id: rotated.agentId, token: rotated.token }));
    })
    .delete("/:id", (c) => {
      const id = c.req.param("id");
      const deleted = store.delete(id);
      if (!deleted) throw notFound("whitelist entry", clip(id, 64));
      log.info("agent token revoked", { agent_id: deleted.agentId, id });
      return c.json(envelope({ id }));
    });
}
