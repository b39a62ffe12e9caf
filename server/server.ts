/**
 * Wires the server's subsystems together — the one place that knows all of them. Everything
 * else receives its dependencies as parameters.
 */
import { join } from "node:path";
import { type Clock, systemClock } from "../shared/clock.ts";
import type { Logger } from "../shared/log.ts";
import { openAgentRegistry } from "./agents/sqlite_registry.ts";
import { deferObservations, openAlertEngine } from "./alerts/mod.ts";
import { createApiApp, type HealthIssue } from "./api/app.ts";
import type { ApiDeps } from "./api/_deps.ts";
import { apiMounts, rootMounts } from "./api_mounts.ts";
import { CERT_AGENT_ID, CertChecker } from "./certs/checker.ts";
import { openCertStore } from "./certs/store.ts";
import { SERVER_AGENT_ID, ServerChecks } from "./checks/service.ts";
import { serveApi } from "./api/serve.ts";
import type { ServerConfig } from "./config.ts";
import { AgentAuthenticator } from "./auth/agent_auth.ts";
import { ApiAuth } from "./auth/api_auth.ts";
import { requireScope } from "./auth/require_scope.ts";
import { httpExposureProblem, isLoopbackHost } from "./auth/config.ts";
import { openFilesLimit, openFilesWarning } from "./open_files.ts";
import { createHostGuard } from "./auth/host_guard.ts";
import { SessionStore } from "./auth/sessions.ts";
import { createWhitelistRoutes } from "./auth/whitelist_routes.ts";
import { openWhitelistStore, type WhitelistStore } from "./auth/whitelist_store.ts";
import { FleetSummary } from "./fleet/mod.ts";
import { IngestService } from "./ingest/service.ts";
import { SeriesGuard } from "./ingest/series_guard.ts";
import { GrpcIngestSupervisor } from "./ingest/supervisor.ts";
import { defaultSender, openNotifier } from "./notify/mod.ts";
import {
  newestStoredSamples,
  openRemoteWriteForwarder,
  remoteWriteHealth,
  RemoteWriteReceiver,
  ServerCounters,
} from "./prometheus/mod.ts";
import { Quarantine } from "./quarantine.ts";
import { Scheduler } from "./scheduler.ts";
import { DEFAULT_TIERS, openChunkStore } from "./storage/chunk/engine.ts";
import { openRowStore } from "./storage/row_engine.ts";
import type { MetricStore } from "./storage/types.ts";
import { VERSION } from "./version.ts";
import { MS_PER_DAY, MS_PER_HOUR, MS_PER_MINUTE } from "../shared/time.ts";
import type { MetricDataPoint } from "../shared/types.ts";

export interface StartOptions {
  log: Logger;
  /** Default: the system clock. */
  clock?: Clock;
  /** How the gRPC listener child is started; default: this program in listener mode. */
  listenerCommand?: { cmd: string; args: string[] };
}

export interface RunningServer {
  grpcPort: number;
  httpPort: number;
  /** Resolves once the server has stopped. */
  finished: Promise<void>;
  /** Reads the TLS certificate files of both listeners again (SIGHUP). */
  reloadTls(): Promise<void>;
  /** Process id of the gRPC listener child now serving, if one is. */
  grpcListenerPid(): number | undefined;
  /** Every HTTP route the app serves (method and path pattern), e.g. for auth tests. */
  routes: readonly { method: string; path: string }[];
  /** Stops accepting, finishes in-flight work within the grace deadline, closes the files. */
  stop(): Promise<void>;
}

