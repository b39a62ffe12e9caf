/**
 * What `/metrics` shows: the server's own health, and (with `expose_agent_metrics = true`) the
 * newest sample of every agent series, named as `naming.ts` says. Each source is read in its own
 * try, so one failing source costs its families, not the scrape.
 */
import { METRIC_CATALOG } from "../../shared/catalog.ts";
import type { Logger } from "../../shared/log.ts";
import type { AlertEvent, MetricDataPoint } from "../../shared/types.ts";
import { agentStatus } from "../agents/status.ts";
import type { AgentRegistry } from "../agents/types.ts";
import type { MetricStore } from "../storage/types.ts";
import type { MetricFamily, MetricSample } from "./exposition.ts";
import { toPromLabels } from "./naming.ts";
import type { EndpointStats } from "./remote_write.ts";
import type { RemoteWriteReceiverStats } from "./remote_write_receiver.ts";

/** Counters of the alert feed and the notification senders, kept by wrappers in the wiring. */
export class ServerCounters {
  alertSamplesEvaluated = 0;
  alertEvaluationFailures = 0;
  alertEvents = { firing: 0, resolved: 0 };
  /** Send attempts per channel: [succeeded, failed]. */
  readonly notificationAttempts = new Map<string, [number, number]>();

  /** Wraps the alert engine's `observe` so evaluated samples and failures are counted. */
  countObservations<T extends { observe(points: readonly MetricDataPoint[]): void }>(
    engine: T,
  ): { observe(points: readonly MetricDataPoint[]): void } {
    return {
      observe: (points) => {
        this.alertSamplesEvaluated += points.length;
        try {
          engine.observe(points);
        } catch (error) {
          this.alertEvaluationFailures++;
          throw error;
        }
      },
    };
  }

  countEvent(event: AlertEvent): void {
    this.alertEvents[event.status]++;
  }

  /** Wraps a notification sender so each attempt's outcome is counted for `channel`. */
  countSends<
    S extends {
      compose(events: readonly AlertEvent[]): (signal: AbortSignal) => Promise<void>;
    },
  >(channel: string, sender: S): S {
    const counts: [number, number] = [0, 0];
    this.notificationAttempts.set(channel, counts);
    const compose = sender.compose.bind(sender);
    sender.compose = (events) => {
      const attempt = compose(events);
      return async (signal) => {
        try {
          await attempt(signal);
          counts[0]++;
        } catch (error) {
          counts[1]++;
          throw error;
        }
      };
    };
    return sender;
  }
}

export interface SelfMetricsSources {
  version: string;
  ingest?: () => Record<string, number>;
  grpcListenerRestarts?: () => number;
  store: MetricStore;
  registry: AgentRegistry;
  agentIntervalSecs: number;
  nowMs: () => number;
  counters?: ServerCounters;
  activeAlerts?: () => number;
  remoteWrite?: () => EndpointStats[];
  remoteWriteSkippedLate?: () => number;
  remoteWriteIn?: () => RemoteWriteReceiverStats;
  /** With `expose_agent_metrics = true`. */
  exposeAgentMetrics: boolean;
  log: Logger;
}

function counter(name: string, help: string, samples: MetricSample[]): MetricFamily {
  return { name, type: "counter", help, samples };
}

function gauge(name: string, help: string, samples: MetricSample[]): MetricFamily {
  return { name, type: "gauge", help, samples };
}

