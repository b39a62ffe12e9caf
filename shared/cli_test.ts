import assert from "node:assert/strict";
import { invokedAs } from "./cli.ts";

Deno.test("invokedAs names a compiled build by its file and a script by deno run", async (t) => {
  await t.step("a compiled executable", () => {
    assert.equal(
      invokedAs({
        standalone: true,
        execPath: "/usr/local/bin/oxmon-agent",
        mainModule: "file:///tmp/deno-compile-oxmon-agent/agent/main.ts",
        cwd: "/root",
      }),
      "oxmon-agent",
    );
    assert.equal(
      invokedAs({
        standalone: true,
        execPath: "C:\\oxmon\\oxmon-agent-windows-x64.exe",
        mainModule: "file:///C:/x/agent/main.ts",
        cwd: "C:\\",
      }),
      "oxmon-agent-windows-x64.exe",
    );
  });
  await t.step("a bundle or source file below the working directory", () => {
    assert.equal(
      invokedAs({
        standalone: false,
        execPath: "/usr/bin/deno",
        mainModule: "file:///srv/oxmon/dist/oxmon-server.js",
        cwd: "/srv/oxmon",
      }),
      "deno run -A dist/oxmon-server.js",
    );
  });
  await t.step("a file elsewhere keeps its full path", () => {
    assert.equal(
      invokedAs({
        standalone: false,
        execPath: "/usr/bin/deno",
        mainModule: "file:///opt/oxmon/server/main.ts",
        cwd: "/home/me",
      }),
      "deno run -A /opt/oxmon/server/main.ts",
    );
  });
});
