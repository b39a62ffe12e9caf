/**
 * statfs(2) for the disk space collector and the one-time `disk_gb`.
 *
 * Deno 2.9 has no `Deno.statfs`; `node:fs` has `statfsSync`, but importing `node:fs` loads a
 * large part of Deno's Node compatibility layer: 8 MB of resident memory, measured, for one
 * system call. On 64-bit Linux with glibc the call is made through FFI instead (`Deno.dlopen`
 * of the libc the process already has loaded, about 4 MB less). Anywhere else, or when FFI is
 * not permitted (`--allow-ffi`; `-A` includes it), `node:fs` is imported on first use.
 */

/** What the agent uses of `struct statfs`: sizes in blocks of `bsize` bytes. */
export interface FsSpace {
  bsize: number;
  blocks: number;
  bfree: number;
  bavail: number;
}

/** Reads the space of the file system holding `path`; throws when it cannot. */
export type Statfs = (path: string) => FsSpace;

let loaded: Promise<Statfs> | undefined;

/** The cheapest statfs this process can have, chosen and loaded once. */
export function loadStatfs(): Promise<Statfs> {
  loaded ??= Promise.resolve(ffiStatfs() ?? nodeStatfs());
  return loaded;
}

/** `node:fs`'s statfs, imported only now. */
export async function nodeStatfs(): Promise<Statfs> {
  const { statfsSync } = await import("node:fs");
  return (path) => {
    const stats = statfsSync(path);
    return { bsize: stats.bsize, blocks: stats.blocks, bfree: stats.bfree, bavail: stats.bavail };
  };
}

/**
 * Layout of `struct statfs` on 64-bit Linux (x86_64, aarch64, riscv64…): eleven 8-byte words
 * (`f_type`, `f_bsize`, `f_blocks`, `f_bfree`, `f_bavail`, `f_files`, `f_ffree`, `f_fsid`,
 * `f_namelen`, `f_frsize`, `f_flags`) and four spare ones: 120 bytes.
 */
const STATFS_WORDS = 15;
const F_BSIZE = 1;
const F_BLOCKS = 2;
const F_BFREE = 3;
const F_BAVAIL = 4;

/**
 * statfs's return type as declared to FFI: an `int` wrapped in a struct. On the 64-bit Linux
 * targets this runs on, a struct of one `int` comes back exactly as an `int` does (x86-64
 * System V: in `eax`; AAPCS64: a composite of at most 16 bytes in `x0`), so the call is the
 * same. The wrapper matters to Deno: a symbol with a struct in its signature is called through
 * libffi, where a plain one gets a trampoline compiled with Cranelift at `dlopen`, and compiling
 * it touches about 0.9 MB more of Deno's code, resident for the life of the agent (measured,
 * `tests/bench/agent_bench.ts`).
 */
const INT_AS_STRUCT = { struct: ["i32"] } as const;

/** statfs from libc through FFI, or `undefined` where that layout or FFI is not available. */
export function ffiStatfs(): Statfs | undefined {
  const supported = Deno.build.os === "linux" &&
    (Deno.build.arch === "x86_64" || Deno.build.arch === "aarch64");
  if (!supported) return undefined;
  let library;
  try {
    library = Deno.dlopen("libc.so.6", {
      statfs: { parameters: ["buffer", "buffer"], result: INT_AS_STRUCT },
    });
  } catch {
    // No glibc (musl, a static build) or no FFI permission: node:fs does it.
    return undefined;
  }
  const { statfs } = library.symbols;
  const result = new BigUint64Array(STATFS_WORDS);
  const utf8 = new TextEncoder();
  return (path) => {
    const cPath = utf8.encode(`${path}\0`);
    const status = statfs(cPath, result);
    if (new Int32Array(status.buffer, status.byteOffset, 1)[0] !== 0) {
      throw new Error(`Cannot statfs ${path}: the system call failed`);
    }
    return {
      bsize: Number(result[F_BSIZE]),
      blocks: Number(result[F_BLOCKS]),
      bfree: Number(result[F_BFREE]),
      bavail: Number(result[F_BAVAIL]),
    };
  };
}
