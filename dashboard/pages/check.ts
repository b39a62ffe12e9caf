/**
 * One check: what it probes, where it runs and its last result, and charts of its runs over a
 * range (presets, typed, or dragged on a chart): the share of runs that succeeded, how long they
 * took and, for HTTP, the status code and the certificate's days left.
 */
import { api, ApiError } from "../api.ts";
import { ChartCard, type ChartSeries } from "../chart.ts";
import { SERVER_AGENT_ID, typeOfTarget } from "../checks_model.ts";
import { h, message, replace } from "../dom.ts";
import { formatAgo, formatTime, formatValue } from "../format.ts";
import {
  chooseStepSecs,
  presetRange,
  rangeFromParams,
  rangeParams,
  type TimeRange,
} from "../range.ts";
import { RangeBar } from "../range_bar.ts";
import { agentHref, checkHref } from "../route.ts";
import type { AgentAnswer, LatestAnswer, MetricsAnswer, ServerCheck } from "../types.ts";
import { Loads, type View } from "../view.ts";

const REFRESH_MS = 10_000;

interface CheckChart {
  id: string;
  title: string;
  metric: string;
  unit: string;
  yRange?: [number, number];
  /** What a bucket shows: `check.up`'s average is the share of runs up, shown in percent. */
  scale?: number;
  /** Shown only for checks that report the metric (HTTP). */
  optional?: boolean;
  noSeriesText: string;
}

export const CHECK_CHARTS: CheckChart[] = [
  {
    id: "check-up",
    title: "Runs that succeeded",
    metric: "check.up",
    unit: "percent",
    yRange: [0, 100],
    scale: 100,
    noSeriesText: "No run of this check is stored.",
  },
  {
    id: "check-duration",
    title: "Duration",
    metric: "check.duration_seconds",
    unit: "seconds",
    noSeriesText: "A heartbeat is a ping: it has no duration.",
  },
  {
    id: "check-code",
    title: "HTTP status",
    metric: "check.status_code",
    unit: "",
    optional: true,
    noSeriesText: "No status code in this range.",
  },
  {
    id: "check-cert",
    title: "Certificate days left",
    metric: "check.certificate_days_until_expiry",
    unit: "days",
    optional: true,
    noSeriesText: "No certificate seen in this range.",
  },
];

