/**
 * The OpenAPI document against the app it describes: a valid OpenAPI 3.1 document with one
 * operation for each route the app answers (and no other), each operation answering, each
 * declared query parameter accepted and an undeclared one refused.
 */
import assert from "node:assert/strict";
import { Validator } from "@seriousme/openapi-schema-validator";
import { accessOfRoute, scopeOf } from "../auth/access.ts";
import { openApiPath } from "./openapi.ts";
import { openFullApi } from "../../tests/helpers/full_api.ts";

interface Operation {
  security?: Record<string, string[]>[];
  "x-oxmon-access"?: string;
  parameters?: { name: string; in: string; schema: { type: string }; explode?: boolean }[];
  requestBody?: { content: Record<string, { schema: unknown }> };
  responses: Record<string, unknown>;
}
type Document = {
  paths: Record<string, Record<string, Operation>>;
  components: { securitySchemes?: Record<string, { type: string }> };
};

Deno.test("GET /api/v1/openapi.json describes every route the app answers, as it answers", async (t) => {
  // Every route module the server mounts, as server.ts mounts them.
  const { app, request, close } = await openFullApi({ version: "9.8.7" });
  try {
    const response = await request("/api/v1/openapi.json");
    assert.equal(response.status, 200);
    const document = await response.json() as Document;

    await t.step("it is a valid OpenAPI 3.1 document", async () => {
      const result = await new Validator().validate(document);
      assert.deepEqual(result.errors ?? [], []);
      assert.equal(result.valid, true);
    });

    await t.step("its operations are exactly the routes the app answers", () => {
      const answered = [
        ...new Set(
          app.routes
            .filter((route) => route.method !== "ALL")
            .map((route) => `${route.method.toLowerCase()} ${openApiPath("", route.path)}`),
        ),
      ].sort();
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
          "get /api/v1/fleet",
          "post /api/v1/certs/domains",
          "delete /api/v1/certs/domains/{id}",
          "post /api/v1/checks/{name}/run",
          "post /api/v1/heartbeat/{token}/fail",
          "get /api/v1/openapi.json",
          "get /assets/{name}",
          "get /",
          "get /api/v1/metrics/latest",
          "post /api/v1/write",
          "get /metrics",
          "get /prometheus/api/v1/query",
          "post /prometheus/api/v1/query_range",
          "get /prometheus/api/v1/label/{name}/values",
          "get /login",
          "post /login",
          "post /logout",
          "get /api/v1/agents/whitelist",
          "post /api/v1/agents/whitelist",
          "put /api/v1/agents/whitelist/{id}",
          "post /api/v1/agents/whitelist/{id}/token",
        ]
      ) {
        assert.ok(documented.includes(route), `${route} is missing`);
      }
    });

    await t.step("each operation states the scope the access table gives it", () => {
      const schemes = Object.keys(document.components.securitySchemes ?? {}).sort();
      assert.deepEqual(schemes, ["agentToken", "apiToken", "session"]);
      for (const [path, methods] of Object.entries(document.paths)) {
        for (const [method, operation] of Object.entries(methods)) {
          const where = `${method.toUpperCase()} ${path}`;
          const access = accessOfRoute(method, path);
          assert.ok(access, `${where} has no access rule`);
          assert.equal(operation["x-oxmon-access"], access, where);
          const scope = scopeOf(access);
          const expected = access === "agent"
            ? [{ agentToken: [] }]
            : scope
            ? [{ apiToken: [scope] }, { session: [scope] }]
            : [];
          assert.deepEqual(operation.security, expected, where);
          assert.ok("421" in operation.responses, `${where}: no 421`);
          if (scope) assert.ok("401" in operation.responses, `${where}: no 401`);
        }
      }
    });

    await t.step("routes that read a JSON body describe it", () => {
      for (
        const [method, path] of [
          ["post", "/api/v1/certs/domains"],
          ["post", "/api/v1/certs/domains/batch"],
          ["put", "/api/v1/certs/domains/{id}"],
        ]
      ) {
        const schema = document.paths[path][method].requestBody?.content["application/json"]
          ?.schema as { properties?: Record<string, unknown> } | undefined;
        assert.ok(schema?.properties, `${method} ${path} has no body schema`);
      }
    });

    await t.step(
      "Prometheus' conventions are declared: match[] repeats, forms, binary",
      async () => {
        const match = document.paths["/prometheus/api/v1/series"].get.parameters
          ?.find((param) => param.name === "match[]");
        assert.equal(match?.schema.type, "array");
        assert.equal(match?.explode, true);
        const form = document.paths["/prometheus/api/v1/query_range"].post.requestBody?.content;
        assert.ok(form?.["application/x-www-form-urlencoded"], "query_range takes a form body");
        const write = document.paths["/api/v1/write"].post.requestBody?.content;
        assert.deepEqual(write?.["application/x-protobuf"]?.schema, {
          type: "string",
          format: "binary",
        });

        const twice = await request(
          `/prometheus/api/v1/series?match[]=${encodeURIComponent("oxmon_cpu_usage_percent")}` +
            `&match[]=${encodeURIComponent('{__name__="up"}')}`,
        );
        assert.equal(twice.status, 200, await twice.clone().text());
        const posted = await request("/prometheus/api/v1/query", {
          method: "POST",
          headers: { "content-type": "application/x-www-form-urlencoded" },
          body: new URLSearchParams({ query: "1+1", time: "60" }).toString(),
        });
        assert.deepEqual((await posted.json()).data, { resultType: "scalar", result: [60, "2"] });
        for (
          const [url, name] of [
            ["/prometheus/api/v1/query?query=1&query=2", "query"],
            ["/prometheus/api/v1/labels?start=1&start=2", "start"],
            ["/prometheus/api/v1/query?query=1&grafana_typo=1", "grafana_typo"],
          ]
        ) {
          const refused = await request(url);
          assert.equal(refused.status, 400, url);
          const body = await refused.json();
          assert.equal(body.errorType, "bad_data", url);
          assert.match(body.error, new RegExp(`"${name}"`), url);
        }
      },
    );

    await t.step("each operation answers, takes its parameters and refuses others", async () => {
      for (const [path, methods] of Object.entries(document.paths)) {
        const url = path.replace(/\{[^}]+\}/g, "no-such-agent");
        for (const [method, operation] of Object.entries(methods)) {
          const where = `${method.toUpperCase()} ${url}`;
          const call = (query = "") => request(url + query, { method });
          const plain = await call();
          const body = await plain.text();
          assert.doesNotMatch(body, /No route for/, `${where} is documented but not answered`);
          assert.ok(String(plain.status) in operation.responses, `${where}: ${plain.status}`);
          for (const param of operation.parameters ?? []) {
            if (param.in !== "query") continue;
            const name = param.name.replace("<name>", "mount");
            const answer = await call(`?${encodeURIComponent(name)}=1`);
            assert.doesNotMatch(
              await answer.text(),
              /unknown parameter/,
              `${where} refuses its documented parameter ${name}`,
            );
          }
          if (path === "/") continue;
          const refused = await call("?not_a_parameter=1");
          assert.equal(refused.status, 400, `${where} accepts an undocumented parameter`);
          assert.match((await refused.json()).error, /unknown parameter "not_a_parameter"/);
        }
      }
    });
  } finally {
    await close();
  }
});
