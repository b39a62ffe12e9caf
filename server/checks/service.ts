/**
 * The checks the server runs itself (`[[checks]]` with `from = "server"`): http, tcp and dns
 * probes on the shared runner, heartbeats on their monitor. Each result becomes samples under
 * the agent id `oxmon-server` (`check.up`, `check.duration_seconds`, `check.status_code`,
 * `check.certificate_days_until_expiry`; labels `check` and `target`), committed in small
 * batches through the same storage and alert feed as agents' batches.
 *
 * HTTP goes through Deno's fetch (pooled, cheapest) unless a check sets `tls_verify = false`,
 * which fetch cannot do; then `node:https`. For https URLs fetched with fetch the certificate's
 * days left come from a separate handshake, at most once an hour per host and port.
 */
import type { Clock } from "../../shared/clock.ts";
import {
  type CheckOutcome,
  type CheckResult,
  checkResultPoints,
  CheckRunner,
  type ChecksConfig,
  type CheckSpec,
  fetchTransport,
  type HeartbeatCheckSpec,
  type HttpCheckSpec,
  type HttpTransport,
  type ProbedCheckSpec,
  runnableCheck,
} from "../../shared/checks/mod.ts";
import type { Logger } from "../../shared/log.ts";
import { MS_PER_HOUR } from "../../shared/time.ts";
import type { MetricDataPoint } from "../../shared/types.ts";
import { daysLeft, inspectCertificate } from "../certs/inspect.ts";
import { PointBatcher } from "./batcher.ts";
import { HeartbeatMonitor } from "./heartbeat.ts";
import { nodeTransport } from "./node_transport.ts";

/** The agent id the server's own check results are stored under. */
export const SERVER_AGENT_ID = "oxmon-server";

const CERT_CACHE_MS = MS_PER_HOUR;

export interface ServerChecksOptions {
  config: ChecksConfig;
  clock: Clock;
  log: Logger;
  /** Commits samples to storage and the alert feed. */
  commit(points: MetricDataPoint[]): void;
  /** First runs are spread over up to this long. Default 60 s. */
  spreadMs?: number;
  /** How long results wait to be committed together. Default 250 ms. */
  flushMs?: number;
}

export interface CheckStatus {
  spec: CheckSpec;
  last?: CheckResult;
  /** Probed checks: when the next run is planned. Heartbeats: when the next ping is due. */
  nextMs?: number;
}

export class ServerChecks {
  readonly #options: ServerChecksOptions;
  readonly #specs: readonly CheckSpec[];
  readonly #last = new Map<string, CheckResult>();
  readonly #batcher: PointBatcher;
  readonly #runner: CheckRunner;
  readonly #heartbeats: HeartbeatMonitor;
  readonly #fetch = fetchTransport();
  readonly #node = nodeTransport({ caCerts: (spec) => this.#caCerts(spec) });
  readonly #certCache = new Map<string, { notAfterMs: number; atMs: number }>();
  readonly #caFiles = new Map<string, Promise<string>>();

