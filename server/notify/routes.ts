/**
 * `GET /deliveries?limit=&offset=&channel=&status=`: the delivery record, newest first, with the
 * total for paging. Mounted by the REST app (e.g. under `/api/v1/notifications`); bad parameters
 * throw `badParameter`, rendered by the app's `onError`.
 */
import type { Hono } from "hono";
import { toRfc3339 } from "../../shared/time.ts";
import { badParameter } from "../api/errors.ts";
import { routeApp } from "../api/routes.ts";
import {
  DELIVERY_STATUSES,
  type DeliveryPage,
  type DeliveryQuery,
  type DeliveryStatus,
} from "./delivery_store.ts";

export interface NotificationRouteDeps {
  deliveries(query: DeliveryQuery): DeliveryPage;
}

export const MAX_DELIVERY_PAGE = 1_000;

function integerParam(value: string | undefined, name: string, fallback: number, max: number) {
  if (value === undefined || value === "") return fallback;
  if (!/^\d+$/.test(value) || Number(value) > max) {
    throw badParameter(name, `expected an integer from 0 to ${max}, got "${value}"`);
  }
  return Number(value);
}

export function createNotificationRoutes(deps: NotificationRouteDeps): Hono {
  return routeApp([{
    method: "get",
    path: "/deliveries",
    summary: "The delivery record, newest first",
    description: "One record per notification: sent, failed, silenced or dropped, with the " +
      "attempts made and the last error. Records are kept 30 days.",
    query: [
      {
        name: "limit",
        description: `1 to ${MAX_DELIVERY_PAGE}, default 100`,
        schema: { type: "integer", minimum: 1, maximum: MAX_DELIVERY_PAGE },
      },
      { name: "offset", description: "default 0", schema: { type: "integer", minimum: 0 } },
      { name: "channel", description: "channel name, e.g. `webhook-1`" },
      { name: "status", description: DELIVERY_STATUSES.map((s) => `\`${s}\``).join(", ") },
    ],
    responses: {
      200: "`{total, limit, offset, deliveries: [{id, time, channel, channel_type, status, " +
        "severity, event_ids, attempts, error}]}`",
      400: "a bad parameter",
    },
    handler: (c) => {
      const limit = integerParam(c.req.query("limit"), "limit", 100, MAX_DELIVERY_PAGE);
      if (limit === 0) throw badParameter("limit", `expected 1 to ${MAX_DELIVERY_PAGE}, got 0`);
      const offset = integerParam(c.req.query("offset"), "offset", 0, Number.MAX_SAFE_INTEGER);
      const channel = c.req.query("channel") || undefined;
      const status = c.req.query("status") || undefined;
      if (status !== undefined && !(DELIVERY_STATUSES as readonly string[]).includes(status)) {
        throw badParameter(
          "status",
          `expected one of ${DELIVERY_STATUSES.join(", ")}, got "${status}"`,
        );
      }
      const page = deps.deliveries({
        limit,
        offset,
        channel,
        status: status as DeliveryStatus | undefined,
      });
      return c.json({
        total: page.total,
        limit,
        offset,
        deliveries: page.records.map((record) => ({
          id: record.id,
          time: toRfc3339(record.timeMs),
          channel: record.channel,
          channel_type: record.channelType,
          status: record.status,
          severity: record.severity,
          event_ids: record.eventIds,
          attempts: record.attempts,
          error: record.error,
        })),
      });
    },
  }]);
}
