/**
 * The V8 flags the server and its gRPC listener child run with: deno.json's `server` task passes
 * them to the server, `deno compile` embeds them (both processes are then the same binary), and
 * under `deno run` the supervisor passes them to the listener child (`listenerCommandFor`). A
 * test holds the task to this list.
 *
 * Measured with the fleet bench (3,000 agents on their own connections, 50 points each per
 * second, 60 s; server + listener RSS): 766–887 MB without flags, 491–495 MB with both.
 * - `--no-allocation-site-pretenuring`: during the first ticks (150k new series) batches of
 *   decoded points stay alive across scavenges; V8 then allocates every later decoded point
 *   straight in old space, which grows ~27 MB/s between mark-compacts (server 560–620 MB).
 *   Without it old space grows < 1 MB/s.
 * - `--optimize-for-size`: a 1 MB young generation instead of up to 64 MB, heap limits grown
 *   and pooled pages given back sooner: listener 235–268 → 136–145 MB, server a further
 *   ~40–60 MB, for ~10 % more CPU.
 */
export const SERVER_V8_FLAGS: readonly string[] = [
  "--no-allocation-site-pretenuring",
  "--optimize-for-size",
];

/** `SERVER_V8_FLAGS` as one `deno run` argument. */
export const SERVER_V8_FLAGS_ARG = `--v8-flags=${SERVER_V8_FLAGS.join(",")}`;
