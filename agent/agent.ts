/**
 * The agent: collect → bounded buffer → sender (vmagent style), wired in one place.
 *
 * - A collection round runs at start and then every `collection_interval_secs` on a fixed
 *   schedule; a round that overruns skips the ticks it missed instead of bunching up.
 * - One sender loop takes the oldest batch, sends it, and on a retryable failure returns it to
 *   the front and waits with capped exponential backoff and jitter, so batches arrive in
 *   collection order after an outage. INVALID_ARGUMENT drops the batch (counted, logged).
 * - When `signal` aborts, collection stops at once; the sender keeps draining the buffer until
 *   it is empty or `shutdown_grace_secs` has passed (an in-flight call is cancelled then).
 */
import { type Clock, systemClock } from "../shared/clock.ts";
import { delay } from "../shared/deadline.ts";
import { MS_PER_SECOND } from "../shared/time.ts";
import { type Logger, silentLogger } from "../shared/log.ts";
import type { MetricDataPoint, SystemInfo } from "../shared/types.ts";
// Type only: the checks modules load on first use, from ./checks.ts.
import type { ProbedCheckSpec } from "../shared/checks/mod.ts";
import { backoffDelayMs, type BackoffOptions } from "./backoff.ts";
import { BatchBuffer } from "./buffer.ts";
import { Spool } from "./spool.ts";
// The files, not shared/wire/mod.ts: the batch decoder's string cache would cost 250 kB here.
import { encodeMetricBatch, encodeSystemInfoField } from "../shared/wire/encode_batch.ts";
import { Collection } from "./collect.ts";
import { FilesystemCollector } from "./collectors/filesystem.ts";
import { loadStatfs } from "./collectors/statfs.ts";
import { createCollectors, detectPlatform } from "./collectors/registry.ts";
import type { Collector, CollectorOptions } from "./collectors/types.ts";
import type { AgentConfig } from "./config.ts";
import { type BatchSender, GrpcBatchSender } from "./sender.ts";
import { linuxSystemInfo, portableSystemInfo } from "./system_info.ts";
import { Ticker } from "./ticker.ts";

export interface AgentStats {
  /** Batches collected and buffered (one per round that produced data). */
  collected: number;
  /** Batches the server acknowledged. */
  sent: number;
  /** Batches dropped because the buffer was full, or because their spool entry was damaged. */
  dropped: number;
  /** Of the dropped batches, spool entries found damaged. */
  damaged: number;
  /** Batches the server refused with INVALID_ARGUMENT, dropped. */
  rejected: number;
  /** Send attempts that failed and were retried. */
  failedSends: number;
  /** Batches still buffered (after shutdown: the ones that could not be flushed in time). */
  buffered: number;
  /** Check results dropped because too many waited for the next batch. */
  checkPointsDropped: number;
}

/** Check samples waiting for the next batch, at most; past it the oldest are dropped. */
const MAX_PENDING_CHECK_POINTS = 10_000;

export interface RunAgentOptions {
  /** Stops the agent; it then flushes for up to `shutdownGraceSecs` and resolves. */
  signal: AbortSignal;
  /** Default: silent. */
  log?: Logger;
  /** Source of batch timestamps. Default: the system clock. */
  clock?: Clock;
  /** Default: the registry's enabled collectors for this platform. Given ones are not disposed. */
  collectors?: readonly Collector[];
  /** Default: a gRPC sender to `config.server`. A given sender is not closed by the agent. */
  sender?: BatchSender;
  /** Default: gathered from this host at start. */
  systemInfo?: () => SystemInfo | Promise<SystemInfo>;
  /** Collection interval in ms. Default `collectionIntervalSecs * 1000`; tests go faster. */
  intervalMs?: number;
  /** Retry backoff. Default 500 ms doubling up to 30 s, with jitter. */
  backoff?: BackoffOptions;
  /** Called after every collection round and send outcome, for progress reporting. */
  onProgress?: (stats: Readonly<AgentStats>) => void;
}

/** The collector options a config implies. */
export function collectorOptionsOf(config: Readonly<AgentConfig>): CollectorOptions {
  return {
    procRoot: config.procRoot,
    sysRoot: config.sysRoot,
    mounts: config.filters.mounts,
    fsTypesExclude: config.filters.fsTypesExclude,
    devices: config.filters.devices,
    interfaces: config.filters.interfaces,
  };
}

