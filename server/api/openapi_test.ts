/**
 * The OpenAPI document against the app it describes: a valid OpenAPI 3.1 document with one
 * operation for each route the app answers (and no other), each operation answering, each
 * declared query parameter accepted and an undeclared one refused.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { Validator } from "@seriousme/openapi-schema-validator";
import { createAlertRoutes, openAlertEngine } from "../alerts/mod.ts";
import { createNotificationRoutes } from "../notify/mod.ts";
import { DeliveryStore } from "../notify/delivery_store.ts";
import { createApiApp } from "./app.ts";
import { openApiPath } from "./openapi.ts";
import { openTestEnv } from "./testing.ts";
import { makeTempDir } from "../../tests/helpers/temp_dir.ts";

interface Operation {
  parameters?: { name: string; in: string }[];
  responses: Record<string, unknown>;
}
type Document = { paths: Record<string, Record<string, Operation>> };

Deno.test("GET /api/v1/openapi.json describes every route the app answers, as it answers", async (t) => {
  const env = await openTestEnv({ version: "9.8.7" });
  const dir = await makeTempDir("oxmon-openapi-");
  const alerts = openAlertEngine({
    rules: [],
    statePath: join(dir, "alerts.db"),
    clock: env.clock,
  });
  const deliveries = new DeliveryStore(":memory:");
  try {
    // Mounted as server.ts mounts them.
    const app = createApiApp({
      ...env.deps,
      mounts: {
        alerts: createAlertRoutes({ engine: alerts }),
        notifications: createNotificationRoutes({ deliveries: (q) => deliveries.query(q) }),
      },
    });
    const response = await app.request("/api/v1/openapi.json");
    assert.equal(response.status, 200);
    const document = await response.json() as Document;

    await t.step("it is a valid OpenAPI 3.1 document", async () => {
      const result = await new Validator().validate(document);
      assert.deepEqual(result.errors ?? [], []);
      assert.equal(result.valid, true);
    });

    await t.step("its operations are exactly the routes the app answers", () => {
      const answered = app.routes
        .filter((route) => route.method !== "ALL")
        .map((route) => `${route.method.toLowerCase()} ${openApiPath("", route.path)}`)
        .sort();
      const documented = Object.entries(document.paths)
        .flatMap(([path, methods]) => Object.keys(methods).map((method) => `${method} ${path}`))
        .sort();
      assert.deepEqual(documented, answered);
      for (
        const route of [
          "get /api/v1/health",
          "get /api/v1/agents/{id}/latest",
          "get /api/v1/alerts/history",
          "get /api/v1/notifications/deliveries",
          "get /api/v1/openapi.json",
          "get /",
        ]
      ) {
        assert.ok(documented.includes(route), `${route} is missing`);
      }
    });

    await t.step("each operation answers, takes its parameters and refuses others", async () => {
      for (const [path, methods] of Object.entries(document.paths)) {
        const url = path.replace(/\{[^}]+\}/g, "no-such-agent");
        for (const operation of Object.values(methods)) {
          const plain = await app.request(url);
          const body = await plain.text();
          assert.doesNotMatch(body, /No route for/, `${url} is documented but not answered`);
          assert.ok(String(plain.status) in operation.responses, `${url}: ${plain.status}`);
          for (const param of operation.parameters ?? []) {
            if (param.in !== "query") continue;
            const name = param.name.replace("<name>", "mount");
            const answer = await app.request(`${url}?${encodeURIComponent(name)}=1`);
            assert.doesNotMatch(
              await answer.text(),
              /unknown parameter/,
              `${url} refuses its documented parameter ${name}`,
            );
          }
          if (path === "/") continue;
          const refused = await app.request(`${url}?not_a_parameter=1`);
          assert.equal(refused.status, 400, `${url} accepts an undocumented parameter`);
          assert.match((await refused.json()).error, /unknown parameter "not_a_parameter"/);
        }
      }
    });
  } finally {
    alerts.close?.();
    deliveries.close();
    await env.close();
    await Deno.remove(dir, { recursive: true });
  }
});
