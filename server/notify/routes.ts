/**
 * `GET /deliveries?limit=&offset=&channel=&status=`: the delivery record, newest first, with the
 * total for paging. Mounted by the REST app (e.g. under `/api/v1/notifications`); bad parameters
 * throw `badParameter`, rendered by the app's `onError`.
 */
import { Hono } from "hono";
import { toRfc3339 } from "../../shared/time.ts";
import { badParameter } from "../api/errors.ts";
import { checkParams } from "../api/params.ts";
import {
  DELIVERY_STATUSES,
  type DeliveryPage,
  type DeliveryQuery,
  type DeliveryStatus,
} from "./delivery_store.ts";

export interface NotificationRoutesDeps {
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

export function createNotificationRoutes(deps: NotificationRoutesDeps): Hono {
  const app = new Hono();
  app.get("/deliveries", (c) => {
    checkParams(new URL(c.req.url).searchParams, ["limit", "offset", "channel", "status"]);
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
  });
  return app;
}