export function openStore(
  config: ServerConfig,
  log: Logger,
  clock: Clock = systemClock,
  quarantine?: Quarantine,
): MetricStore {
  switch (config.storageEngine) {
    case "row":
      return openRowStore({ dataDir: config.dataDir });
    case "chunk":
      // The same clock as validation: with another, samples validation accepts could be
      // refused as too old (or sealed early) behind an OK reply.
      return openChunkStore({
        dataDir: config.dataDir,
        clock,
        lateSampleMaxAgeMs: config.retentionDays * MS_PER_DAY,
        log: log.with({ component: "storage" }),
        rollupTiers: DEFAULT_TIERS.map((tier) => ({
          ...tier,
          retentionDays: tier.name === "5m"
            ? config.storageRetention.fiveMinuteDays
            : config.storageRetention.oneHourDays,
        })),
        minFreeBytes: config.minFreeBytes,
        quarantine: quarantine &&
          ((path, reason, lost) => void quarantine.quarantine(path, reason, lost)),
      });
    default:
      throw new Error(`storage engine "${config.storageEngine}" is not available`);
  }
}

/** What the REST API needs to know of the rollups the store keeps, if any. */
function rollupsOf(config: ServerConfig): ApiDeps["rollups"] {
  if (config.storageEngine !== "chunk") return undefined;
  const { fiveMinuteDays, oneHourDays } = config.storageRetention;
  const finestMs = fiveMinuteDays > 0 ? 5 * MS_PER_MINUTE : oneHourDays > 0 ? MS_PER_HOUR : 0;
  return finestMs === 0 ? undefined : { rawRetentionDays: config.retentionDays, finestMs };
}

/** What a new empty file forgets, said when a damaged one is moved aside (and in the README). */
const LOST = {
  agents: "agents.db is started empty: agents are registered again on their next batch, " +
    "their first-seen times restart, and system info returns when an agent restarts",
  alerts: "alerts.db is started empty: alert history is lost, and alerts that were firing are " +
    "raised again as new if their condition still holds (no resolved notice for the others)",
  notify: "notify.db is started empty: the record of past notification deliveries is lost",
  certs: "certs.db is started empty: domains added through the API and past certificate " +
    "results are lost; domains of the config file are listed again",
  whitelist: "agent_whitelist.db is started empty: agent tokens issued through the whitelist " +
    "API are lost, and agents using them are refused until given new ones",
};

function quarantinedIssues(quarantine: Quarantine): HealthIssue[] {
  return quarantine.list().map((file) => ({
    kind: "quarantined",
    file: file.path,
    message: `${file.original} was damaged and moved aside` +
      (file.reason ? ` (${file.reason})` : "") +
      "; remove or restore the file to clear this",
    sinceMs: file.sinceMs,
  }));
}

