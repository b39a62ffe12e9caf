import assert from "node:assert/strict";
import { Hono } from "hono";
import { ApiError, errorBody } from "../api/errors.ts";
import { type DeliveryStore, openDeliveryStore } from "./delivery_store.ts";
import { createNotificationRoutes } from "./routes.ts";

/** Mounted the way the REST app mounts sub-apps, with its error rendering. */
function appWith(store: DeliveryStore): Hono {
  const app = new Hono();
  app.route(
    "/api/v1/notifications",
    createNotificationRoutes({ deliveries: (q) => store.query(q) }),
  );
  app.onError((error, c) => {
    if (error instanceof ApiError) {
      return c.json(errorBody(error.code, error.message), error.status);
    }
    return c.json(errorBody("internal", "internal error"), 500);
  });
  return app;
}

Deno.test("GET /deliveries lists delivery records newest first with the total", async (t) => {
  const store = openDeliveryStore(":memory:");
  try {
    for (let i = 0; i < 5; i++) {
      store.add({
        timeMs: Date.UTC(2026, 0, 2, 3, 4, i),
        channel: i % 2 ? "mail" : "hook",
        channelType: i % 2 ? "email" : "webhook",
        eventIds: [`e${i}`],
        severity: "critical",
        status: i === 4 ? "failed" : "sent",
        attempts: i === 4 ? 4 : 1,
        error: i === 4 ? "HTTP 503" : null,
      });
    }
    const app = appWith(store);
    await t.step("paging and filters", async () => {
      const res = await app.request(
        "/api/v1/notifications/deliveries?limit=2&offset=0&channel=hook",
      );
      assert.equal(res.status, 200);
      const body = await res.json();
      assert.equal(body.total, 3);
      assert.equal(body.limit, 2);
      assert.deepEqual(body.deliveries.map((d: { event_ids: string[] }) => d.event_ids[0]), [
        "e4",
        "e2",
      ]);
      assert.deepEqual(body.deliveries[0], {
        id: 5,
        time: "2026-01-02T03:04:04.000Z",
        channel: "hook",
        channel_type: "webhook",
        status: "failed",
        severity: "critical",
        event_ids: ["e4"],
        attempts: 4,
        error: "HTTP 503",
      });
      const sent = await (await app.request("/api/v1/notifications/deliveries?status=sent")).json();
      assert.equal(sent.total, 4);
    });
    await t.step("bad parameters are 400s naming the parameter", async () => {
      for (
        const [query, name] of [
          ["limit=abc", "limit"],
          ["limit=0", "limit"],
          ["limit=5000", "limit"],
          ["offset=-1", "offset"],
          ["status=lost", "status"],
          ["stauts=sent", "stauts"],
          ["limit=1&limit=2", "limit"],
        ]
      ) {
        const res = await app.request(`/api/v1/notifications/deliveries?${query}`);
        assert.equal(res.status, 400, query);
        const body = await res.json();
        assert.equal(body.code, "bad_request");
        assert.match(body.error, new RegExp(`"${name}"`));
      }
    });
  } finally {
    store.close();
  }
});
