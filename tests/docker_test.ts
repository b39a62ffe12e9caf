/**
 * The container files, linted here (no container engine runs on this machine; the release
 * workflow builds both images and smoke-tests them): Dockerfile syntax and instructions through
 * dockerfile-utils (the validator of VS Code's Dockerfile support), the policies we hold them to,
 * and compose.yaml wired to them.
 */
import assert from "node:assert/strict";
import { validate } from "dockerfile-utils";
import { parse as parseYaml } from "yaml";

const ROOT = new URL("../", import.meta.url).pathname;

interface Instruction {
  keyword: string;
  args: string;
}

function instructions(text: string): Instruction[] {
  return text.replace(/\\\n/g, " ").split("\n")
    .map((line) => line.trim())
    .filter((line) => line && !line.startsWith("#"))
    .map((line) => {
      const [keyword, ...rest] = line.split(/\s+/);
      return { keyword: keyword.toUpperCase(), args: rest.join(" ") };
    });
}

/** The instructions of the last stage: what the shipped image is made of. */
function finalStage(all: Instruction[]): Instruction[] {
  const from = all.map((one) => one.keyword).lastIndexOf("FROM");
  return all.slice(from);
}

for (const name of ["Dockerfile.server", "Dockerfile.agent"]) {
  Deno.test(`${name} lints clean and builds a small non-root runtime stage`, () => {
    const text = Deno.readTextFileSync(`${ROOT}${name}`);
    const diagnostics = validate(text).map((d) => `${d.range.start.line + 1}: ${d.message}`);
    assert.deepEqual(diagnostics, []);
    const all = instructions(text);
    const froms = all.filter((one) => one.keyword === "FROM").map((one) => one.args);
    assert.ok(froms.length >= 2, "multi-stage: a build stage, then the runtime");
    for (const image of froms) {
      assert.match(image, /^\S+:[\w.-]+(\s+AS\s+\w+)?$/i, `${image}: pin a tag`);
      assert.doesNotMatch(image, /:latest\b/, `${image}: pin a tag`);
    }
    const last = finalStage(all);
    assert.match(last[0].args, /distroless/, "the runtime stage carries no shell or packages");
    const user = last.filter((one) => one.keyword === "USER").at(-1)?.args ?? "root";
    assert.doesNotMatch(user, /^(0|root)(:|$)/, "the runtime runs as a non-root user");
    assert.ok(last.some((one) => one.keyword === "HEALTHCHECK"), "HEALTHCHECK stated");
    assert.ok(last.some((one) => one.keyword === "ENTRYPOINT"));
    assert.ok(
      all.some((one) => one.keyword === "RUN" && one.args.includes("scripts/compile.ts")),
      "the executable comes from deno task compile's script",
    );
  });
}

Deno.test("the server image checks /api/v1/health and keeps its data in a volume", () => {
  const last = finalStage(instructions(Deno.readTextFileSync(`${ROOT}Dockerfile.server`)));
  const health = last.find((one) => one.keyword === "HEALTHCHECK")!.args;
  assert.match(health, /--health-check/);
  assert.ok(last.some((one) => one.keyword === "VOLUME" && one.args.includes("/var/lib/oxmon")));
  assert.ok(last.some((one) => one.keyword === "EXPOSE" && /8080/.test(one.args)));
});

Deno.test("compose.yaml builds both images and gives the agent the host's /proc and /sys", () => {
  const compose = parseYaml(Deno.readTextFileSync(`${ROOT}compose.yaml`)) as {
    services: Record<string, Record<string, unknown>>;
    volumes: Record<string, unknown>;
  };
  const { "oxmon-server": server, "oxmon-agent": agent } = compose.services;
  assert.deepEqual(server.build, { context: ".", dockerfile: "Dockerfile.server" });
  assert.deepEqual(agent.build, { context: ".", dockerfile: "Dockerfile.agent" });
  assert.ok((server.volumes as string[]).includes("oxmon-data:/var/lib/oxmon"));
  assert.ok("oxmon-data" in compose.volumes);
  // Where Dockerfile.agent's config points proc_root and sys_root.
  const dockerfile = Deno.readTextFileSync(`${ROOT}Dockerfile.agent`);
  assert.match(dockerfile, /proc_root = "\/host\/proc"/);
  assert.match(dockerfile, /sys_root = "\/host\/sys"/);
  assert.ok((agent.volumes as string[]).includes("/proc:/host/proc:ro"));
  assert.ok((agent.volumes as string[]).includes("/sys:/host/sys:ro"));
  assert.equal(agent.network_mode, "host", "/proc/net/dev shows the reader's network namespace");
});
