import assert from "node:assert/strict";
import { join } from "node:path";
import { ManualClock } from "../../shared/clock.ts";
import { silentLogger } from "../../shared/log.ts";
import { makeTestPki } from "../../tests/helpers/pki.ts";
import { createApiApp } from "../api/app.ts";
import { openTestEnv } from "../../tests/helpers/api_env.ts";
import { createCertRoutes } from "./routes.ts";
import { CertChecker } from "./checker.ts";
import { openCertStore } from "./store.ts";

async function setup() {
  const dir = await Deno.makeTempDir({ prefix: "oxmon-certs-api-" });
  const store = openCertStore(join(dir, "certs.db"));
  const clock = new ManualClock(Date.now());
  const checker = new CertChecker({
    store,
    config: {
      enabled: true,
      defaultIntervalSecs: 86_400,
      tickSecs: 60,
      connectTimeoutSecs: 2,
      maxConcurrent: 2,
      domains: [],
    },
    clock,
    log: silentLogger,
    commit: () => {},
  });
  const env = await openTestEnv({ clock });
  const app = createApiApp({
    ...env.deps,
    mounts: { certs: createCertRoutes({ store, checker, clock }) },
  });
  const call = async (method: string, path: string, body?: unknown) => {
    const response = await app.request(`/api/v1/certs${path}`, {
      method,
      ...(body === undefined ? {} : {
        body: typeof body === "string" ? body : JSON.stringify(body),
        headers: { "content-type": "application/json" },
      }),
    });
    const text = await response.text();
    return { status: response.status, json: text ? JSON.parse(text) : null };
  };
  return {
    store,
    checker,
    call,
    async close() {
      await checker.stop();
      store.close();
      await env.close();
      await Deno.remove(dir, { recursive: true });
    },
  };
}

Deno.test("cert domains are added, listed, searched, updated and deleted through the API", async () => {
  const { call, close } = await setup();
  try {
    const created = await call("POST", "/domains", { domain: "Example.COM", note: "main site" });
    assert.equal(created.status, 201);
    assert.equal(created.json.domain, "example.com");
    assert.equal(created.json.port, 443);
    assert.equal(created.json.enabled, true);
    assert.equal(created.json.check_interval_secs, null);
    assert.equal(created.json.source, "api");
    assert.equal(created.json.last_checked_at, null);

    const batch = await call("POST", "/domains/batch", {
      domains: [{ domain: "mail.example.com", port: 993, check_interval_secs: 3600 }, {
        domain: "other.org",
      }],
    });
    assert.equal(batch.status, 201);
    assert.equal(batch.json.domains.length, 2);

    const duplicate = await call("POST", "/domains", { domain: "example.com" });
    assert.deepEqual(duplicate, {
      status: 409,
      json: { error: "Domain example.com:443 is already monitored", code: "conflict" },
    });
    const partly = await call("POST", "/domains/batch", {
      domains: [{ domain: "new.org" }, { domain: "other.org" }],
    });
    assert.equal(partly.status, 409);
    assert.equal(
      (await call("GET", "/domains?search=new")).json.total,
      0,
      "a refused batch adds nothing",
    );

    const listed = await call("GET", "/domains?search=EXAMPLE&limit=1");
    assert.equal(listed.json.total, 2);
    assert.equal(listed.json.domains.length, 1);
    assert.equal(listed.json.domains[0].domain, "example.com");

    const id = created.json.id;
    const updated = await call("PUT", `/domains/${id}`, {
      enabled: false,
      port: 8443,
      check_interval_secs: 600,
    });
    assert.equal(updated.status, 200);
    assert.deepEqual([updated.json.enabled, updated.json.port, updated.json.check_interval_secs], [
      false,
      8443,
      600,
    ]);
    assert.equal((await call("GET", "/domains?enabled=false")).json.total, 1);
    const cleared = await call("PUT", `/domains/${id}`, { check_interval_secs: null });
    assert.equal(cleared.json.check_interval_secs, null);

    assert.equal((await call("DELETE", `/domains/${id}`)).status, 204);
    assert.equal((await call("GET", `/domains/${id}`)).status, 404);
    assert.equal((await call("DELETE", `/domains/${id}`)).status, 404);
  } finally {
    await close();
  }
});

