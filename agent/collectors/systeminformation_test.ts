import assert from "node:assert/strict";
import { SYSTEMINFORMATION_SPECIFIER } from "./systeminformation.ts";

const pinned = (JSON.parse(
  Deno.readTextFileSync(new URL("../../deno.json", import.meta.url)),
) as { imports: Record<string, string> }).imports.systeminformation;

Deno.test("the lazily imported systeminformation is the version deno.json pins", () => {
  assert.equal(SYSTEMINFORMATION_SPECIFIER, pinned);
});

Deno.test("systeminformation loads without the config file, as `deno task agent` runs", async () => {
  const module = new URL("./systeminformation.ts", import.meta.url).href;
  const { code, stdout, stderr } = await new Deno.Command(Deno.execPath(), {
    args: [
      "eval",
      "--no-config",
      `const { systeminformation } = await import(${JSON.stringify(module)});\n` +
      `console.log((await systeminformation()).version());`,
    ],
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert.equal(code, 0, new TextDecoder().decode(stderr));
  assert.equal(new TextDecoder().decode(stdout).trim(), pinned.split("@").at(-1));
});
