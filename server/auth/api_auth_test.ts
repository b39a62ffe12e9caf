import assert from "node:assert/strict";
import { Hono } from "hono";
import { ManualClock } from "../../shared/clock.ts";
import { silentLogger } from "../../shared/log.ts";
import { ApiAuth } from "./api_auth.ts";
import { createHostGuard } from "./host_guard.ts";
import { SessionStore } from "./sessions.ts";
import { sha256Hex } from "./tokens.ts";

const ADMIN = "admin-token-0123456789";

function setup() {
  const clock = new ManualClock(Date.UTC(2026, 0, 1));
  const auth = new ApiAuth({
    tokens: [{ name: "ops", sha256: sha256Hex(ADMIN), scope: "admin" }],
    hostAllowed: createHostGuard({ bindHost: "127.0.0.1", allowedHosts: [] }),
    sessions: new SessionStore({ ttlMs: 60_000 }),
    secureCookie: true,
    clock,
    log: silentLogger,
  });
  const app = new Hono();
  app.use("*", auth.middleware());
  app.route("/", auth.routes());
  app.post("/api/v1/things", (c) => c.json({ ok: true }));
  app.get("/api/v1/things", (c) => c.json({ ok: true }));
  return { app, clock, auth };
}

async function signIn(app: Hono): Promise<string> {
  const response = await app.request("/login", {
    method: "POST",
    headers: {
      host: "localhost:8080",
      origin: "http://localhost:8080",
      "content-type": "application/x-www-form-urlencoded",
    },
    body: new URLSearchParams({ token: ADMIN }).toString(),
  });
  assert.equal(response.status, 303);
  const cookie = response.headers.get("set-cookie")!;
  assert.match(
    cookie,
    /^oxmon_session=[\w-]{43}; Path=\/; HttpOnly; SameSite=Strict; Max-Age=60; Secure$/,
  );
  return cookie.split(";")[0];
}

Deno.test("a signed-in write must come from the server's own pages", async () => {
  const { app } = setup();
  const cookie = await signIn(app);
  const write = (headers: Record<string, string>) =>
    app.request("/api/v1/things", {
      method: "POST",
      headers: { host: "localhost:8080", cookie, ...headers },
    });
  assert.equal((await write({ origin: "https://evil.example" })).status, 403);
  assert.equal((await write({ "sec-fetch-site": "cross-site" })).status, 403);
  assert.equal((await write({})).status, 403);
  assert.equal((await write({ "sec-fetch-site": "same-origin" })).status, 200);
  assert.equal((await write({ origin: "http://localhost:8080" })).status, 200);
  // A bearer token is not a browser's ambient credential: no origin needed.
  const bearer = await app.request("/api/v1/things", {
    method: "POST",
    headers: { host: "localhost", authorization: `Bearer ${ADMIN}` },
  });
  assert.equal(bearer.status, 200);
});

Deno.test("a session ends when its time is up and on sign-out", async () => {
  const { app, clock } = setup();
  const cookie = await signIn(app);
  const read = () =>
    Promise.resolve(app.request("/api/v1/things", { headers: { host: "localhost", cookie } }))
      .then((response) => response.status);
  assert.equal(await read(), 200);
  clock.advance(60_001);
  assert.equal(await read(), 401);
  const again = await signIn(app);
  const out = await app.request("/logout", {
    method: "POST",
    headers: { host: "localhost", cookie: again },
  });
  assert.match(out.headers.get("set-cookie") ?? "", /Max-Age=0/);
  assert.equal(
    (await app.request("/api/v1/things", { headers: { host: "localhost", cookie: again } }))
      .status,
    401,
  );
});