Deno.test("bad cert API input is a 400 naming the field or parameter", async () => {
  const { call, close } = await setup();
  try {
    const cases: [string, string, unknown, string][] = [
      ["POST", "/domains", "{", "Request body is not JSON"],
      ["POST", "/domains", [], "Request body must be a JSON object"],
      [
        "POST",
        "/domains",
        { domain: "a b" },
        'Invalid request body field "domain": expected a host name',
      ],
      [
        "POST",
        "/domains",
        { domain: "a.com", port: 70000 },
        'Invalid request body field "port": expected an integer from 1 to 65535, got 70000',
      ],
      [
        "POST",
        "/domains",
        { domain: "a.com", colour: 1 },
        'Invalid request body field "colour": unknown field',
      ],
      [
        "POST",
        "/domains/batch",
        { domains: [{ domain: "a.com" }, { domain: 5 }] },
        'Invalid request body field "domains[1].domain": expected a string',
      ],
      [
        "POST",
        "/domains/batch",
        { domains: [] },
        'Invalid request body field "domains": expected at least one domain',
      ],
      [
        "GET",
        "/domains?enabled=yes",
        undefined,
        'Invalid query parameter "enabled": expected true or false, got "yes"',
      ],
      ["GET", "/domains?limit=0", undefined, 'Invalid query parameter "limit"'],
      [
        "GET",
        "/domains?colour=red",
        undefined,
        'Invalid query parameter "colour": unknown parameter',
      ],
    ];
    for (const [method, path, body, message] of cases) {
      const { status, json } = await call(method, path, body);
      assert.equal(status, 400, `${method} ${path} ${JSON.stringify(body)}`);
      assert.equal(json.code, "bad_request");
      assert.ok(json.error.startsWith(message), `${json.error} should start with ${message}`);
    }
  } finally {
    await close();
  }
});

Deno.test("domains from [[cert_check.domains]] cannot be changed through the API, but can be checked", async () => {
  const pki = await makeTestPki();
  const server = Deno.serve(
    {
      hostname: "127.0.0.1",
      port: 0,
      cert: pki.selfSigned.cert,
      key: pki.selfSigned.key,
      onListen() {},
    },
    () => new Response("ok"),
  );
  const { call, store, close } = await setup();
  try {
    store.syncConfigDomains([{
      domain: "localhost",
      port: server.addr.port,
      checkIntervalSecs: null,
    }], Date.now());
    const [domain] = (await call("GET", "/domains")).json.domains;
    assert.equal(domain.source, "config");
    const refused = await call("PUT", `/domains/${domain.id}`, { enabled: false });
    assert.equal(refused.status, 409);
    assert.match(refused.json.error, /listed in \[\[cert_check.domains\]\] of the server config/);
    assert.equal((await call("DELETE", `/domains/${domain.id}`)).status, 409);

    assert.equal((await call("GET", "/status/localhost")).status, 404, "no check yet");
    const checked = await call("POST", `/domains/${domain.id}/check`);
    assert.equal(checked.status, 200);
    assert.equal(checked.json.is_valid, false);
    assert.match(checked.json.error, /self-signed/);
    assert.equal(checked.json.key_type, "rsa");
    assert.equal(typeof checked.json.not_after, "string");

    const all = await call("POST", "/check");
    assert.equal(all.json.count, 1);
    const status = await call("GET", "/status");
    assert.equal(status.json.count, 1);
    assert.equal(status.json.results[0].domain, "localhost");
    const one = await call("GET", `/status/localhost?port=${server.addr.port}`);
    assert.equal(one.json.id, status.json.results[0].id, "the newest result");
    const history = await call("GET", `/domains/${domain.id}/history`);
    assert.equal(history.json.total, 2);

    // The file is the owner: a domain gone from it is gone from the table.
    store.syncConfigDomains([], Date.now());
    assert.equal((await call("GET", "/domains")).json.total, 0);
  } finally {
    await close();
    await server.shutdown();
    await pki.remove();
  }
});
