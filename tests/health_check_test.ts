/**
 * `oxmon-server --health-check` (Docker's HEALTHCHECK) against a running server over HTTPS whose
 * certificate names another host than the loopback address the probe uses.
 */
import assert from "node:assert/strict";
import { makeTestCerts } from "./helpers/pki.ts";
import { SERVER_MAIN, startTestServer } from "./helpers/server_process.ts";

Deno.test("--health-check probes an HTTPS server whose certificate names another host", async () => {
  const certs = await makeTestCerts();
  const dir = await Deno.makeTempDir({ prefix: "oxmon-health-check-" });
  try {
    const tls = `[http_tls]\ncert_file = "${certs.wrongHostServer.cert}"\n` +
      `key_file = "${certs.wrongHostServer.key}"\n`;
    const server = await startTestServer(`${dir}/data`, tls);
    try {
      const config = `${dir}/server.toml`;
      await Deno.writeTextFile(
        config,
        `http_host = "127.0.0.1"\nhttp_port = ${server.httpPort}\ndata_dir = "${dir}/data"\n${tls}`,
      );
      const probe = await new Deno.Command(Deno.execPath(), {
        args: ["run", "-A", SERVER_MAIN.pathname, "--config", config, "--health-check"],
        stdout: "piped",
        stderr: "piped",
      }).output();
      const said = new TextDecoder().decode(probe.stdout) + new TextDecoder().decode(probe.stderr);
      assert.equal(probe.code, 0, said);
      assert.match(said, new RegExp(`https://127\\.0\\.0\\.1:${server.httpPort}/api/v1/health`));
    } finally {
      await server.stop();
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
    await certs.remove();
  }
});
