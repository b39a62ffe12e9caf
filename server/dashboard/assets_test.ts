import assert from "node:assert/strict";
import { assetModule, buildDashboardAssets } from "../../scripts/build_dashboard.ts";

Deno.test("server/dashboard/assets.gen.ts is the bundle of dashboard/ (run `deno task dashboard`)", async () => {
  const built = assetModule(await buildDashboardAssets());
  const committed = await Deno.readTextFile(new URL("./assets.gen.ts", import.meta.url));
  assert.ok(
    built === committed,
    "server/dashboard/assets.gen.ts is stale: run `deno task dashboard` and commit the result",
  );
});