function ingestFamilies(stats: Record<string, number>, restarts?: number): MetricFamily[] {
  const n = (key: string) => stats[key] ?? 0;
  const families = [
    counter("oxmon_ingest_batches", "Batches received over gRPC and remote write, by result.", [
      { labels: { result: "accepted" }, value: n("batches_accepted") },
      { labels: { result: "refused" }, value: n("batches_rejected") },
      { labels: { result: "failed" }, value: n("batches_failed") },
    ]),
    counter("oxmon_ingest_refused_batches", "Batches refused, by reason.", [
      { labels: { reason: "unauthenticated" }, value: n("unauthenticated") },
      { labels: { reason: "invalid" }, value: n("batches_rejected") - n("unauthenticated") },
    ]),
    counter("oxmon_ingest_samples", "Samples of accepted batches, and of refused ones.", [
      { labels: { result: "accepted" }, value: n("points_accepted") },
      { labels: { result: "refused" }, value: n("points_rejected") },
    ]),
    counter(
      "oxmon_ingest_samples_not_stored",
      "Samples of accepted batches that storage did not store, by reason.",
      [
        { labels: { reason: "duplicate" }, value: n("points_duplicate") },
        { labels: { reason: "conflict" }, value: n("points_conflict") },
        { labels: { reason: "too_old" }, value: n("points_too_old") },
      ],
    ),
  ];
  if (restarts !== undefined) {
    families.push(
      counter("oxmon_grpc_listener_restarts", "Restarts of the gRPC listener child process.", [
        { value: restarts },
      ]),
    );
  }
  return families;
}

function remoteWriteFamilies(endpoints: EndpointStats[], skippedLate?: number): MetricFamily[] {
  const per = (value: (e: EndpointStats) => number) =>
    endpoints.map((e) => ({ labels: { endpoint: e.name }, value: value(e) }));
  const families = [
    gauge(
      "oxmon_remote_write_pending_bytes",
      "Bytes queued on disk, not yet delivered.",
      per((e) => e.pendingBytes),
    ),
    gauge(
      "oxmon_remote_write_pending_samples",
      "Samples queued on disk, not yet delivered.",
      per((e) => e.pendingSamples),
    ),
    counter("oxmon_remote_write_sent_samples", "Samples delivered.", per((e) => e.sentSamples)),
    counter("oxmon_remote_write_sent_requests", "Requests delivered.", per((e) => e.sentRequests)),
    counter(
      "oxmon_remote_write_failures",
      "Failed attempts (network, 429, 5xx), each retried.",
      per((e) => e.failures),
    ),
    counter(
      "oxmon_remote_write_dropped_samples",
      "Samples dropped: refused by the endpoint (4xx) or the queue was full.",
      endpoints.flatMap((e) => [
        { labels: { endpoint: e.name, reason: "rejected" }, value: e.droppedSamples.rejected },
        { labels: { endpoint: e.name, reason: "queue_full" }, value: e.droppedSamples.queue_full },
      ]),
    ),
    gauge(
      "oxmon_remote_write_last_success_timestamp_seconds",
      "When a request was last delivered (0: never since start).",
      per((e) => (e.lastSuccessMs ?? 0) / 1000),
    ),
  ];
  if (skippedLate !== undefined) {
    families.push(
      counter(
        "oxmon_remote_write_late_samples",
        "Samples not forwarded: not newer than their series' last forwarded one.",
        [{ value: skippedLate }],
      ),
    );
  }
  return families;
}

function remoteWriteInFamilies(stats: RemoteWriteReceiverStats): MetricFamily[] {
  return [
    counter(
      "oxmon_remote_write_in_requests",
      "POST /api/v1/write requests, by HTTP status answered.",
      Object.entries(stats.requests).map(([code, value]) => ({ labels: { code }, value })),
    ),
    counter("oxmon_remote_write_in_samples", "Samples accepted over remote write.", [
      { value: stats.samplesAccepted },
    ]),
    counter(
      "oxmon_remote_write_in_skipped_samples",
      "Samples skipped over remote write, by reason.",
      Object.entries(stats.samplesSkipped).map(([reason, value]) => ({
        labels: { reason },
        value,
      })),
    ),
  ];
}

