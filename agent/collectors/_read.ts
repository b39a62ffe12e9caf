/** Reads a small pseudo-file synchronously: /proc reads never block on I/O and are cheapest so. */
export function readText(path: string): string {
  return Deno.readTextFileSync(path);
}

/** Whether a path exists (a file or a directory). */
export function exists(path: string): boolean {
  try {
    Deno.statSync(path);
    return true;
  } catch {
    return false;
  }
}
