/**
 * Which `Host` names the HTTP listener answers to. A browser that was made to resolve
 * `evil.example` to 127.0.0.1 (DNS rebinding) still sends `Host: evil.example`; refusing names
 * the server does not serve keeps such pages from reading a loopback-only server.
 */
import { compileGlob } from "../../shared/glob.ts";
import { isLoopbackHost } from "./config.ts";

export interface HostGuardOptions {
  /** The address the listener is bound to. */
  bindHost: string;
  /** Extra names or globs (`[http] allowed_hosts`). */
  allowedHosts: readonly string[];
  /** Names of this machine, used when bound to every address. Default: host name, interfaces. */
  machineNames?: () => string[];
}

function defaultMachineNames(): string[] {
  const names: string[] = [];
  try {
    names.push(Deno.hostname());
  } catch {
    // Not permitted: the configured list still applies.
  }
  try {
    for (const nic of Deno.networkInterfaces()) names.push(nic.address);
  } catch {
    // As above.
  }
  return names;
}

/** The host name of a `Host` header value, without port or IPv6 brackets, lower case. */
export function hostName(header: string): string | undefined {
  const value = header.trim().toLowerCase();
  if (value === "") return undefined;
  const bracketed = /^\[([0-9a-f:.]+)\](?::\d+)?$/.exec(value);
  if (bracketed) return bracketed[1];
  const plain = /^([a-z0-9._-]+)(?::\d+)?$/.exec(value);
  return plain?.[1];
}

/** A check of the `Host` header: true when the server serves that name. */
export function createHostGuard(options: HostGuardOptions): (host: string | null) => boolean {
  const exact = new Set(["localhost", "127.0.0.1", "::1"]);
  const bind = options.bindHost.replace(/^\[|\]$/g, "").toLowerCase();
  const wildcard = bind === "0.0.0.0" || bind === "::";
  if (!wildcard) exact.add(bind);
  if (wildcard) {
    for (const name of (options.machineNames ?? defaultMachineNames)()) {
      exact.add(name.toLowerCase());
    }
  }
  const globs = options.allowedHosts.map((glob) => compileGlob(glob.toLowerCase()));
  return (header) => {
    if (header === null) return false;
    const name = hostName(header);
    if (name === undefined) return false;
    if (exact.has(name) || globs.some((match) => match(name))) return true;
    // Any loopback address reaches only this machine: as safe as 127.0.0.1.
    return isLoopbackHost(name);
  };
}