/** SystemInfo for this host, by the same platform choice as the collectors. */
export function gatherSystemInfo(config: Readonly<AgentConfig>): Promise<SystemInfo> {
  if (detectPlatform(config.procRoot) === "portable") return portableSystemInfo();
  using collector = new FilesystemCollector(collectorOptionsOf(config));
  const filesystems = collector.filesystems();
  return loadStatfs().then((statfs) =>
    linuxSystemInfo({ filesystems, statfs, procRoot: config.procRoot })
  );
}

/** Runs the agent until `options.signal` aborts and the buffer is flushed or the grace is up. */
export async function runAgent(
  config: Readonly<AgentConfig>,
  options: RunAgentOptions,
): Promise<AgentStats> {
  const log = options.log ?? silentLogger;
  let sender = options.sender;
  const ownSender = !sender;
  if (!sender) {
    let caCert: Uint8Array | undefined;
    if (config.tlsCaFile) {
      try {
        caCert = await Deno.readFile(config.tlsCaFile);
      } catch (error) {
        throw new Error(`Cannot read tls_ca_file ${config.tlsCaFile}: ${error}`, { cause: error });
      }
    }
    let clientCert: { cert: string; key: string } | undefined;
    if (config.tlsCertFile && config.tlsKeyFile) {
      try {
        clientCert = {
          cert: await Deno.readTextFile(config.tlsCertFile),
          key: await Deno.readTextFile(config.tlsKeyFile),
        };
      } catch (error) {
        throw new Error(`Cannot read tls_cert_file or tls_key_file: ${error}`, { cause: error });
      }
    }
    sender = new GrpcBatchSender({
      server: config.server,
      agentId: config.agentId,
      authToken: config.authToken,
      caCert,
      clientCert,
    });
  }
  const collectors = options.collectors ??
    createCollectors(collectorOptionsOf(config), { enabled: config.collectors });
  const agent = new AgentLoop(config, { ...options, log, sender, collectors });
  try {
    return await agent.run();
  } finally {
    if (ownSender) sender.close();
    // Given collectors belong to the caller; the agent's own keep files open.
    if (!options.collectors) { for (const collector of collectors) collector[Symbol.dispose]?.(); }
  }
}

