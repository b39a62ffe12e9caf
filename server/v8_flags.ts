/**
 * The V8 flags the server and its gRPC listener child run with: deno.json's `server` task passes
 * them to the server, `deno compile` embeds them (both processes are then the same binary), and
 * under `deno run` the supervisor passes them to the listener child (`listenerCommandFor`). A
 * test holds the task to this list.
 *
 * Measured side by side with the fleet bench (3,000 agents on their own connections, 50 points
 * each every second, 60 s; server + listener RSS) and the heavy benches (50 clients sending
 * 1,000-point batches; a 24 h raw query of 8,640 points):
 * - `--no-allocation-site-pretenuring`: during the first ticks (150k new series) batches of
 *   decoded points stay alive across young collections; V8 then allocates every later decoded
 *   point straight in the old generation, which grew ~27 MB/s between full collections. Costs
 *   nothing measurable: ingest 1.05–1.12M → 1.06M samples/s.
 * - `--max-semi-space-size=2`: a young generation of at most ~6 MB instead of ~64 MB, so
 *   short-lived objects and the buffers they hold are freed sooner, in both processes. With
 *   the flag above: 836–911 MB → 553–687 MB at 3,000 agents (4 MB: 679–701 MB), for 10–15 % of
 *   the heavy ingest rate (0.94M samples/s) and ~1.5 ms more on the 24 h raw query (5.9 ms).
 * - `--heap-growing-percent=75`: after a full collection the old generation may grow by 75 %
 *   before the next, instead of V8's own factor (up to 300 % on a machine with this much memory).
 *   The 3,000 agents arrive at once: their 150k new series make the first seconds' garbage, which
 *   V8's factor let both processes hold into the measured minute (peaks of 600–643 MB together,
 *   of which ~160 MB freed by the next full collection); with 75 %: 471–484 MB (100 %: 485–495,
 *   50 %: 468–499, 20 %: ~497). 50 % and below cost the heavy ingest rate and the raw query
 *   (20 %: 0.70–0.79M samples/s, 13.5 ms); at 75 % neither moved beyond the runs' noise (ingest
 *   1.00–1.04M against 0.97–1.16M, raw query 6.4–7.1 ms against 6.3–6.6).
 * Not used: `--optimize-for-size` reached 470–494 MB but halved the heavy ingest rate (0.50M)
 * and tripled the raw query (12 ms); `--memory-saver-mode` and `--memory-balancer` held as much
 * as a growing factor of 20 % for more CPU and a p99 of 42–62 ms; `--sqrt-allocation-limits`
 * held more (816 MB).
 */
export const SERVER_V8_FLAGS: readonly string[] = [
  "--no-allocation-site-pretenuring",
  "--max-semi-space-size=2",
  "--heap-growing-percent=75",
];

/** `SERVER_V8_FLAGS` as one `deno run` argument. */
export const SERVER_V8_FLAGS_ARG = `--v8-flags=${SERVER_V8_FLAGS.join(",")}`;
