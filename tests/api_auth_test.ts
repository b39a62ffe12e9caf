/**
 * Authenticated readers against the real server over real HTTP: every route of the app without a
 * token, with `read` and with `admin`; the Host check; health for strangers; the loopback-only
 * default without tokens.
 */
import assert from "node:assert/strict";
import { requiredAccess } from "../server/auth/access.ts";
import { parseServerConfig } from "../server/config.ts";
import { type TestServer, withTestServer } from "./helpers/server_process.ts";

const READ_TOKEN = "read-token-0123456789";
const ADMIN_TOKEN = "admin-token-0123456789";
const TOKENS = `
[[api_tokens]]
name = "dashboards"
token = "${READ_TOKEN}"
scope = "read"

[[api_tokens]]
name = "ops"
token = "${ADMIN_TOKEN}"
scope = "admin"
`;

/** Every route the server declares, with a concrete path (`:id` → `nobody`). */
function declaredRoutes(server: TestServer): { method: string; path: string }[] {
  const seen = new Set<string>();
  const routes: { method: string; path: string }[] = [];
  for (const route of server.routes) {
    if (route.method === "ALL") continue;
    const path = route.path.replace(/:[a-z_]+/gi, "nobody");
    const key = `${route.method} ${path}`;
    if (!seen.has(key)) {
      seen.add(key);
      routes.push({ method: route.method, path });
    }
  }
  return routes;
}

async function call(
  server: TestServer,
  method: string,
  path: string,
  token?: string,
): Promise<Response> {
  const headers: Record<string, string> = {};
  if (token) headers.authorization = `Bearer ${token}`;
  const body = method === "GET" || method === "HEAD" ? undefined : "{}";
  if (body) headers["content-type"] = "application/json";
  return await fetch(server.apiUrl + path, { method, headers, body, redirect: "manual" });
}

Deno.test("every API route refuses a request without a token, serves read tokens what they may read and admin the rest", async () => {
  await withTestServer(TOKENS, async (server) => {
    const routes = declaredRoutes(server);
    for (
      const expected of [
        "GET /api/v1/alerts/history",
        "GET /api/v1/notifications/deliveries",
        "POST /api/v1/agents/whitelist/nobody/token",
        "DELETE /api/v1/agents/whitelist/nobody",
      ]
    ) {
      assert.ok(routes.some((r) => `${r.method} ${r.path}` === expected), expected);
    }
    for (const { method, path } of routes) {
      const access = requiredAccess(method, path);
      const anonymous = await call(server, method, path);
      await anonymous.body?.cancel();
      // Remote write checks agent tokens itself (tests/agent_identity_test.ts).
      if (access === "public" || access === "agent") {
        assert.notEqual(anonymous.status, 401, `${method} ${path}`);
        continue;
      }
      if (path === "/" && method === "GET") continue;
      assert.equal(anonymous.status, 401, `${method} ${path} without a token`);
      assert.match(anonymous.headers.get("www-authenticate") ?? "", /^Bearer/);

      const wrong = await call(server, method, path, "not-a-token-at-all");
      await wrong.body?.cancel();
      assert.equal(wrong.status, 401, `${method} ${path} with a wrong token`);

      const read = await call(server, method, path, READ_TOKEN);
      await read.body?.cancel();
      if (access === "read") {
        assert.ok(![401, 403].includes(read.status), `${method} ${path} with read: ${read.status}`);
      } else assert.equal(read.status, 403, `${method} ${path} with read`);

      const admin = await call(server, method, path, ADMIN_TOKEN);
      await admin.body?.cancel();
      assert.ok(
        ![401, 403].includes(admin.status),
        `${method} ${path} with admin: ${admin.status}`,
      );
    }
  });
});

