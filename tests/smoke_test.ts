/**
 * The release smoke test (scripts/smoke.ts) against the bundles, run from an empty folder: proof
 * that the built programs read nothing from the source tree. The release workflow runs the same
 * test against each compiled executable on its own OS.
 */
import assert from "node:assert/strict";
import { runtimeFlags } from "../scripts/run_flags.ts";
import { runSmoke } from "../scripts/smoke.ts";

const ROOT = new URL("../", import.meta.url).pathname;

Deno.test({
  name: "the bundled server and agent pass the smoke test from an empty folder",
  ignore: Deno.build.os === "windows",
  async fn() {
    const dist = await Deno.makeTempDir({ prefix: "oxmon-bundles-" });
    const empty = await Deno.makeTempDir({ prefix: "oxmon-empty-" });
    try {
      const bundle = await new Deno.Command(Deno.execPath(), {
        args: ["run", "-A", "scripts/bundle.ts", "--out", dist],
        cwd: ROOT,
        stdout: "null",
        stderr: "piped",
      }).output();
      assert.equal(bundle.code, 0, new TextDecoder().decode(bundle.stderr));
      const lines: string[] = [];
      await runSmoke({
        server: [
          Deno.execPath(),
          "run",
          "-A",
          ...runtimeFlags("server"),
          `${dist}/oxmon-server.js`,
        ],
        agent: [Deno.execPath(), "run", "-A", ...runtimeFlags("agent"), `${dist}/oxmon-agent.js`],
        cwd: empty,
        say: (line) => lines.push(line),
        timeoutMs: 60_000,
      });
      assert.match(lines.join("\n"), /both stopped cleanly on SIGTERM with exit 0/);
      assert.match(lines.join("\n"), /usage names "deno run -A .*oxmon-server\.js"/);
      assert.deepEqual([...Deno.readDirSync(empty)], [], "the programs wrote into their cwd");
    } finally {
      await Deno.remove(dist, { recursive: true });
      await Deno.remove(empty, { recursive: true });
    }
  },
});
