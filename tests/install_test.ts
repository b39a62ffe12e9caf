/**
 * install.sh against a release laid out as the release workflow lays it out (executables named
 * per target, the examples, units, plist and SHA256SUMS), in `--root` mode since no systemd runs
 * here; the units it installs pass `systemd-analyze verify` and a security review; every shell
 * script passes shellcheck.
 */
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { parse as parsePlist } from "plist";

const ROOT = new URL("../", import.meta.url).pathname;
const have = (command: string) =>
  new Deno.Command("sh", { args: ["-c", `command -v ${command}`], stdout: "null" }).outputSync()
    .success;

/** The support files the release workflow publishes beside the executables. */
export const SUPPORT_ASSETS: Record<string, string> = {
  "agent.example.toml": "config/agent.example.toml",
  "server.example.toml": "config/server.example.toml",
  "oxmon-agent.service": "config/systemd/oxmon-agent.service",
  "oxmon-server.service": "config/systemd/oxmon-server.service",
  "oxmon.agent.plist": "config/launchd/oxmon.agent.plist",
  "install.sh": "install.sh",
};

/** A release folder: stand-in executables that print their name, the support files, sums. */
async function fakeRelease(dir: string, targets: string[]): Promise<void> {
  await Deno.mkdir(dir, { recursive: true });
  for (const target of targets) {
    for (const program of ["agent", "server"]) {
      const name = `oxmon-${program}-${target}`;
      await Deno.writeTextFile(`${dir}/${name}`, `#!/bin/sh\necho "oxmon-${program} ${target}"\n`);
    }
  }
  for (const [asset, source] of Object.entries(SUPPORT_ASSETS)) {
    await Deno.copyFile(`${ROOT}${source}`, `${dir}/${asset}`);
  }
  await writeSums(dir);
}

async function writeSums(dir: string): Promise<void> {
  const lines: string[] = [];
  for (const entry of [...Deno.readDirSync(dir)].sort((a, b) => a.name < b.name ? -1 : 1)) {
    if (entry.name === "SHA256SUMS") continue;
    const hash = createHash("sha256").update(await Deno.readFile(`${dir}/${entry.name}`));
    lines.push(`${hash.digest("hex")}  ${entry.name}`);
  }
  await Deno.writeTextFile(`${dir}/SHA256SUMS`, lines.join("\n") + "\n");
}

async function install(args: string[]) {
  const { code, stdout, stderr } = await new Deno.Command("sh", {
    args: [`${ROOT}install.sh`, ...args],
    stdin: "null",
  }).output();
  const text = (bytes: Uint8Array) => new TextDecoder().decode(bytes);
  return { code, stdout: text(stdout), stderr: text(stderr) };
}

const exists = (path: string) => {
  try {
    Deno.statSync(path);
    return true;
  } catch {
    return false;
  }
};