class AgentLoop {
  readonly #config: Readonly<AgentConfig>;
  readonly #options: RunAgentOptions & { log: Logger; sender: BatchSender };
  readonly #log: Logger;
  readonly #collection: Collection;
  readonly #buffer: BatchBuffer;
  readonly #stats: AgentStats = {
    collected: 0,
    sent: 0,
    dropped: 0,
    rejected: 0,
    failedSends: 0,
    buffered: 0,
    checkPointsDropped: 0,
    damaged: 0,
  };
  /** Samples of check results, sent with the next collection round's batch. */
  #checkPoints: MetricDataPoint[] = [];
  /** Aborts when the grace period after a stop is over. */
  readonly #hardStop = new AbortController();
  #systemInfo: SystemInfo | undefined;
  #systemInfoField: Uint8Array | undefined;
  #systemInfoDelivered = false;

  constructor(
    config: Readonly<AgentConfig>,
    options: RunAgentOptions & {
      log: Logger;
      sender: BatchSender;
      collectors: readonly Collector[];
    },
  ) {
    this.#config = config;
    this.#options = options;
    this.#log = options.log;
    const spool = config.spoolDir === undefined
      ? undefined
      : Spool.open(config.spoolDir, this.#log);
    if (spool && spool.entries.length > 0) {
      this.#log.info("spool holds unsent batches from before; sending them first", {
        dir: config.spoolDir,
        batches: spool.entries.length,
      });
    }
    this.#buffer = new BatchBuffer({
      maxBatches: config.bufferMaxSize,
      maxMemoryBytes: config.bufferMaxBytes,
      spool: spool?.spool,
      spooled: spool?.entries,
      maxSpoolBytes: config.spoolMaxBytes,
      log: this.#log,
      onDrop: (batch, reason, droppedTotal) => {
        this.#stats.dropped = droppedTotal;
        if (reason === "damaged") {
          this.#stats.damaged++;
          return; // The buffer logged what was wrong with the entry.
        }
        this.#log.warn("buffer full, dropped the oldest batch", {
          batch_time: new Date(batch.timestampMs).toISOString(),
          points: batch.points,
          dropped_total: droppedTotal,
        });
      },
    });
    // Damaged spool entries found at open were dropped before the buffer existed.
    this.#stats.damaged = this.#stats.dropped = spool?.damaged ?? 0;
    this.#collection = new Collection({
      agentId: config.agentId,
      collectors: options.collectors,
      clock: options.clock ?? systemClock,
      log: options.log,
      selfMetrics: { buffer: this.#buffer },
    });
  }

  async run(): Promise<AgentStats> {
    const { signal } = this.#options;
    this.#log.info("agent starting", {
      agent_id: this.#config.agentId,
      server: this.#config.serverEndpoint,
      interval_secs: this.#config.collectionIntervalSecs,
      collectors: this.#options.collectors?.map((c) => c.name).join(","),
    });
    // Ends the grace timer once the loops are done, so it does not keep the process alive.
    const loopsDone = new AbortController();
    const onStop = () => {
      this.#log.info("agent stopping, flushing the buffer", {
        buffered: this.#buffer.size,
        grace_secs: this.#config.shutdownGraceSecs,
      });
      delay(this.#config.shutdownGraceSecs * MS_PER_SECOND, loopsDone.signal).then(
        () => this.#hardStop.abort(),
        () => {},
      );
    };
    if (signal.aborted) onStop();
    else signal.addEventListener("abort", onStop, { once: true });
    const checks = await this.#startChecks();
    try {
      await this.#loadSystemInfo();
      await Promise.all([this.#collectLoop(), this.#sendLoop()]);
    } finally {
      signal.removeEventListener("abort", onStop);
      loopsDone.abort();
      await checks?.stop();
    }
    this.#stats.buffered = this.#buffer.size;
    if (this.#buffer.size > 0) {
      this.#log.warn("agent stopped with unsent batches", { unsent: this.#buffer.size });
    }
    this.#log.info("agent stopped", { ...this.#stats });
    return { ...this.#stats };
  }

  /**
   * Runs the `[[checks]]` of the config; their results ride in the next collection round's
   * batch as ordinary samples of this agent (nothing new on the wire). Results of runs still
   * going at a stop are not sent. The checks modules load only here, for a config with checks.
   */
  async #startChecks(): Promise<{ stop(): Promise<void> } | undefined> {
    const specs = this.#config.checks.checks as ProbedCheckSpec[];
    if (specs.length === 0) return undefined;
    const { startAgentChecks } = await import("./checks.ts");
    const checks = startAgentChecks(specs, {
      agentId: this.#config.agentId,
      maxConcurrent: this.#config.checks.maxConcurrent,
      clock: this.#options.clock ?? systemClock,
      log: this.#log,
      onPoints: (points) => {
        for (const point of points) this.#checkPoints.push(point);
        const excess = this.#checkPoints.length - MAX_PENDING_CHECK_POINTS;
        if (excess > 0) {
          this.#checkPoints.splice(0, excess);
          this.#stats.checkPointsDropped += excess;
        }
      },
    });
    this.#log.info("checks started", { checks: specs.length });
    return checks;
  }

  async #loadSystemInfo(): Promise<void> {
    try {
      this.#systemInfo = await (this.#options.systemInfo?.() ?? gatherSystemInfo(this.#config));
    } catch (error) {
      // The metrics matter more than the host facts; the server registers the agent anyway.
      this.#log.warn("could not gather system info", { error });
    }
  }

  #progress(): void {
    this.#stats.buffered = this.#buffer.size;
    this.#options.onProgress?.({ ...this.#stats });
  }

  async #collectLoop(): Promise<void> {
    const { signal } = this.#options;
    const intervalMs = this.#options.intervalMs ??
      this.#config.collectionIntervalSecs * MS_PER_SECOND;
    using ticker = new Ticker(intervalMs, signal);
    while (!signal.aborted) {
      const batch = await this.#collection.collect();
      if (this.#checkPoints.length > 0) {
        batch.dataPoints.push(...this.#checkPoints);
        this.#checkPoints = [];
      }
      if (batch.dataPoints.length > 0) {
        this.#stats.collected++;
        await this.#buffer.push(encodeMetricBatch(batch), {
          timestampMs: batch.timestampMs,
          points: batch.dataPoints.length,
        });
        this.#progress();
      } else {
        // Only a Collection without self-metrics can come back empty (the server would refuse
        // the batch); the agent's always carries at least its own.
        this.#log.debug("collection round produced no data, nothing buffered");
      }
      if (!(await ticker.next())) return;
    }
  }

  /**
   * The request with the system info field appended until the server has it: attached at send
   * time, not at collection time, so it still reaches the server when the first batch is
   * dropped from a full buffer or refused (protobuf merges a field appended to a message).
   */
  #withSystemInfo(request: Uint8Array): { request: Uint8Array; withInfo: boolean } {
    if (this.#systemInfoDelivered || !this.#systemInfo) return { request, withInfo: false };
    this.#systemInfoField ??= encodeSystemInfoField(this.#systemInfo);
    const joined = new Uint8Array(request.length + this.#systemInfoField.length);
    joined.set(request);
    joined.set(this.#systemInfoField, request.length);
    return { request: joined, withInfo: true };
  }

  async #sendLoop(): Promise<void> {
    const { signal, sender } = this.#options;
    const hardStop = this.#hardStop.signal;
    const sendTimeoutMs = this.#config.sendTimeoutSecs * MS_PER_SECOND;
    let failures = 0;
    while (!hardStop.aborted) {
      const stopping = signal.aborted;
      if (this.#buffer.size === 0) {
        if (stopping) return;
        await this.#buffer.waitForBatch(signal);
        continue;
      }
      const batch = this.#buffer.shift()!;
      const request = this.#buffer.requestOf(batch);
      if (request === undefined) {
        this.#progress(); // A damaged spool entry: dropped and counted.
        continue;
      }
      const outgoing = this.#withSystemInfo(request);
      const outcome = await sender.send(outgoing.request, {
        deadlineMs: Date.now() + sendTimeoutMs,
        signal: hardStop,
      });
      if (outcome.kind === "sent") {
        if (failures > 0) {
          this.#log.info("sending again after failures", {
            failed_attempts: failures,
            buffered: this.#buffer.size,
          });
        }
        failures = 0;
        this.#buffer.ack(batch);
        this.#stats.sent++;
        if (outgoing.withInfo) this.#systemInfoDelivered = true;
        this.#progress();
        continue;
      }
      if (outcome.kind === "rejected") {
        this.#buffer.ack(batch);
        this.#stats.rejected++;
        this.#log.error("server refused a batch as invalid, dropped it", {
          reason: outcome.reason,
          batch_time: new Date(batch.timestampMs).toISOString(),
          points: batch.points,
          rejected_total: this.#stats.rejected,
        });
        this.#progress();
        continue;
      }
      failures++;
      this.#stats.failedSends++;
      this.#buffer.returnFront(batch);
      this.#progress();
      this.#logFailure(outcome.reason, outcome.unauthenticated, failures);
      try {
        // Before a stop, the stop itself ends the wait so the flush starts at once; during
        // the grace period only its end does.
        const waitSignal = stopping ? hardStop : AbortSignal.any([signal, hardStop]);
        await delay(backoffDelayMs(failures, this.#options.backoff), waitSignal);
      } catch {
        // Woken early by the stop or the end of the grace period; the loop decides.
      }
    }
  }

  #logFailure(reason: string, unauthenticated: boolean, failures: number): void {
    const fields = { reason, failed_attempts: failures, buffered: this.#buffer.size };
    if (unauthenticated) {
      // Retrying cannot fix a wrong token, but an operator can; keep the data meanwhile.
      this.#log.error("server refused the agent's credentials; check auth_token", fields);
    } else if ((failures & (failures - 1)) === 0) {
      // Attempts 1, 2, 4, 8, …: an outage stays visible without a line per retry.
      this.#log.warn("could not send a batch, will retry", fields);
    } else this.#log.debug("could not send a batch, will retry", fields);
  }
}
