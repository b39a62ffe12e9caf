/**
 * The platforms oxmon is built for: short names as release assets carry them
 * (`oxmon-server-linux-x64`), Rust target triples as `deno compile --target` takes them.
 */
export interface Target {
  /** `linux-x64`, as in asset names. */
  name: string;
  /** `x86_64-unknown-linux-gnu`, as `deno compile --target` takes it. */
  triple: string;
  os: "linux" | "darwin" | "windows";
}

export const TARGETS: readonly Target[] = Object.freeze([
  { name: "linux-x64", triple: "x86_64-unknown-linux-gnu", os: "linux" },
  { name: "linux-arm64", triple: "aarch64-unknown-linux-gnu", os: "linux" },
  { name: "macos-x64", triple: "x86_64-apple-darwin", os: "darwin" },
  { name: "macos-arm64", triple: "aarch64-apple-darwin", os: "darwin" },
  { name: "windows-x64", triple: "x86_64-pc-windows-msvc", os: "windows" },
]);

/** A target by short name or triple; throws `RangeError` listing the known ones otherwise. */
export function findTarget(text: string): Target {
  const found = TARGETS.find((target) => target.name === text || target.triple === text);
  if (!found) {
    throw new RangeError(
      `unknown target "${text}"; expected one of ${TARGETS.map((t) => t.name).join(", ")} ` +
        `(or their triples)`,
    );
  }
  return found;
}

/** The target this machine runs, if oxmon is built for it. */
export function hostTarget(): Target | undefined {
  return TARGETS.find((target) => target.triple === Deno.build.target);
}

/** `oxmon-server-linux-x64`, `oxmon-agent-windows-x64.exe`. */
export function executableName(program: "server" | "agent", target: Target): string {
  return `oxmon-${program}-${target.name}${target.os === "windows" ? ".exe" : ""}`;
}

/**
 * The entry file of a program for a target. Linux agents leave systeminformation out (it costs
 * resident memory and Linux never needs it); macOS and Windows agents start from an entry that
 * imports it for their portable collectors.
 */
export function entryOf(program: "server" | "agent", target: Target): string {
  if (program === "agent" && target.os !== "linux") return "agent/main_portable.ts";
  return `${program}/main.ts`;
}
