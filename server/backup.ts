/**
 * `oxmon-server --backup DIR`: a consistent copy of every SQLite file in `data_dir`, safe while
 * the server runs. Copying the files with `cp` is not: a database in WAL mode is the `.db` file
 * plus its `-wal`, and a copy taken while either changes can be torn. `VACUUM INTO` reads one
 * snapshot of a database through SQLite (a reader never blocks the writer in WAL mode) and writes
 * it as one self-contained file.
 */
import type { DatabaseSync } from "node:sqlite";
import { join } from "node:path";
import { openDatabase } from "./sqlite.ts";

export interface BackupFile {
  name: string;
  bytes: number;
}

/**
 * The order files are copied in. Each file is its own snapshot, taken one after the other; a
 * series gets its id in `index.db` before any sample of it is written to a day file, so day
 * files go first and `index.db` last: every id a copied day file uses is in the copied index.
 */
function backupOrder(names: string[]): string[] {
  const rank = (name: string) =>
    /^\d{4}-\d{2}-\d{2}\.db$/.test(name) ? 0 : name === "index.db" ? 2 : 1;
  return names.sort((a, b) => rank(a) - rank(b) || (a < b ? -1 : a > b ? 1 : 0));
}

/**
 * Copies every `*.db` of `dataDir` into `targetDir`, which must not exist or be empty (a backup
 * never overwrites). Throws an `Error` naming the file that could not be copied.
 */
export async function backupDataDir(dataDir: string, targetDir: string): Promise<BackupFile[]> {
  const names: string[] = [];
  try {
    for await (const entry of Deno.readDir(dataDir)) {
      if (entry.isFile && entry.name.endsWith(".db")) names.push(entry.name);
    }
  } catch (error) {
    throw new Error(`Cannot back up ${dataDir}: ${(error as Error).message}`, { cause: error });
  }
  if (names.length === 0) throw new Error(`Cannot back up ${dataDir}: it holds no .db files`);
  try {
    for await (const _ of Deno.readDir(targetDir)) {
      throw new Error(`Cannot back up into ${targetDir}: it is not empty`);
    }
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) throw error;
  }
  await Deno.mkdir(targetDir, { recursive: true });
  const copied: BackupFile[] = [];
  for (const name of backupOrder(names)) {
    const target = join(targetDir, name);
    let db: DatabaseSync | undefined;
    try {
      // A busy writer holds its lock only for a commit; wait for it rather than fail.
      db = openDatabase(join(dataDir, name), { readOnly: true, busyTimeoutMs: 10_000 });
      db.exec(`VACUUM INTO '${target.replaceAll("'", "''")}'`);
    } catch (error) {
      throw new Error(`Cannot back up ${join(dataDir, name)}: ${(error as Error).message}`, {
        cause: error,
      });
    } finally {
      db?.close();
    }
    copied.push({ name, bytes: (await Deno.stat(target)).size });
  }
  return copied;
}