Deno.test("install.sh lays out a verified release, keeps configs on upgrade and uninstalls", async (t) => {
  const dir = await Deno.makeTempDir({ prefix: "oxmon-install-" });
  const release = `${dir}/release`;
  const root = `${dir}/root`;
  await fakeRelease(release, ["linux-x64", "macos-arm64"]);
  const linux = ["--root", root, "--from", release, "--os", "linux", "--arch", "x86_64"];
  try {
    await t.step("agent and server on Linux: executables, configs, units, advice", async () => {
      const run = await install([
        ...linux,
        "--agent",
        "--server",
        "--endpoint",
        "http://monitor.example:9090",
      ]);
      assert.equal(run.code, 0, run.stderr);
      const agent = await new Deno.Command(`${root}/usr/local/bin/oxmon-agent`).output();
      assert.equal(new TextDecoder().decode(agent.stdout), "oxmon-agent linux-x64\n");
      assert.equal(Deno.statSync(`${root}/usr/local/bin/oxmon-server`).mode! & 0o777, 0o755);
      const agentToml = await Deno.readTextFile(`${root}/etc/oxmon/agent.toml`);
      assert.match(agentToml, /^server_endpoint = "http:\/\/monitor\.example:9090"$/m);
      const serverToml = await Deno.readTextFile(`${root}/etc/oxmon/server.toml`);
      assert.match(serverToml, /^data_dir = "\/var\/lib\/oxmon"$/m);
      assert.equal(Deno.statSync(`${root}/etc/oxmon/server.toml`).mode! & 0o777, 0o640);
      for (const unit of ["oxmon-agent.service", "oxmon-server.service"]) {
        assert.equal(
          await Deno.readTextFile(`${root}/etc/systemd/system/${unit}`),
          await Deno.readTextFile(`${ROOT}config/systemd/${unit}`),
        );
      }
      assert.match(run.stdout, /checksums verified/);
      assert.match(run.stdout, /systemctl status oxmon-agent\.service/);
      assert.match(run.stdout, /journalctl -u oxmon-server\.service/);
      assert.match(run.stdout, /dashboard: http:\/\/.*:8080\//);
    });

    await t.step("the installed config loads in the server", async () => {
      const check = await new Deno.Command(Deno.execPath(), {
        args: [
          "run",
          "-A",
          `${ROOT}server/main.ts`,
          "--config",
          `${root}/etc/oxmon/server.toml`,
          "--check-config",
        ],
      }).output();
      assert.equal(check.code, 0, new TextDecoder().decode(check.stderr));
    });

    await t.step("again: executables replaced, edited configs kept", async () => {
      await Deno.writeTextFile(`${root}/etc/oxmon/agent.toml`, 'agent_id = "edited"\n');
      await Deno.writeTextFile(`${root}/usr/local/bin/oxmon-agent`, "old");
      const run = await install([...linux, "--agent"]);
      assert.equal(run.code, 0, run.stderr);
      assert.equal(
        await Deno.readTextFile(`${root}/etc/oxmon/agent.toml`),
        'agent_id = "edited"\n',
      );
      assert.match(await Deno.readTextFile(`${root}/usr/local/bin/oxmon-agent`), /linux-x64/);
      assert.match(run.stdout, /agent\.toml \(kept as it was\)/);
    });

    await t.step(
      "a file that does not match SHA256SUMS stops it before anything changes",
      async () => {
        const tampered = `${dir}/tampered`;
        await fakeRelease(tampered, ["linux-x64"]);
        await Deno.writeTextFile(`${tampered}/oxmon-server-linux-x64`, "#!/bin/sh\necho evil\n");
        const fresh = `${dir}/fresh-root`;
        const run = await install([
          "--root",
          fresh,
          "--from",
          `${tampered}/oxmon-server-linux-x64`,
          "--os",
          "linux",
          "--arch",
          "x64",
          "--server",
        ]);
        assert.notEqual(run.code, 0);
        assert.match(run.stderr, /checksum mismatch for oxmon-server-linux-x64/);
        assert.equal(exists(`${fresh}/usr/local/bin/oxmon-server`), false);
        assert.equal(exists(`${fresh}/etc/oxmon`), false);
      },
    );

    await t.step("--uninstall keeps config and data; --purge removes them", async () => {
      await Deno.mkdir(`${root}/var/lib/oxmon`, { recursive: true });
      await Deno.writeTextFile(`${root}/var/lib/oxmon/index.db`, "");
      const run = await install(["--root", root, "--os", "linux", "--uninstall"]);
      assert.equal(run.code, 0, run.stderr);
      for (const gone of ["usr/local/bin/oxmon-agent", "etc/systemd/system/oxmon-server.service"]) {
        assert.equal(exists(`${root}/${gone}`), false, gone);
      }
      assert.ok(exists(`${root}/etc/oxmon/server.toml`));
      assert.ok(exists(`${root}/var/lib/oxmon/index.db`));
      const purge = await install(["--root", root, "--os", "linux", "--uninstall", "--purge"]);
      assert.equal(purge.code, 0, purge.stderr);
      assert.equal(exists(`${root}/etc/oxmon`), false);
      assert.equal(exists(`${root}/var/lib/oxmon`), false);
    });

    await t.step("the agent on macOS: a launchd daemon running the installed config", async () => {
      const mac = `${dir}/mac-root`;
      const run = await install([
        "--root",
        mac,
        "--from",
        release,
        "--os",
        "Darwin",
        "--arch",
        "arm64",
      ]);
      assert.equal(run.code, 0, run.stderr);
      assert.match(await Deno.readTextFile(`${mac}/usr/local/bin/oxmon-agent`), /macos-arm64/);
      const plist = parsePlist(
        await Deno.readTextFile(`${mac}/Library/LaunchDaemons/oxmon.agent.plist`),
      ) as Record<string, unknown>;
      assert.equal(plist.Label, "oxmon.agent");
      assert.deepEqual(plist.ProgramArguments, [
        "/usr/local/bin/oxmon-agent",
        "--config",
        "/etc/oxmon/agent.toml",
      ]);
      assert.equal(plist.KeepAlive, true);
      assert.ok(exists(`${mac}/etc/oxmon/agent.toml`));
      assert.match(run.stdout, /launchctl print system\/oxmon\.agent/);
    });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

/** The unit with ExecStart pointed at an existing file, as `systemd-analyze verify` wants. */
async function unitForVerify(unit: string, dir: string): Promise<string> {
  const text = await Deno.readTextFile(`${ROOT}config/systemd/${unit}`);
  await Deno.mkdir(`${dir}/bin`, { recursive: true });
  const program = unit.replace(".service", "");
  await Deno.writeTextFile(`${dir}/bin/${program}`, "#!/bin/sh\n", { mode: 0o755 });
  const path = `${dir}/${unit}`;
  await Deno.writeTextFile(path, text.replace("/usr/local/bin/", `${dir}/bin/`));
  return path;
}

function directives(unit: string): Map<string, string> {
  const map = new Map<string, string>();
  for (const line of Deno.readTextFileSync(`${ROOT}config/systemd/${unit}`).split("\n")) {
    const match = /^([A-Za-z]+)=(.*)$/.exec(line);
    if (match) map.set(match[1], match[2]);
  }
  return map;
}

Deno.test({
  name: "the systemd units verify, are hardened, and leave the agent /proc, /sys and mounts",
  // systemd exists on Linux only; there .ci/run installs it (Debian's systemd package).
  ignore: Deno.build.os !== "linux",
  async fn(t) {
    assert.ok(have("systemd-analyze"), "systemd-analyze not found: apt-get install systemd");
    const dir = await Deno.makeTempDir({ prefix: "oxmon-units-" });
    try {
      for (const unit of ["oxmon-agent.service", "oxmon-server.service"]) {
        await t.step(`${unit}: systemd-analyze verify and security`, async () => {
          const path = await unitForVerify(unit, dir);
          const verify = await new Deno.Command("systemd-analyze", {
            args: ["verify", path],
          }).output();
          const complaints = new TextDecoder().decode(verify.stderr).trim();
          assert.equal(verify.code, 0, complaints);
          // verify exits 0 for a value it cannot parse; it says so on stderr.
          assert.equal(complaints, "");
          const security = await new Deno.Command("systemd-analyze", {
            args: ["security", "--offline=yes", "--threshold=35", path],
          }).output();
          assert.equal(security.code, 0, new TextDecoder().decode(security.stdout).slice(-400));
        });
      }
      await t.step("Documentation= points at the project", () => {
        for (const unit of ["oxmon-agent.service", "oxmon-server.service"]) {
          assert.match(directives(unit).get("Documentation") ?? "", /^https:\/\/github\.com\//);
        }
      });
      await t.step("the agent's sandbox hides neither /proc, /sys nor any mount", () => {
        const agent = directives("oxmon-agent.service");
        assert.equal(agent.get("ProcSubset") ?? "all", "all");
        assert.ok(!["yes", "true", "tmpfs"].includes(agent.get("ProtectHome") ?? "no"));
        for (const hiding of ["PrivateNetwork", "InaccessiblePaths", "TemporaryFileSystem"]) {
          assert.equal(agent.get(hiding), undefined, `${hiding} hides what the agent reports`);
        }
        assert.equal(agent.get("RootDirectory"), undefined);
      });
      await t.step("the server writes only its state directory", () => {
        const server = directives("oxmon-server.service");
        assert.equal(server.get("ProtectSystem"), "strict");
        assert.equal(server.get("ProtectHome"), "yes");
        assert.equal(server.get("StateDirectory"), "oxmon");
        assert.equal(server.get("ReadWritePaths"), undefined);
      });
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test({
  name: "every shell script passes shellcheck",
  ignore: Deno.build.os === "windows",
  async fn() {
    assert.ok(have("shellcheck"), "shellcheck not found: apt-get install shellcheck");
    const scripts = [
      "install.sh",
      ".ci/run",
      ...shellScriptsIn("scripts"),
      ...shellScriptsIn("config"),
    ];
    const { code, stdout } = await new Deno.Command("shellcheck", {
      args: ["--severity=style", ...scripts],
      cwd: ROOT,
    }).output();
    assert.equal(code, 0, new TextDecoder().decode(stdout));
  },
});

function shellScriptsIn(folder: string): string[] {
  const found: string[] = [];
  const walk = (path: string) => {
    for (const entry of Deno.readDirSync(`${ROOT}${path}`)) {
      const child = `${path}/${entry.name}`;
      if (entry.isDirectory) walk(child);
      else if (entry.name.endsWith(".sh")) found.push(child);
    }
  };
  walk(folder);
  return found;
}
