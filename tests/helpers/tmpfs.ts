/**
 * A small tmpfs for disk-full tests: `mount -t tmpfs -o size=NN tmpfs DIR` (root only), always
 * unmounted, and a ballast file that takes whatever space is left.
 */

/** Why a tmpfs cannot be had here, or undefined when it can (root, `mount` works). */
export function tmpfsUnavailable(): string | undefined {
  if (Deno.build.os !== "linux") return "tmpfs mounts are a Linux test";
  if (Deno.uid() !== 0) return "mounting a tmpfs needs root";
  return undefined;
}

export interface Tmpfs {
  path: string;
  /** Fills the file system to the last byte with `ballast`; returns the bytes written. */
  fill(): number;
  /** Removes the ballast. */
  free(): void;
  unmount(): Promise<void>;
}

export async function mountTmpfs(sizeMiB: number): Promise<Tmpfs> {
  const path = await Deno.makeTempDir({ prefix: "oxmon-tmpfs-" });
  const mount = await new Deno.Command("mount", {
    args: ["-t", "tmpfs", "-o", `size=${sizeMiB}m`, "tmpfs", path],
    stdout: "null",
    stderr: "piped",
  }).output();
  if (!mount.success) {
    await Deno.remove(path);
    throw new Error(`mount tmpfs at ${path} failed: ${new TextDecoder().decode(mount.stderr)}`);
  }
  const ballast = `${path}/ballast`;
  return {
    path,
    fill() {
      let written = 0;
      using file = Deno.openSync(ballast, { write: true, create: true, append: true });
      const block = new Uint8Array(64 * 1024);
      for (let size = block.length; size >= 1;) {
        try {
          written += file.writeSync(block.subarray(0, size));
        } catch {
          size = Math.floor(size / 2);
        }
      }
      return written;
    },
    free() {
      Deno.removeSync(ballast);
    },
    async unmount() {
      await new Deno.Command("umount", { args: ["-l", path], stdout: "null", stderr: "null" })
        .output();
      await Deno.remove(path, { recursive: true }).catch(() => {});
    },
  };
}
