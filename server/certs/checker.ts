/**
 * Checks the certificates of the monitored domains: on each tick the domains whose interval has
 * passed, at most `max_concurrent` handshakes at once; and on request one domain or all. Each
 * result is recorded in the domain's history and becomes the samples the original oxmon writes
 * (`certificate.days_until_expiry`, `certificate.is_valid`, label `domain`, agent
 * `cert-checker`), committed through the same storage and alert feed as agents' batches.
 */
import type { Clock } from "../../shared/clock.ts";
import { mapConcurrent } from "../../shared/concurrency.ts";
import type { Logger } from "../../shared/log.ts";
import type { MetricDataPoint } from "../../shared/types.ts";
import type { CertCheckConfig } from "./config.ts";
import { DEFAULT_CERT_PORT } from "./config.ts";
import { type CertificateInspection, inspectCertificate, type InspectOptions } from "./inspect.ts";
import type { CertDomain, CertResult, CertStore } from "./store.ts";

/** The agent id certificate samples are stored under, as in the original oxmon. */
export const CERT_AGENT_ID = "cert-checker";
export const CERT_DAYS_METRIC = "certificate.days_until_expiry";
export const CERT_VALID_METRIC = "certificate.is_valid";

/** Most due domains taken per tick (the original's batch size). */
const DUE_PER_TICK = 100;

export interface CertCheckerOptions {
  store: CertStore;
  config: CertCheckConfig;
  clock: Clock;
  log: Logger;
  /** Commits samples to storage and the alert feed. */
  commit(points: MetricDataPoint[]): void;
  /** PEM certificates trusted besides the system's (from `ca_file`). */
  extraCaCerts?: readonly string[];
  /** Default: `inspectCertificate`. */
  inspect?: (host: string, port: number, options: InspectOptions) => Promise<CertificateInspection>;
}

export class CertChecker {
  readonly #options: CertCheckerOptions;
  readonly #inspect: NonNullable<CertCheckerOptions["inspect"]>;
  readonly #stop = new AbortController();
  readonly #inFlight = new Set<Promise<unknown>>();

  constructor(options: CertCheckerOptions) {
    this.#options = options;
    this.#inspect = options.inspect ?? inspectCertificate;
  }

  /** Checks the domains that are due at `nowMs`; resolves with how many were checked. */
  async tick(nowMs: number): Promise<number> {
    const { store, config } = this.#options;
    const due = store.dueDomains(nowMs, config.defaultIntervalSecs, DUE_PER_TICK);
    if (due.length === 0) return 0;
    this.#options.log.info("checking certificates", { domains: due.length });
    await this.checkMany(due);
    return due.length;
  }

  /** Checks every enabled domain now. */
  checkAll(): Promise<CertResult[]> {
    const domains: CertDomain[] = [];
    for (let offset = 0;; offset += 1000) {
      const page = this.#options.store.listDomains({ enabled: true, limit: 1000, offset });
      domains.push(...page.domains);
      if (domains.length >= page.total || page.domains.length === 0) break;
    }
    return this.checkMany(domains);
  }

  checkMany(domains: readonly CertDomain[]): Promise<CertResult[]> {
    return mapConcurrent(
      domains,
      this.#options.config.maxConcurrent,
      (domain) => this.check(domain),
    );
  }

  /** Checks one domain now, records the result and commits its samples. Never rejects. */
  check(domain: CertDomain): Promise<CertResult> {
    const run = this.#check(domain);
    this.#inFlight.add(run);
    return run.finally(() => this.#inFlight.delete(run));
  }

  /** Cancels handshakes in progress and waits for them. */
  async stop(): Promise<void> {
    this.#stop.abort(new Error("the server is stopping"));
    await Promise.allSettled([...this.#inFlight]);
  }

  async #check(domain: CertDomain): Promise<CertResult> {
    const { clock, config, log, store } = this.#options;
    const checkedMs = clock.now();
    const started = performance.now();
    let result: Omit<CertResult, "id">;
    try {
      const inspection = await this.#inspect(domain.domain, domain.port, {
        timeoutMs: config.connectTimeoutSecs * 1000,
        nowMs: checkedMs,
        extraCaCerts: this.#options.extraCaCerts,
        signal: this.#stop.signal,
      });
      const { isValid, chainValid, error, daysUntilExpiry, ...certificate } = inspection;
      result = {
        domainId: domain.id,
        domain: domain.domain,
        port: domain.port,
        checkedMs,
        durationMs: performance.now() - started,
        isValid,
        chainValid,
        daysUntilExpiry,
        error,
        certificate,
      };
    } catch (error) {
      result = {
        domainId: domain.id,
        domain: domain.domain,
        port: domain.port,
        checkedMs,
        durationMs: performance.now() - started,
        isValid: false,
        chainValid: false,
        daysUntilExpiry: null,
        error: (error as Error).message,
        certificate: null,
      };
    }
    if (this.#stop.signal.aborted) return { ...result, id: 0 };
    let recorded: CertResult = { ...result, id: 0 };
    try {
      recorded = store.recordResult(result);
    } catch (error) {
      // The domain may have been deleted meanwhile; the samples still go out.
      log.error("cannot record a certificate check", { domain: domain.domain, error });
    }
    if (result.error) {
      log.warn("certificate check failed", {
        domain: domain.domain,
        port: domain.port,
        error: result.error,
      });
    } else {
      log.info("certificate checked", {
        domain: domain.domain,
        port: domain.port,
        days_left: result.daysUntilExpiry,
      });
    }
    try {
      this.#options.commit(certPoints(result));
    } catch (error) {
      log.error("cannot store certificate samples", { domain: domain.domain, error });
    }
    return recorded;
  }
}

/**
 * The samples of one result: `certificate.is_valid` always, `certificate.days_until_expiry`
 * when a certificate was seen. Labels: `domain`, and `port` when it is not 443 (so the series of
 * the original oxmon, which knew only 443, keep their identity).
 */
export function certPoints(result: Omit<CertResult, "id">): MetricDataPoint[] {
  const labels: Record<string, string> = { domain: result.domain };
  if (result.port !== DEFAULT_CERT_PORT) labels.port = String(result.port);
  const point = (metricName: string, value: number): MetricDataPoint => ({
    timestampMs: result.checkedMs,
    agentId: CERT_AGENT_ID,
    metricName,
    value,
    labels,
  });
  const points = [point(CERT_VALID_METRIC, result.isValid ? 1 : 0)];
  if (result.daysUntilExpiry !== null) points.push(point(CERT_DAYS_METRIC, result.daysUntilExpiry));
  return points;
}