  constructor(options: ServerChecksOptions) {
    this.#options = options;
    this.#specs = options.config.checks;
    this.#batcher = new PointBatcher({
      commit: options.commit,
      log: options.log,
      flushMs: options.flushMs,
    });
    const onResult = (result: CheckResult) => this.#record(result);
    const probed = this.#specs.filter((spec): spec is ProbedCheckSpec => spec.type !== "heartbeat");
    const transport: HttpTransport = (spec, transportOptions) =>
      spec.tlsVerify
        ? this.#fetch.transport(spec, transportOptions)
        : this.#node.transport(spec, transportOptions);
    this.#runner = new CheckRunner(
      probed.map((spec) =>
        runnableCheck(spec, {
          transport,
          afterHttp: (httpSpec, outcome) => this.#withCertificateDays(httpSpec, outcome),
        })
      ),
      {
        maxConcurrent: options.config.maxConcurrent,
        clock: options.clock,
        log: options.log,
        onResult,
        spreadMs: options.spreadMs,
      },
    );
    this.#heartbeats = new HeartbeatMonitor(
      this.#specs.filter((spec): spec is HeartbeatCheckSpec => spec.type === "heartbeat"),
      { startMs: options.clock.now(), onResult },
    );
  }

  get size(): number {
    return this.#specs.length;
  }

  start(): void {
    this.#runner.start();
  }

  /** Time-driven heartbeat work; run it every second or so. */
  tick(nowMs: number): void {
    this.#heartbeats.tick(nowMs);
  }

  /** A ping to `/heartbeat/<token>`; undefined for an unknown token. */
  ping(token: string, failed = false): CheckResult | undefined {
    return this.#heartbeats.ping(token, this.#options.clock.now(), failed);
  }

  /** Runs a probed check now; undefined for an unknown name or a heartbeat. */
  runNow(name: string): Promise<CheckResult> | undefined {
    return this.#runner.runNow(name);
  }

  list(): CheckStatus[] {
    const next = new Map(this.#runner.schedule().map((entry) => [entry.name, entry.nextRunMs]));
    const deadlines = new Map(
      this.#heartbeats.states().map((state) => [state.spec.name, state.deadlineMs]),
    );
    return this.#specs.map((spec) => {
      const status: CheckStatus = { spec };
      const last = this.#last.get(spec.name);
      if (last) status.last = last;
      const nextMs = next.get(spec.name) ?? deadlines.get(spec.name);
      if (nextMs !== undefined) status.nextMs = nextMs;
      return status;
    });
  }

  stats() {
    return this.#runner.stats();
  }

  /** Stops the runner (in-flight probes are aborted) and commits the results still waiting. */
  async stop(): Promise<void> {
    await this.#runner.stop();
    this.#batcher.close();
    this.#fetch.close();
  }

  #record(result: CheckResult): void {
    this.#last.set(result.name, result);
    this.#batcher.add(checkResultPoints(result, SERVER_AGENT_ID));
  }

  #caCerts(spec: HttpCheckSpec): Promise<string[] | undefined> {
    if (!spec.tlsCaFile) return Promise.resolve(undefined);
    let pem = this.#caFiles.get(spec.tlsCaFile);
    if (!pem) {
      pem = Deno.readTextFile(spec.tlsCaFile);
      this.#caFiles.set(spec.tlsCaFile, pem);
    }
    return pem.then((text) => [text]);
  }

  /** Adds the certificate's days left to an https check's outcome (never fails the check). */
  async #withCertificateDays(spec: HttpCheckSpec, outcome: CheckOutcome): Promise<CheckOutcome> {
    const url = new URL(spec.url);
    if (url.protocol !== "https:" || outcome.statusCode === undefined) return outcome;
    const nowMs = this.#options.clock.now();
    if (!spec.tlsVerify) {
      const notAfterMs = this.#node.lastCertificate.get(spec.name);
      return notAfterMs === undefined
        ? outcome
        : { ...outcome, certificateDaysLeft: daysLeft(notAfterMs, nowMs) };
    }
    const host = url.hostname.replace(/^\[|\]$/g, "");
    const port = Number(url.port || 443);
    const key = `${host}:${port}`;
    let cached = this.#certCache.get(key);
    if (!cached || nowMs - cached.atMs > CERT_CACHE_MS) {
      try {
        const ca = await this.#caCerts(spec);
        const inspection = await inspectCertificate(host, port, {
          timeoutMs: spec.timeoutSecs * 1000,
          nowMs,
          extraCaCerts: ca,
        });
        cached = { notAfterMs: inspection.notAfterMs, atMs: nowMs };
        this.#certCache.set(key, cached);
      } catch (error) {
        this.#options.log.debug("cannot read the certificate of a check's URL", {
          check: spec.name,
          error,
        });
        return outcome;
      }
    }
    return { ...outcome, certificateDaysLeft: daysLeft(cached.notAfterMs, nowMs) };
  }
}
