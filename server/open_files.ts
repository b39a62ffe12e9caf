/**
 * The process's limit on open files, which bounds how many agent connections the gRPC listener
 * child (it inherits the limit) can accept: past it, new connections wait in the kernel's queue
 * and are never served, without an error to log. Deno does not raise the soft limit itself, and
 * systemd starts services at 1024 unless the unit says otherwise.
 */

/** The soft "Max open files" of `/proc/self/limits` (Linux); undefined elsewhere or if unknown. */
export function openFilesLimit(limitsText?: string): number | undefined {
  let text = limitsText;
  if (text === undefined) {
    try {
      text = Deno.readTextFileSync("/proc/self/limits");
    } catch {
      return undefined;
    }
  }
  const match = /^Max open files\s+(\d+|unlimited)\s/m.exec(text);
  if (!match) return undefined;
  return match[1] === "unlimited" ? Infinity : Number(match[1]);
}

/** Descriptors the server needs beside its connections: databases, WAL files, sockets, pipes. */
export const RESERVED_FILES = 128;

/**
 * A start-up warning when `limit` cannot hold `maxConnections` gRPC connections, naming both and
 * how to raise it; undefined when it can (or the limit is unknown).
 */
export function openFilesWarning(
  limit: number | undefined,
  maxConnections: number,
): string | undefined {
  if (limit === undefined || limit >= maxConnections + RESERVED_FILES) return undefined;
  return `the open-files limit (${limit}) is below what [grpc] max_connections = ` +
    `${maxConnections} needs (about ${maxConnections + RESERVED_FILES}): agents past ` +
    `${Math.max(0, limit - RESERVED_FILES)} or so connect but are never served; raise it ` +
    "(systemd: LimitNOFILE=65536, as the shipped unit sets; a shell: ulimit -n 65536; " +
    "Docker: ulimits nofile) or lower max_connections";
}
