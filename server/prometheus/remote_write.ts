/**
 * Remote write out: committed samples go to every `[[remote_write]]` endpoint as Prometheus
 * Remote-Write 1.0. Collect → disk queue per endpoint → one sender loop per endpoint, as vmagent
 * does: endpoints are independent, a dead one only fills its own queue.
 *
 * - Only samples newer than the last one forwarded for their series go out (a per-series high
 *   mark, seeded from storage at start): a retried gRPC batch that storage already had is not
 *   sent twice, and every series reaches the remote store in time order, which Prometheus-style
 *   receivers require. Late samples (older than their series' newest) stay in oxmon only.
 * - Samples are encoded once, when committed, and queued encoded; a batch is flushed when it
 *   holds `max_batch_samples` or its oldest sample has waited `flush_interval_secs`.
 * - 2xx: delivered. 429, 5xx and network errors: retried with capped exponential backoff and
 *   jitter, the same bytes, until they go through. Other 4xx: the batch is dropped and counted
 *   (the remote store will never take it).
 */
import { join } from "node:path";
import type { Clock } from "../../shared/clock.ts";
import { delay } from "../../shared/deadline.ts";
import { compileFilter } from "../../shared/glob.ts";
import type { Logger } from "../../shared/log.ts";
import { seriesIdentityOf } from "../../shared/series.ts";
import type { Labels, MetricDataPoint } from "../../shared/types.ts";
import type { RemoteWriteConfig } from "./config.ts";
import { toPromLabels } from "./naming.ts";
import {
  encodeLabels,
  encodeTimeSeries,
  ProtoWriter,
  REMOTE_WRITE_HEADERS,
  snappyCompress,
} from "./remote_write_codec.ts";
import { DiskQueue, type QueueBatch } from "./remote_write_queue.ts";

export interface RetryOptions {
  /** First wait after a failed attempt. Default 500 ms. */
  minBackoffMs: number;
  /** Cap of one wait. Default 30 s. */
  maxBackoffMs: number;
}

export interface RemoteWriteOptions {
  endpoints: readonly RemoteWriteConfig[];
  /** Queues live in `<dataDir>/remote_write/<queue id>/`. */
  dataDir: string;
  clock: Clock;
  log: Logger;
  /** For the `User-Agent` header. */
  version: string;
  retry?: Partial<RetryOptions>;
}

/** Per-endpoint state, as `/api/v1/health` and `/metrics` show it. */
export interface EndpointStats {
  name: string;
  url: string;
  pendingBytes: number;
  pendingSamples: number;
  sentSamples: number;
  sentRequests: number;
  /** Failed attempts (network errors, 429, 5xx); each is retried. */
  failures: number;
  /** Samples dropped: refused by the endpoint (4xx other than 429), or the queue was full. */
  droppedSamples: { rejected: number; queue_full: number };
  lastSuccessMs: number | null;
  lastError: string | null;
}

interface SeriesSamples {
  key: string;
  agentId: string;
  metricName: string;
  labels: Labels;
  timestamps: number[];
  values: number[];
}

const LABEL_CACHE_LIMIT = 1_000_000;
/** Span of the time slices a flush is ordered by. */
const SLICE_MS = 10 * 60_000;

function seriesKey(point: MetricDataPoint): string {
  return seriesIdentityOf(point.agentId, point.metricName, point.labels);
}