/** The server's own families. */
export function selfMetricFamilies(sources: SelfMetricsSources): MetricFamily[] {
  const families: MetricFamily[] = [
    gauge("oxmon_build_info", "The running oxmon version.", [
      { labels: { version: sources.version }, value: 1 },
    ]),
  ];
  const section = (what: string, build: () => MetricFamily[]) => {
    try {
      families.push(...build());
    } catch (error) {
      sources.log.error("/metrics: a source failed", { source: what, error });
    }
  };
  if (sources.ingest) {
    section("ingest", () => ingestFamilies(sources.ingest!(), sources.grpcListenerRestarts?.()));
  }
  section("storage", () => {
    const stats = sources.store.stats();
    return [
      gauge("oxmon_storage_bytes", "Bytes of the day files on disk.", [{
        value: stats.totalBytes,
      }]),
      gauge("oxmon_storage_series", "Series known to storage.", [{ value: stats.seriesCount }]),
      gauge("oxmon_storage_partitions", "Day files.", [{ value: stats.partitions.length }]),
    ];
  });
  section("agents", () => {
    const nowMs = sources.nowMs();
    let active = 0;
    const agents = sources.registry.list();
    for (const agent of agents) {
      if (agentStatus(agent.lastSeenMs, nowMs, sources.agentIntervalSecs) === "active") active++;
    }
    return [
      gauge("oxmon_agents", "Agents known, by status.", [
        { labels: { status: "active" }, value: active },
        { labels: { status: "inactive" }, value: agents.length - active },
      ]),
    ];
  });
  const counters = sources.counters;
  if (counters) {
    section("alerts", () => [
      counter("oxmon_alert_evaluated_samples", "Samples the alert engine evaluated.", [
        { value: counters.alertSamplesEvaluated },
      ]),
      counter("oxmon_alert_evaluation_failures", "Alert evaluations that failed.", [
        { value: counters.alertEvaluationFailures },
      ]),
      counter("oxmon_alert_events", "Alert events raised, by status.", [
        { labels: { status: "firing" }, value: counters.alertEvents.firing },
        { labels: { status: "resolved" }, value: counters.alertEvents.resolved },
      ]),
      ...(sources.activeAlerts
        ? [gauge("oxmon_alerts_active", "Alerts firing now.", [{ value: sources.activeAlerts() }])]
        : []),
      counter(
        "oxmon_notification_send_attempts",
        "Notification send attempts, by channel and result.",
        [...counters.notificationAttempts].flatMap(([channel, [ok, failed]]) => [
          { labels: { channel, result: "success" }, value: ok },
          { labels: { channel, result: "failure" }, value: failed },
        ]),
      ),
    ]);
  }
  if (sources.remoteWrite) {
    section(
      "remote_write",
      () => remoteWriteFamilies(sources.remoteWrite!(), sources.remoteWriteSkippedLate?.()),
    );
  }
  if (sources.remoteWriteIn) {
    section("remote_write_in", () => remoteWriteInFamilies(sources.remoteWriteIn!()));
  }
  return families;
}

/** The newest sample of every agent series as one family per metric name. */
export function agentMetricFamilies(store: MetricStore, registry: AgentRegistry): MetricFamily[] {
  const byName = new Map<string, { metric: string; samples: MetricSample[] }>();
  for (const agent of registry.list()) {
    for (const sample of store.latest(agent.agentId)) {
      const labels = toPromLabels(sample);
      const name = labels[0][1];
      let family = byName.get(name);
      if (!family) byName.set(name, family = { metric: sample.metricName, samples: [] });
      family.samples.push({
        labels: Object.fromEntries(labels.slice(1)),
        value: sample.value,
        timestampMs: sample.timestampMs,
      });
    }
  }
  return [...byName].sort(([a], [b]) => (a < b ? -1 : 1)).map(([name, { metric, samples }]) => {
    const info = METRIC_CATALOG[metric];
    return {
      name,
      type: info ? "gauge" : "unknown",
      help: info ? `${info.description} (oxmon ${metric})` : `oxmon ${metric}`,
      samples,
    } satisfies MetricFamily;
  });
}