export async function startServer(
  config: ServerConfig,
  options: StartOptions,
): Promise<RunningServer> {
  const { log } = options;
  const clock = options.clock ?? systemClock;
  const security = config.security;
  // Also for a host given on the command line, which the config reader did not see.
  const exposure = httpExposureProblem(config.httpHost, security.apiTokens);
  if (exposure) throw new Error(`Cannot start the server: http_host: ${exposure}`);
  await Deno.mkdir(config.dataDir, { recursive: true });
  const startedAtMs = clock.now();
  let certCaPem: string | undefined;
  if (config.certCheck.caFile !== undefined) {
    try {
      certCaPem = await Deno.readTextFile(config.certCheck.caFile);
    } catch (error) {
      throw new Error(`Cannot read cert_check.ca_file ${config.certCheck.caFile}: ${error}`, {
        cause: error,
      });
    }
  }
  // A damaged agents.db, alerts.db, notify.db or certs.db is moved aside and started anew, loudly.
  const quarantine = new Quarantine({
    dataDir: config.dataDir,
    log: log.with({ component: "data" }),
    now: () => clock.now(),
  });
  // Counts for /metrics: alert evaluations and events, notification send attempts.
  const counters = new ServerCounters();
  const opened: { close(): unknown }[] = [];
  const closeAll = async () => {
    for (const part of opened.reverse()) await part.close();
  };
  let store, registry, notifier, alerts;
  try {
    store = openStore(config, log, clock, quarantine);
    opened.push(store);
    const agentsPath = join(config.dataDir, "agents.db");
    registry = quarantine.open(agentsPath, LOST.agents, () => openAgentRegistry(agentsPath));
    opened.push(registry);
    const notifyPath = join(config.dataDir, "notify.db");
    notifier = quarantine.open(notifyPath, LOST.notify, () =>
      openNotifier({
        config: config.notification,
        deliveryStorePath: notifyPath,
        clock,
        log: log.with({ component: "notify" }),
        createSender: (channel, retry) =>
          counters.countSends(channel.name, defaultSender(channel, retry)),
      }));
    const notifierOpened = notifier;
    opened.push({ close: () => notifierOpened.close(0) });
    const alertsPath = join(config.dataDir, "alerts.db");
    alerts = quarantine.open(alertsPath, LOST.alerts, () =>
      openAlertEngine({
        rules: config.alert.rules,
        statePath: alertsPath,
        clock,
        log: log.with({ component: "alerts" }),
        onEvent: (event) => {
          counters.countEvent(event);
          notifierOpened.dispatch(event);
        },
        // The server's own identities report when a check is due, not every few seconds.
        unwatchedAgents: [CERT_AGENT_ID, SERVER_AGENT_ID],
      }));
  } catch (error) {
    await closeAll();
    throw error;
  }
  const whitelistPath = join(config.dataDir, "agent_whitelist.db");
  let whitelist: WhitelistStore;
  try {
    whitelist = quarantine.open(
      whitelistPath,
      LOST.whitelist,
      () => openWhitelistStore(whitelistPath),
    );
  } catch (error) {
    await closeAll();
    throw error;
  }
  opened.push(whitelist);
  const agentAuth = new AgentAuthenticator({
    tokens: security.agentTokens,
    requireAuth: security.requireAgentAuth,
    issued: whitelist,
    certificateIdentity: security.grpcTls?.clientCertIdentity ?? false,
  });
  const warnings: string[] = [];
  if (security.agentTokensFlat) {
    warnings.push(
      "agent_tokens is a flat list: each of its tokens may write as any agent id; bind tokens " +
        "to agents with [[agent_tokens]] token = ... agents = [...]",
    );
  }
  if (!agentAuth.required && !isLoopbackHost(config.grpcHost)) {
    warnings.push(
      `ingest is open: anyone who reaches ${config.grpcHost}:${config.grpcPort} can write ` +
        "metrics as any agent; configure agent_tokens or [grpc_tls] client_ca_file",
    );
  }
  if (!security.grpcTls && !isLoopbackHost(config.grpcHost) && agentAuth.required) {
    warnings.push("agent tokens cross the network in clear text: configure [grpc_tls]");
  }
  const filesWarning = openFilesWarning(openFilesLimit(), security.grpc.maxConnections);
  if (filesWarning !== undefined && !isLoopbackHost(config.grpcHost)) warnings.push(filesWarning);
  for (const warning of warnings) log.warn(warning);
  if (security.apiTokens.length === 0) {
    log.info(
      "no [[api_tokens]] configured: the HTTP API serves this machine only " +
        `(${config.httpHost}) and anyone on it may use it; add an api token to serve others`,
    );
  }
  // Alert evaluation runs after the ingest reply has gone out, never before it.
  const alertFeed = deferObservations(
    counters.countObservations(alerts),
    log.with({ component: "alerts" }),
  );
  const fleet = new FleetSummary({
    store,
    agents: () => registry.list(),
    clock,
    agentIntervalSecs: config.agentIntervalSecs,
    activeAlerts: () => alerts.active(),
    log: log.with({ component: "fleet" }),
  });
  // Committed samples also go to every [[remote_write]] endpoint; what storage already held
  // before this start is never sent again.
  const remoteWrite = openRemoteWriteForwarder({
    endpoints: config.remoteWrite,
    dataDir: config.dataDir,
    clock,
    log: log.with({ component: "remote_write" }),
    version: VERSION,
  });
  if (remoteWrite.enabled) {
    remoteWrite.seed(newestStoredSamples(store, registry.list().map((agent) => agent.agentId)));
  }

  const seriesLimits = {
    maxSeriesPerAgent: config.ingest.maxSeriesPerAgent,
    maxSeriesTotal: config.ingest.maxSeriesTotal,
    maxNewSeriesPerAgentPerMinute: config.ingest.maxNewSeriesPerAgentPerMinute,
  };
  const activeSeries = () => store.listActiveSeries?.() ?? store.listSeries();
  const seriesGuard = new SeriesGuard(seriesLimits, activeSeries());
  const ingest = new IngestService({
    store,
    registry,
    limits: config.ingest,
    authenticator: agentAuth,
    series: { guard: seriesGuard, limits: seriesLimits },
    retentionDays: config.retentionDays,
    clock,
    log: log.with({ component: "ingest" }),
    onCommitted: (points) => {
      // Cheap (a map lookup per point), so it runs at once: the overview is never behind.
      fleet.observe(points);
      alertFeed.observe(points);
      remoteWrite.observe(points);
    },
  });
  const remoteWriteIn = new RemoteWriteReceiver({
    ingest,
    maxBodyBytes: config.ingest.maxBatchBytes,
    maxUncompressedBytes: config.prometheus.remoteWriteMaxBytes,
    maxPointsPerBatch: config.ingest.maxPointsPerBatch,
    defaultAgent: config.prometheus.remoteWriteDefaultAgent,
    log: log.with({ component: "remote_write_in" }),
  });

  // Samples the server makes itself (certificates, checks, heartbeats) take the ingest path
  // from storage on: the same write and the same alert feed as an agent's batch.
  const commitLocal = (points: MetricDataPoint[]) => void ingest.commitLocal(points);
  const certsPath = join(config.dataDir, "certs.db");
  const certStore = quarantine.open(certsPath, LOST.certs, () => {
    const opened = openCertStore(certsPath);
    opened.syncConfigDomains(
      config.certCheck.domains.map((d) => ({ ...d, checkIntervalSecs: d.intervalSecs })),
      startedAtMs,
    );
    return opened;
  });
  const certChecker = new CertChecker({
    store: certStore,
    config: config.certCheck,
    clock,
    log: log.with({ component: "certs" }),
    commit: commitLocal,
    extraCaCerts: certCaPem === undefined ? undefined : [certCaPem],
  });
  const checks = new ServerChecks({
    config: config.checks,
    clock,
    log: log.with({ component: "checks" }),
    commit: commitLocal,
  });

  const scheduler = new Scheduler({ clock, log });
  scheduler.add({
    name: "retention",
    intervalMs: MS_PER_HOUR,
    runAtStart: true,
    run: (nowMs) => {
      const cutoffMs = nowMs - config.retentionDays * MS_PER_DAY;
      const deleted = store.deleteBefore(cutoffMs, nowMs);
      if (deleted.length) log.info("retention removed partitions", { days: deleted.join(",") });
      // Series that storage forgot (or keeps only for their rollups) no longer count against
      // the cardinality limits.
      seriesGuard.resync(activeSeries());
      alerts.deleteHistoryBefore(cutoffMs);
      certStore.deleteResultsBefore(cutoffMs);
    },
  });
  if (config.certCheck.enabled) {
    scheduler.add({
      name: "cert-check",
      intervalMs: config.certCheck.tickSecs * 1000,
      runAtStart: true,
      run: (nowMs) => certChecker.tick(nowMs).then(() => {}),
    });
  }
  if (config.checks.checks.some((check) => check.type === "heartbeat")) {
    scheduler.add({ name: "heartbeats", intervalMs: 1_000, run: (nowMs) => checks.tick(nowMs) });
  }
  if (store.maintain) {
    // Seals idle open chunks, merges quiet late samples, compacts finished days: a tenth of
    // a second of work at most each second, so ingest replies wait little behind it.
    scheduler.add({
      name: "storage-maintenance",
      intervalMs: 1_000,
      run: (nowMs) => void store.maintain!(nowMs, 100),
    });
  }
  // A failed commit or a low-space refusal clears as soon as its cause goes, write or not.
  scheduler.add({ name: "storage-heal", intervalMs: 2_000, run: () => store.heal?.() });
  scheduler.add({ name: "alert-tick", intervalMs: 5_000, run: (nowMs) => alerts.tick(nowMs) });
  scheduler.add({ name: "notify", intervalMs: 1_000, run: (nowMs) => notifier.tick(nowMs) });

  const grpc = new GrpcIngestSupervisor({
    host: config.grpcHost,
    port: config.grpcPort,
    service: ingest,
    log: log.with({ component: "grpc" }),
    command: options.listenerCommand,
    maxMessageBytes: config.ingest.maxBatchBytes,
    tls: security.grpcTls && {
      certFile: security.grpcTls.certFile,
      keyFile: security.grpcTls.keyFile,
      ...(security.grpcTls.clientCaFile ? { clientCaFile: security.grpcTls.clientCaFile } : {}),
    },
    bounds: {
      maxConnections: security.grpc.maxConnections,
      maxConcurrentStreams: security.grpc.maxConcurrentStreams,
      maxInflightBytes: security.grpc.maxInflightBytes,
      inflightWaitMs: security.grpc.inflightWaitSecs * 1000,
      idleTimeoutMs: security.grpc.idleTimeoutSecs * 1000,
      keepaliveTimeMs: security.grpc.keepaliveTimeSecs * 1000,
      keepaliveTimeoutMs: security.grpc.keepaliveTimeoutSecs * 1000,
      handshakeTimeoutMs: security.grpc.handshakeTimeoutSecs * 1000,
    },
  });
  const app = createApiApp({
    store,
    registry,
    clock,
    startedAtMs,
    version: VERSION,
    agentIntervalSecs: config.agentIntervalSecs,
    log: log.with({ component: "api" }),
    rollups: rollupsOf(config),
    ingestStats: () => ({ ...ingest.stats(), grpc_listener_restarts: grpc.stats().restarts }),
    issues: () => [...quarantinedIssues(quarantine), ...(store.issues?.() ?? [])],
    warnings: () => [...warnings],
    auth: new ApiAuth({
      tokens: security.apiTokens,
      anonymousScope: security.apiTokens.length > 0 ? undefined : "admin",
      hostAllowed: createHostGuard({
        bindHost: config.httpHost,
        allowedHosts: security.http.allowedHosts,
      }),
      sessions: new SessionStore({ ttlMs: security.http.sessionTtlSecs * 1000 }),
      secureCookie: security.httpTls !== undefined,
      clock,
      log: log.with({ component: "api" }),
    }),
    whitelist: createWhitelistRoutes({
      store: whitelist,
      registry,
      clock,
      agentIntervalSecs: config.agentIntervalSecs,
      log: log.with({ component: "whitelist" }),
      maxAgentIdLength: config.ingest.maxAgentIdLength,
    }),
    mounts: apiMounts({
      alerts,
      fleet,
      deliveries: (query) => notifier.deliveries(query),
      certs: { store: certStore, checker: certChecker, clock },
      checks,
      // The access table already asks admin of these; the routes ask again themselves.
      guardWrites: requireScope("admin"),
    }),
    rootRoutes: rootMounts({
      remoteWriteIn,
      exposition: {
        version: VERSION,
        ingest: () => ingest.stats(),
        grpcListenerRestarts: () => grpc.stats().restarts,
        store,
        registry,
        agentIntervalSecs: config.agentIntervalSecs,
        nowMs: () => clock.now(),
        counters,
        activeAlerts: () => alerts.active().length,
        remoteWrite: () => remoteWrite.stats(),
        remoteWriteSkippedLate: () => remoteWrite.skippedLate,
        remoteWriteIn: () => remoteWriteIn.stats(),
        exposeAgentMetrics: config.prometheus.exposeAgentMetrics,
        log: log.with({ component: "metrics" }),
      },
      queryApi: {
        store,
        clock,
        log: log.with({ component: "prometheus_api" }),
        version: VERSION,
        lookbackDeltaSecs: config.prometheus.lookbackDeltaSecs,
        maxSamples: config.prometheus.queryMaxSamples,
      },
    }),
    healthSections: () => ({
      ...(remoteWrite.enabled ? { remote_write: remoteWriteHealth(remoteWrite.stats()) } : {}),
      series_limits: {
        series: seriesGuard.total,
        max_series_total: seriesLimits.maxSeriesTotal,
        max_series_per_agent: seriesLimits.maxSeriesPerAgent,
        max_new_series_per_agent_per_minute: seriesLimits.maxNewSeriesPerAgentPerMinute,
        points_refused_by_agent: seriesGuard.refusedByAgent(),
      },
    }),
  });
  // What start-up opened so far, closed again when a later step fails.
  const closeOpened = async () => {
    await scheduler.stop();
    await checks.stop();
    await certChecker.stop();
    certStore.close();
    alertFeed.close();
    await remoteWrite.stop(0);
    await notifier.close(0);
    alerts.close();
    store.close();
    registry.close();
    whitelist.close();
  };
  let http: Awaited<ReturnType<typeof serveApi>>;
  try {
    http = await serveApi(app, {
      hostname: config.httpHost,
      port: config.httpPort,
      log,
      tls: security.httpTls,
      headerTimeoutMs: security.http.headerTimeoutSecs * 1000,
      idleTimeoutMs: security.http.idleTimeoutSecs * 1000,
      maxConnections: security.http.maxConnections,
    });
  } catch (error) {
    await closeOpened();
    throw error;
  }
  let grpcPort: number;
  try {
    ({ port: grpcPort } = await grpc.start());
  } catch (error) {
    await http.shutdown();
    await closeOpened();
    throw error;
  }
  checks.start();
  remoteWrite.start();
  log.info("oxmon server started", {
    version: VERSION,
    grpc: `${config.grpcHost}:${grpcPort}`,
    http: `${config.httpHost}:${http.port}`,
    http_scheme: http.scheme,
    data_dir: config.dataDir,
    engine: config.storageEngine,
  });

  let resolveFinished!: () => void;
  const finished = new Promise<void>((resolve) => resolveFinished = resolve);
  let stopping: Promise<void> | undefined;
  const stop = () =>
    stopping ??= (async () => {
      log.info("oxmon server stopping");
      await grpc.stop();
      await http.shutdown(config.shutdownGraceSecs * 1000);
      await scheduler.stop();
      // Results of checks still running are dropped; those already made are committed.
      await checks.stop();
      await certChecker.stop();
      certStore.close();
      // Samples committed before the listener stopped are still evaluated and their events sent.
      alertFeed.flush();
      alertFeed.close();
      // What was committed is queued on disk; a send in flight gets the grace period.
      await remoteWrite.stop(config.shutdownGraceSecs * 1000);
      await notifier.close(config.shutdownGraceSecs * 1000);
      alerts.close();
      store.close();
      registry.close();
      whitelist.close();
      log.info("oxmon server stopped");
      resolveFinished();
    })();

  const routes = app.routes.map(({ method, path }) => ({ method, path }));
  const reloadTls = async () => {
    if (security.httpTls) await http.reloadTls();
    if (security.grpcTls) grpc.reloadTls();
  };
  return {
    grpcPort,
    httpPort: http.port,
    finished,
    stop,
    routes,
    reloadTls,
    grpcListenerPid: () => grpc.stats().pid,
  };
}