export function checkPage(
  view: View,
  agentId: string,
  name: string,
  params: URLSearchParams,
): void {
  const root = view.root;
  const parsed = rangeFromParams(params, Date.now());
  let range: TimeRange = parsed.range;
  let paused = params.get("paused") === "1";
  let timer: number | undefined;
  const loads = new Loads(view);
  const started = performance.now();
  const onServer = agentId === SERVER_AGENT_ID;

  const title = h("h2", { id: "check-title" }, name);
  const info = h("p", { className: "sysinfo", id: "check-info" });
  const last = h("div", { id: "check-last" });
  const rangeError = h("div", { id: "range-error" });
  if (parsed.error) {
    replace(
      rangeError,
      message(
        "error",
        `${parsed.error} Showing the last hour instead. `,
        h("a", { href: checkHref(agentId, name) }, "Clear the range"),
      ),
    );
  }
  const bar = new RangeBar({
    errorBox: rangeError,
    onRange: setRange,
    onPause: (next) => {
      paused = next;
      saveUrl();
      bar.render(range, paused);
      if (!paused) load();
      else clearTimeout(timer);
    },
  });
  const cards = new Map(CHECK_CHARTS.map((def) => [
    def.id,
    new ChartCard({
      id: def.id,
      title: def.title,
      unit: def.unit,
      yRange: def.yRange,
      onZoom: (fromMs, toMs) => setRange({ kind: "custom", fromMs, toMs }),
    }),
  ]));
  replace(
    root,
    h("a", { href: "#/checks", className: "back" }, "← Checks"),
    title,
    info,
    last,
    rangeError,
    bar.element,
    h("div", { className: "charts", id: "charts" }, [...cards.values()].map((c) => c.element)),
  );

  function saveUrl() {
    const query: Record<string, string> = rangeParams(range);
    if (paused) query.paused = "1";
    const hash = checkHref(agentId, name, query);
    if (location.hash !== hash) history.pushState(null, "", hash);
  }

  function setRange(next: TimeRange) {
    range = next;
    replace(rangeError);
    saveUrl();
    load();
  }

  function showHeader(
    state: "up" | "down" | "waiting" | "unknown",
    facts: (string | Node | null)[],
  ) {
    replace(
      title,
      h("span", { className: `dot ${state}`, "aria-hidden": "true" }),
      name,
      h("small", {}, ` ${state}`),
    );
    replace(
      info,
      facts.filter((fact) => fact !== null).flatMap((fact, i) => i ? [" · ", fact] : [fact]),
    );
  }

  /** The server's own check: its configuration and last result from `/checks/:name`. */
  async function loadServerInfo(signal: AbortSignal) {
    const check = await api<ServerCheck>(`/checks/${encodeURIComponent(name)}`, {}, signal);
    const nowMs = Date.now();
    const result = check.last_result;
    const next = check.next_run_at ?? check.next_ping_due ?? null;
    showHeader(result === null ? "waiting" : result.up ? "up" : "down", [
      check.type,
      check.target,
      `runs on the server every ${formatValue(check.interval_secs, "seconds")}`,
      next
        ? `${check.type === "heartbeat" ? "next ping due" : "next run"} ${
          formatAgo(Date.parse(next), nowMs)
        }`
        : null,
    ]);
    replace(
      last,
      result === null ? message("info", "No run yet since the server started.") : h(
        "p",
        { className: `last-result ${result.up ? "up" : "down"}` },
        h("b", {}, result.up ? "Up" : "Down"),
        ` ${formatAgo(Date.parse(result.at), nowMs)}: ${result.message}`,
        result.type === "heartbeat"
          ? ""
          : ` · ${formatValue(result.duration_ms / 1000, "seconds")}`,
        result.status_code === null ? "" : ` · HTTP ${result.status_code}`,
        result.certificate_days_left === null
          ? ""
          : ` · certificate ${formatValue(result.certificate_days_left, "days")} left`,
        result.answers?.length ? ` · answers ${result.answers.join(", ")}` : "",
      ),
    );
  }

  /** An agent's check: what storage knows (its newest samples) and the agent's status. */
  async function loadAgentInfo(signal: AbortSignal) {
    const [latest, agent] = await Promise.all([
      api<LatestAnswer>("/metrics/latest", { agent: agentId, "label.check": name }, signal),
      onServer
        ? undefined
        : api<AgentAnswer>(`/agents/${encodeURIComponent(agentId)}`, {}, signal).catch(() =>
          undefined
        ),
    ]);
    signal.throwIfAborted(); // the agent's status is optional: its abort is swallowed above
    const up = latest.series.filter((one) => one.metric === "check.up")
      .sort((a, b) => Date.parse(b.timestamp) - Date.parse(a.timestamp))[0];
    if (!up) {
      showHeader("unknown", [onServer ? "not in the server's config" : agentLink()]);
      replace(last, message("empty", `No result of "${name}" is stored for ${agentId}.`));
      return;
    }
    const atMs = Date.parse(up.timestamp);
    const sameRun = (metric: string) =>
      latest.series.find((one) =>
        one.metric === metric && one.labels.target === up.labels.target &&
        Date.parse(one.timestamp) === atMs
      )?.value ?? null;
    const target = up.labels.target ?? "";
    const duration = sameRun("check.duration_seconds");
    const code = sameRun("check.status_code");
    showHeader(up.value === 1 ? "up" : "down", [
      typeOfTarget(target),
      target,
      onServer ? "no longer in the server's config" : agentLink(),
      agent && agent.status !== "active" ? `the agent is ${agent.status}` : null,
    ]);
    replace(
      last,
      h(
        "p",
        { className: `last-result ${up.value === 1 ? "up" : "down"}` },
        h("b", {}, up.value === 1 ? "Up" : "Down"),
        ` ${formatAgo(atMs, Date.now())}`,
        duration === null ? "" : ` · ${formatValue(duration, "seconds")}`,
        code === null ? "" : ` · HTTP ${code}`,
      ),
    );
  }

  function agentLink() {
    return h("span", {}, "runs on agent ", h("a", { href: agentHref(agentId) }, agentId));
  }

  async function loadChart(
    def: CheckChart,
    window: TimeRange,
    stepSecs: number,
    signal: AbortSignal,
  ) {
    const answer = await api<MetricsAnswer>("/metrics", {
      agent: agentId,
      metric: def.metric,
      "label.check": name,
      from: Math.floor(window.fromMs),
      to: Math.floor(window.toMs),
      step: `${stepSecs}s`,
    }, signal);
    const scale = def.scale ?? 1;
    return answer.series.map((one): ChartSeries => ({
      label: one.labels.target ?? name,
      times: one.points.map((p) => Date.parse(p.timestamp)),
      values: one.points.map((p) => p.avg * scale),
    }));
  }

  async function load() {
    clearTimeout(timer);
    const signal = loads.start();
    if (range.kind === "preset") range = presetRange(range.preset, Date.now());
    bar.render(range, paused);
    const window = range;
    const stepSecs = chooseStepSecs(window.toMs - window.fromMs);
    root.dataset.step = String(stepSecs);
    try {
      const info = onServer
        ? loadServerInfo(signal).catch((e) => {
          // Not (or no longer) configured: what storage still holds of it.
          if (e instanceof ApiError && e.status === 404) return loadAgentInfo(signal);
          throw e;
        })
        : loadAgentInfo(signal);
      const [, ...loaded] = await Promise.all([
        info,
        ...CHECK_CHARTS.map((def) => loadChart(def, window, stepSecs, signal)),
      ]);
      if (signal.aborted) return;
      // As on the agent page: a new check's runs fill the charts instead of a sliver at the end.
      let first = Infinity;
      for (const series of loaded) {
        for (const one of series) first = Math.min(first, one.times[0] ?? Infinity);
      }
      const fromMs = Number.isFinite(first)
        ? Math.max(window.fromMs, Math.min(first, window.toMs - 60_000))
        : window.fromMs;
      CHECK_CHARTS.forEach((def, i) => {
        const card = cards.get(def.id)!;
        card.element.hidden = def.optional === true && loaded[i].length === 0;
        card.update({
          series: loaded[i],
          fromMs,
          toMs: window.toMs,
          stepMs: stepSecs * 1000,
          noSeriesText: def.noSeriesText,
        });
      });
      bar.updated.textContent = `Updated ${formatTime(Date.now(), true)} · step ${
        formatValue(stepSecs, "seconds")
      }`;
    } catch (e) {
      if (signal.aborted) return;
      bar.updated.textContent = `Refresh failed: ${(e as Error).message}`;
      if (!root.dataset.drawn) replace(last, message("error", (e as Error).message));
    }
    if (!root.dataset.drawn) root.dataset.drawnMs = String(Math.round(performance.now() - started));
    root.dataset.drawn = "true";
    root.dataset.ready = "true";
    if (range.kind === "preset" && !paused) timer = setTimeout(load, REFRESH_MS);
  }

  view.onLeave(() => {
    clearTimeout(timer);
    for (const card of cards.values()) card.destroy();
  });
  load();
}