Deno.test("a percent-encoded path needs what the route it reaches needs", async () => {
  await withTestServer(TOKENS, async (server) => {
    // The router decodes `%77` to `w`: this is the whitelist, not an agent called "%77hitelist".
    for (const path of ["/api/v1/agents/%77hitelist", "/api/v1/notifications/%64eliveries"]) {
      const read = await call(server, "GET", path, READ_TOKEN);
      await read.body?.cancel();
      assert.equal(read.status, 403, `${path} with read`);
      const admin = await call(server, "GET", path, ADMIN_TOKEN);
      await admin.body?.cancel();
      assert.equal(admin.status, 200, `${path} with admin`);
    }
  });
  await withTestServer("", async (server) => {
    const minted = await call(server, "POST", "/api/v1/agents/%77hitelist");
    await minted.body?.cancel();
    assert.equal(minted.status, 401, "a loopback caller without a token mints no agent token");
  });
});

Deno.test("health tells a stranger only up or degraded, and a reader everything", async () => {
  await withTestServer(TOKENS, async (server) => {
    const anonymous = await (await call(server, "GET", "/api/v1/health")).json();
    assert.deepEqual(anonymous, { status: "ok" });
    const full = await (await call(server, "GET", "/api/v1/health", READ_TOKEN)).json();
    assert.equal(full.status, "ok");
    assert.equal(typeof full.agent_count, "number");
    assert.ok(Array.isArray(full.warnings));
  });
});

Deno.test("the dashboard sends a stranger to the sign-in form", async () => {
  await withTestServer(TOKENS, async (server) => {
    const response = await call(server, "GET", "/");
    await response.body?.cancel();
    assert.equal(response.status, 303);
    assert.equal(response.headers.get("location"), "/login");
  });
});

/** One raw HTTP/1.1 request with the given Host header; returns the status line's code. */
async function statusWithHost(port: number, host: string): Promise<number> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  try {
    await conn.write(
      new TextEncoder().encode(
        `GET /api/v1/agents HTTP/1.1\r\nHost: ${host}\r\nAuthorization: Bearer ${READ_TOKEN}\r\n` +
          "Connection: close\r\n\r\n",
      ),
    );
    const buffer = new Uint8Array(1024);
    const read = await conn.read(buffer);
    const line = new TextDecoder().decode(buffer.subarray(0, read ?? 0)).split("\r\n")[0];
    return Number(line.split(" ")[1]);
  } finally {
    conn.close();
  }
}

Deno.test("a Host the server does not serve is refused (DNS rebinding), configured and local ones are served", async () => {
  await withTestServer(
    `${TOKENS}\n[http]\nallowed_hosts = ["monitor.example.com", "*.ops.example"]`,
    async (server) => {
      const port = server.httpPort;
      assert.equal(await statusWithHost(port, "evil.example"), 421);
      assert.equal(await statusWithHost(port, "127.0.0.1.evil.example"), 421);
      assert.equal(await statusWithHost(port, `localhost:${port}`), 200);
      assert.equal(await statusWithHost(port, `127.0.0.1:${port}`), 200);
      assert.equal(await statusWithHost(port, "monitor.example.com"), 200);
      assert.equal(await statusWithHost(port, "eu.ops.example:8080"), 200);
    },
  );
});

Deno.test("without API tokens the server serves loopback without a token, keeps the whitelist closed, and refuses a public bind", async () => {
  const config = parseServerConfig("");
  assert.equal(config.httpHost, "127.0.0.1");
  assert.throws(
    () => parseServerConfig(`http_host = "0.0.0.0"`),
    /http_host: binding 0\.0\.0\.0 without any \[\[api_tokens\]\]/,
  );
  assert.equal(parseServerConfig(`http_host = "0.0.0.0"\n${TOKENS}`).httpHost, "0.0.0.0");
  assert.equal(parseServerConfig(TOKENS).httpHost, "0.0.0.0");
  await withTestServer("", async (server) => {
    const agents = await call(server, "GET", "/api/v1/agents");
    assert.equal(agents.status, 200);
    await agents.body?.cancel();
    const deliveries = await call(server, "GET", "/api/v1/notifications/deliveries");
    assert.equal(deliveries.status, 200);
    await deliveries.body?.cancel();
    const whitelist = await call(server, "POST", "/api/v1/agents/whitelist");
    assert.equal(whitelist.status, 401);
    await whitelist.body?.cancel();
    const health = await (await call(server, "GET", "/api/v1/health")).json();
    assert.equal(typeof health.agent_count, "number");
  });
});
