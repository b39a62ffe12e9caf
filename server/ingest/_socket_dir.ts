/**
 * The private folder of the listener children's sockets (`<tmp>/oxmon-grpc-<pid>.<start>-XXXX`).
 * A supervisor removes its folder when it stops; one killed outright (SIGKILL, power loss)
 * cannot, so each start first removes the folders of supervisors that are gone. The owner is in
 * the folder's name — process id and, on Linux, the process start time from `/proc`, so a reused
 * process id does not keep a dead supervisor's folder alive — written atomically with the folder.
 */
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Logger } from "../../shared/log.ts";

const PREFIX = "oxmon-grpc-";
/** `oxmon-grpc-<pid>.<start ticks>-<random>`; folders of older versions have no owner. */
const OWNED = /^oxmon-grpc-(\d+)\.(\d+)-/;

/**
 * When the process started, in clock ticks after boot (field 22 of `/proc/<pid>/stat`); 0 where
 * there is no `/proc`, undefined when the process does not exist.
 */
export function processStartTicks(pid: number, procRoot = "/proc"): number | undefined {
  let stat: string;
  try {
    stat = Deno.readTextFileSync(`${procRoot}/${pid}/stat`);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) {
      // No such process, or no /proc at all (macOS): only the first can be told for sure.
      return hasProc(procRoot) ? undefined : 0;
    }
    return 0;
  }
  // The command name (field 2) is in parentheses and may hold spaces and parentheses itself.
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  const ticks = Number(fields[19]);
  return Number.isSafeInteger(ticks) ? ticks : 0;
}

function hasProc(procRoot: string): boolean {
  try {
    return Deno.statSync(`${procRoot}/self`).isDirectory;
  } catch {
    return false;
  }
}

export interface SocketDirOptions {
  /** Where the folder is made. Default: the system's temporary folder (`TMPDIR`, `/tmp`). */
  parent?: string;
  log: Logger;
  /** Tests point this at a fake `/proc`. Default `/proc`. */
  procRoot?: string;
}

/**
 * Removes the socket folders of supervisors that no longer run, then makes this one's (mode
 * 0700, so no other user can connect in place of a child). Returns its path.
 */
export async function makeSocketDir(options: SocketDirOptions): Promise<string> {
  const parent = options.parent ?? tmpdir();
  const procRoot = options.procRoot ?? "/proc";
  await removeStaleSocketDirs(parent, options.log, procRoot);
  const ticks = processStartTicks(Deno.pid, procRoot) ?? 0;
  return await Deno.makeTempDir({ dir: parent, prefix: `${PREFIX}${Deno.pid}.${ticks}-` });
}

/**
 * Removes every `oxmon-grpc-<pid>.<start>-*` folder in `parent` of this user whose owner process
 * is gone. Folders without an owner in their name (older versions) and those of a process that
 * cannot be checked are left alone. Returns the paths removed.
 */
export async function removeStaleSocketDirs(
  parent: string,
  log: Logger,
  procRoot = "/proc",
): Promise<string[]> {
  const removed: string[] = [];
  const uid = Deno.uid();
  let entries: Deno.DirEntry[];
  try {
    entries = await Array.fromAsync(Deno.readDir(parent));
  } catch (error) {
    log.warn("cannot list the temporary folder for stale gRPC socket folders", {
      path: parent,
      error,
    });
    return removed;
  }
  for (const entry of entries) {
    const owner = OWNED.exec(entry.name);
    if (!entry.isDirectory || !owner) continue;
    const path = join(parent, entry.name);
    const pid = Number(owner[1]);
    const ticks = Number(owner[2]);
    try {
      if ((await Deno.stat(path)).uid !== uid) continue;
      const running = processStartTicks(pid, procRoot);
      // Without /proc (ticks 0 on both sides) a live process id is taken at its word.
      if (running !== undefined && (running === ticks || running === 0)) continue;
      await Deno.remove(path, { recursive: true });
      removed.push(path);
      log.info("removed the gRPC socket folder of a server that is gone", {
        path,
        owner_pid: pid,
      });
    } catch (error) {
      if (error instanceof Deno.errors.NotFound) continue; // Its owner removed it meanwhile.
      log.warn("cannot remove a stale gRPC socket folder", { path, error });
    }
  }
  return removed;
}
