/**
 * `deno task compile` where its runtime cannot be had (this machine: no download, no DENORT_BIN)
 * stops once, saying what to do, and writes nothing. Compiling itself happens on GitHub's runners
 * (.github/workflows/release.yml), where the smoke test runs each executable.
 */
import assert from "node:assert/strict";

const COMPILE = new URL("../scripts/compile.ts", import.meta.url).pathname;

async function compile(args: string[], env: Record<string, string>) {
  const { code, stderr } = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", COMPILE, ...args],
    env: { NO_COLOR: "1", ...env },
    stdout: "null",
    stderr: "piped",
  }).output();
  return { code, stderr: new TextDecoder().decode(stderr) };
}

Deno.test("compile without a reachable runtime fails once with advice and leaves no folder", async (t) => {
  const dir = await Deno.makeTempDir({ prefix: "oxmon-compile-" });
  // A port nothing listens on stands in for the download server.
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const closedPort = (listener.addr as Deno.NetAddr).port;
  listener.close();
  const env = {
    DENO_DIR: `${dir}/deno-dir`,
    OXMON_DENORT_URL: `http://127.0.0.1:${closedPort}`,
  };
  try {
    await t.step("every target: one message naming them all, exit 1", async () => {
      const { code, stderr } = await compile(["--out", `${dir}/dist`], env);
      assert.equal(code, 1, stderr);
      assert.equal(stderr.match(/^compile:/gm)?.length, 1, stderr);
      assert.match(
        stderr,
        /linux-x64, linux-arm64, macos-x64, macos-arm64, windows-x64: http:\/\/127\.0\.0\.1:\d+ cannot be reached/,
      );
      assert.match(stderr, /set DENORT_BIN/);
      assert.match(stderr, /deno task bundle/);
      await assert.rejects(() => Deno.stat(`${dir}/dist`), Deno.errors.NotFound);
    });
    await t.step("short targets are checked and unknown ones named", async () => {
      const { code, stderr } = await compile(["--target", "linux-x86", "--out", `${dir}/d`], env);
      assert.equal(code, 2);
      assert.match(stderr, /unknown target "linux-x86"; expected one of linux-x64, linux-arm64/);
    });
    await t.step("DENORT_BIN serves one target only", async () => {
      await Deno.writeTextFile(`${dir}/denort`, "");
      const { code, stderr } = await compile(
        ["--target", "linux-x64", "--target", "macos-arm64", "--out", `${dir}/d`],
        { ...env, DENORT_BIN: `${dir}/denort` },
      );
      assert.equal(code, 2);
      assert.match(stderr, /give exactly one --target \(got linux-x64, macos-arm64\)/);
      await assert.rejects(() => Deno.stat(`${dir}/d`), Deno.errors.NotFound);
    });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
