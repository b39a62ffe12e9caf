/**
 * Entry point of the agent builds for macOS and Windows (bundles and `deno compile`): the same
 * program as `main.ts`, with systeminformation imported statically so the build contains it.
 * Linux builds start from `main.ts` and leave the package out (see `collectors/systeminformation.ts`).
 */
import * as si from "systeminformation";
import { provideSysteminformation } from "./collectors/systeminformation.ts";
import { main } from "./main.ts";

provideSysteminformation(si);

if (import.meta.main) Deno.exit(await main(Deno.args));
