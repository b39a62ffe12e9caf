/**
 * systeminformation, for the portable (macOS/Windows) collectors and system info off Linux.
 *
 * Linux agents never need it, and an npm package anywhere in the module graph makes Deno set up
 * its npm resolver at start-up: about 1.4 MB of resident memory (measured, 49.6 → 48.2 MB). So
 * under `deno run` it is imported on first use through a computed specifier that Deno does not
 * see in advance. Bundles and `deno compile` builds cannot resolve such an import; their macOS
 * and Windows builds start from `agent/main_portable.ts`, which imports the package statically
 * and hands it over with `provideSysteminformation`.
 */
type Systeminformation = typeof import("systeminformation");

let loaded: Promise<Systeminformation> | undefined;

/**
 * The package as pinned in deno.json's imports (a test keeps the two equal), spelled out so it
 * resolves without the import map too: `deno task agent` runs with `--no-config`.
 */
export const SYSTEMINFORMATION_SPECIFIER = ["npm:system", "information@5.33.23"].join("");

/** Makes a statically imported module the one `systeminformation()` returns. */
export function provideSysteminformation(module: Systeminformation): void {
  loaded = Promise.resolve(module);
}

export function systeminformation(): Promise<Systeminformation> {
  loaded ??= import(SYSTEMINFORMATION_SPECIFIER).then((module: { default?: Systeminformation }) =>
    module.default ?? module as Systeminformation
  );
  return loaded;
}