class Endpoint {
  readonly config: RemoteWriteConfig;
  readonly queue: DiskQueue;
  readonly #clock: Clock;
  readonly #log: Logger;
  readonly #retry: RetryOptions;
  readonly #include: (metricName: string) => boolean;
  readonly #labelBytes = new Map<string, Uint8Array>();
  readonly #headers: Record<string, string>;
  readonly #client: Deno.HttpClient | undefined;
  readonly #stopSignal = new AbortController();
  /** Aborted when the grace period of a stop runs out: cancels the attempt in flight. */
  readonly #abortInFlight = new AbortController();
  #wake: (() => void) | undefined;
  #loop: Promise<void> | undefined;
  #stats = {
    sentSamples: 0,
    sentRequests: 0,
    failures: 0,
    rejected: 0,
    lastSuccessMs: null as number | null,
    lastError: null as string | null,
  };

  constructor(config: RemoteWriteConfig, dataDir: string, options: RemoteWriteOptions) {
    this.config = config;
    this.#clock = options.clock;
    this.#log = options.log.with({ remote_write: config.name });
    this.#retry = { minBackoffMs: 500, maxBackoffMs: 30_000, ...options.retry };
    this.#include = compileFilter(config.metricInclude, config.metricExclude);
    this.#headers = {
      ...config.headers,
      ...REMOTE_WRITE_HEADERS,
      "user-agent": `oxmon/${options.version}`,
    };
    if (config.bearerToken !== undefined) {
      this.#headers.authorization = `Bearer ${config.bearerToken}`;
    } else if (config.basicAuth) {
      const { username, password } = config.basicAuth;
      this.#headers.authorization = "Basic " + btoa(`${username}:${password}`);
    }
    if (config.tlsCaPem !== undefined || config.tlsCertPem !== undefined) {
      this.#client = Deno.createHttpClient({
        caCerts: config.tlsCaPem === undefined ? undefined : [config.tlsCaPem],
        cert: config.tlsCertPem,
        key: config.tlsKeyPem,
      });
    }
    this.queue = new DiskQueue({
      dir: join(dataDir, "remote_write", config.queueId),
      maxBytes: config.queueMaxBytes,
      log: this.#log,
    });
  }

  stats(): EndpointStats {
    const queue = this.queue.stats();
    return {
      name: this.config.name,
      url: this.config.url,
      pendingBytes: queue.pendingBytes,
      pendingSamples: queue.pendingSamples,
      sentSamples: this.#stats.sentSamples,
      sentRequests: this.#stats.sentRequests,
      failures: this.#stats.failures,
      droppedSamples: { rejected: this.#stats.rejected, queue_full: queue.droppedSamples },
      lastSuccessMs: this.#stats.lastSuccessMs,
      lastError: this.#stats.lastError,
    };
  }

  /** Encodes the series this endpoint takes into records and queues them. */
  enqueue(series: readonly SeriesSamples[], nowMs: number): void {
    const { maxBatchSamples, agentLabel, externalLabels } = this.config;
    const out = new ProtoWriter(64 * 1024);
    let samples = 0;
    for (const s of series) {
      if (!this.#include(s.metricName)) continue;
      let labels = this.#labelBytes.get(s.key);
      if (labels === undefined) {
        if (this.#labelBytes.size >= LABEL_CACHE_LIMIT) this.#labelBytes.clear();
        labels = encodeLabels(
          toPromLabels(s, { agentLabel, extra: externalLabels }),
        );
        this.#labelBytes.set(s.key, labels);
      }
      for (let start = 0; start < s.timestamps.length;) {
        const end = Math.min(s.timestamps.length, start + maxBatchSamples - samples);
        encodeTimeSeries(out, { labels, timestamps: s.timestamps, values: s.values }, {
          start,
          end,
        });
        samples += end - start;
        start = end;
        if (samples >= maxBatchSamples) {
          this.queue.append(out.bytes.subarray(0, out.length), samples, nowMs);
          out.reset();
          samples = 0;
        }
      }
    }
    if (samples > 0) this.queue.append(out.bytes.subarray(0, out.length), samples, nowMs);
    this.#wake?.();
  }

  start(): void {
    this.#loop ??= this.#run().catch((error) => {
      this.#log.error("remote write: sender loop failed", { error });
    });
  }

  /** Stops the loop: the attempt in flight gets `graceMs` to finish, the rest stays queued. */
  async stop(graceMs: number): Promise<void> {
    this.#stopSignal.abort();
    this.#wake?.();
    if (this.#loop) {
      const timer = setTimeout(() => this.#abortInFlight.abort(), graceMs);
      await this.#loop;
      clearTimeout(timer);
    }
    this.queue.close();
    this.#client?.close();
  }

  async #run(): Promise<void> {
    const stop = this.#stopSignal.signal;
    const flushMs = this.config.flushIntervalSecs * 1000;
    let current: { batch: QueueBatch; body: Uint8Array<ArrayBuffer> } | undefined;
    let failuresInARow = 0;
    while (!stop.aborted) {
      if (!current) {
        const batch = this.queue.peek(this.config.maxBatchSamples);
        const waitMs = batch === undefined
          ? Infinity
          : batch.samples >= this.config.maxBatchSamples
          ? 0
          : batch.oldestMs + flushMs - this.#clock.now();
        if (waitMs > 0) {
          await this.#sleep(waitMs, true);
          continue;
        }
        current = { batch: batch!, body: snappyCompress(batch!.payload) };
      }
      const outcome = await this.#attempt(current.body);
      if (outcome === "aborted") break;
      if (outcome === "retry") {
        failuresInARow++;
        const plain = Math.min(
          this.#retry.maxBackoffMs,
          this.#retry.minBackoffMs * 2 ** (failuresInARow - 1),
        );
        await this.#sleep(Math.round(plain * (0.8 + 0.4 * Math.random())), false);
        continue;
      }
      failuresInARow = 0;
      if (outcome === "sent") {
        this.#stats.sentSamples += current.batch.samples;
        this.#stats.sentRequests++;
        this.#stats.lastSuccessMs = this.#clock.now();
      } else {
        this.#stats.rejected += current.batch.samples;
      }
      this.queue.commit(current.batch.end);
      current = undefined;
    }
  }

  /** Waits `ms`, or until stopped; with `wakeOnData`, also until a record is queued. */
  async #sleep(ms: number, wakeOnData: boolean): Promise<void> {
    const stop = this.#stopSignal.signal;
    if (stop.aborted) return;
    const woken = new Promise<void>((resolve) => {
      if (wakeOnData) this.#wake = resolve;
      stop.addEventListener("abort", () => resolve(), { once: true });
    });
    const waits: Promise<void>[] = [woken];
    const timer = new AbortController();
    if (Number.isFinite(ms)) waits.push(delay(ms, timer.signal).catch(() => {}));
    await Promise.race(waits);
    timer.abort();
    this.#wake = undefined;
  }

  async #attempt(
    body: Uint8Array<ArrayBuffer>,
  ): Promise<"sent" | "rejected" | "retry" | "aborted"> {
    const timeout = AbortSignal.timeout(this.config.timeoutSecs * 1000);
    const signal = AbortSignal.any([timeout, this.#abortInFlight.signal]);
    let status: number;
    let text = "";
    try {
      const response = await fetch(this.config.url, {
        method: "POST",
        headers: this.#headers,
        body,
        signal,
        client: this.#client,
      });
      status = response.status;
      text = status >= 300 ? (await response.text()).slice(0, 256) : "";
      if (status < 300) await response.body?.cancel();
    } catch (error) {
      if (this.#abortInFlight.signal.aborted) return "aborted";
      this.#stats.failures++;
      const cause = (error as Error).cause;
      const message = timeout.aborted
        ? `no answer within ${this.config.timeoutSecs} s`
        : [(error as Error).message, cause instanceof Error ? cause.message : undefined]
          .filter((part) => part).join(": ");
      this.#failed(message);
      return "retry";
    }
    if (status >= 200 && status < 300) {
      if (this.#stats.lastError !== null) this.#log.info("remote write: delivering again");
      this.#stats.lastError = null;
      return "sent";
    }
    const message = `HTTP ${status}: ${text.trim()}`;
    if (status === 429 || status >= 500) {
      this.#stats.failures++;
      this.#failed(message);
      return "retry";
    }
    this.#stats.lastError = message;
    this.#log.error("remote write: endpoint refused a batch; dropped", { error: message });
    return "rejected";
  }

  #failed(message: string): void {
    // One line when delivery starts failing or the reason changes, not one per retry.
    if (this.#stats.lastError !== message) {
      this.#log.warn("remote write: attempt failed, retrying with backoff", { error: message });
    }
    this.#stats.lastError = message;
  }
}

/**
 * Opens the on-disk queue of every `[[remote_write]]` endpoint under `dataDir/remote_write/`;
 * `start()` begins sending, `stop()` ends it and closes the queues.
 */
export function openRemoteWriteForwarder(options: RemoteWriteOptions): RemoteWriteForwarder {
  return new RemoteWriteForwarder(options);
}

/** The oxmon side: takes committed samples, filters, and hands them to every endpoint. */
export class RemoteWriteForwarder {
  readonly #endpoints: Endpoint[];
  readonly #clock: Clock;
  readonly #log: Logger;
  /** Newest timestamp forwarded per series. */
  readonly #highMarks = new Map<string, number>();
  #pending: (readonly MetricDataPoint[])[] = [];
  #timer: ReturnType<typeof setTimeout> | undefined;
  #skippedLate = 0;
  #stopped = false;

  constructor(options: RemoteWriteOptions) {
    this.#clock = options.clock;
    this.#log = options.log;
    this.#endpoints = [];
    try {
      for (const config of options.endpoints) {
        this.#endpoints.push(new Endpoint(config, options.dataDir, options));
      }
    } catch (error) {
      for (const endpoint of this.#endpoints) endpoint.queue.close();
      throw error;
    }
  }

  get enabled(): boolean {
    return this.#endpoints.length > 0;
  }

  /**
   * Sets the high mark of series already in storage, so what was committed before a restart is
   * not sent again when an agent retries it.
   */
  seed(newest: Iterable<MetricDataPoint>): void {
    for (const point of newest) {
      const key = seriesKey(point);
      if ((this.#highMarks.get(key) ?? -Infinity) < point.timestampMs) {
        this.#highMarks.set(key, point.timestampMs);
      }
    }
  }

  /** Takes committed points; they are encoded and queued on the next macrotask. */
  observe(points: readonly MetricDataPoint[]): void {
    if (this.#stopped || this.#endpoints.length === 0) return;
    this.#pending.push(points);
    this.#timer ??= setTimeout(() => this.flush(), 0);
  }

  /** Encodes and queues everything observed so far. */
  flush(): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
    const batches = this.#pending;
    this.#pending = [];
    if (batches.length === 0) return;
    // Grouped by series within slices of time, slices oldest first: a flush holding hours of
    // data (an agent draining its buffer) still reaches the remote store roughly in time
    // order across series, as Prometheus' head (which refuses samples an hour behind its
    // newest) needs.
    const slices = new Map<number, Map<string, SeriesSamples>>();
    for (const points of batches) {
      for (const point of points) {
        const key = seriesKey(point);
        const mark = this.#highMarks.get(key);
        if (mark !== undefined && point.timestampMs <= mark) {
          this.#skippedLate++;
          continue;
        }
        this.#highMarks.set(key, point.timestampMs);
        const sliceNumber = Math.floor(point.timestampMs / SLICE_MS);
        let slice = slices.get(sliceNumber);
        if (!slice) slices.set(sliceNumber, slice = new Map());
        let series = slice.get(key);
        if (!series) {
          series = {
            key,
            agentId: point.agentId,
            metricName: point.metricName,
            labels: point.labels,
            timestamps: [],
            values: [],
          };
          slice.set(key, series);
        }
        series.timestamps.push(point.timestampMs);
        series.values.push(point.value);
      }
    }
    const series: SeriesSamples[] = [];
    for (const number of [...slices.keys()].sort((a, b) => a - b)) {
      for (const entry of slices.get(number)!.values()) series.push(entry);
    }
    const nowMs = this.#clock.now();
    for (const endpoint of this.#endpoints) {
      try {
        endpoint.enqueue(series, nowMs);
      } catch (error) {
        this.#log.error("remote write: cannot queue samples", {
          remote_write: endpoint.config.name,
          error,
        });
      }
    }
  }

  start(): void {
    for (const endpoint of this.#endpoints) endpoint.start();
  }

  /** Samples not forwarded because their series already had a newer (or equal) one. */
  get skippedLate(): number {
    return this.#skippedLate;
  }

  stats(): EndpointStats[] {
    return this.#endpoints.map((endpoint) => endpoint.stats());
  }

  /** Queues what is pending, stops every sender (in-flight sends get `graceMs`), closes queues. */
  async stop(graceMs: number): Promise<void> {
    if (this.#stopped) return;
    this.flush();
    this.#stopped = true;
    await Promise.all(this.#endpoints.map((endpoint) => endpoint.stop(graceMs)));
  }
}

/** The newest stored sample of every series of these agents, to `seed` a forwarder with. */
export function* newestStoredSamples(
  store: { latest(agentId: string): Iterable<MetricDataPoint> },
  agentIds: Iterable<string>,
): Generator<MetricDataPoint> {
  for (const agentId of agentIds) yield* store.latest(agentId);
}

/** The endpoints' state as `/api/v1/health` shows it (`remote_write`). */
export function remoteWriteHealth(endpoints: readonly EndpointStats[]): Record<string, unknown>[] {
  return endpoints.map((e) => ({
    name: e.name,
    url: e.url,
    pending_bytes: e.pendingBytes,
    pending_samples: e.pendingSamples,
    sent_samples: e.sentSamples,
    sent_requests: e.sentRequests,
    failures: e.failures,
    dropped_samples: e.droppedSamples,
    last_success: e.lastSuccessMs === null ? null : new Date(e.lastSuccessMs).toISOString(),
    last_error: e.lastError,
  }));
}
