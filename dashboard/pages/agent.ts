/**
 * One agent: its system information and charts of every metric family over a range picked from
 * presets, typed in, or dragged on a chart. The range lives in the URL; preset ranges refresh
 * every 10 s unless paused. Each chart asks for buckets of a step that keeps every series under
 * about 1,000 points.
 */
import { api } from "../api.ts";
import { ChartCard, type ChartSeries } from "../chart.ts";
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
import { agentHref } from "../route.ts";
import type { AgentAnswer, MetricsAnswer } from "../types.ts";
import { Loads, type View } from "../view.ts";

const REFRESH_MS = 10_000;

interface ChartDef {
  id: string;
  title: string;
  unit: string;
  metrics: string[];
  yRange?: [number, number];
  /** The legend name of one series. */
  label: (metric: string, labels: Record<string, string>) => string;
  noSeriesText: string;
}

const tail = (metric: string) => metric.slice(metric.indexOf(".") + 1);
const ioName = (metric: string) =>
  metric.replace(/^disk\./, "").replace(/_(bytes|ops)_per_sec$/, "");
const netName = (metric: string) =>
  metric.replace(/^network\.(bytes|packets)_/, "").replace("recv", "in").replace("sent", "out");

export const CHARTS: ChartDef[] = [
  {
    id: "cpu",
    title: "CPU",
    unit: "percent",
    metrics: ["cpu.usage"],
    yRange: [0, 100],
    label: (metric, labels) => metric === "cpu.usage" ? "all cores" : `core ${labels.core}`,
    noSeriesText: "This agent reports no CPU usage.",
  },
  {
    id: "memory",
    title: "Memory and swap",
    unit: "percent",
    metrics: ["memory.used_percent", "memory.swap_percent"],
    yRange: [0, 100],
    label: (metric) => metric === "memory.used_percent" ? "memory" : "swap",
    noSeriesText: "This agent reports no memory use.",
  },
  {
    id: "disk",
    title: "Disk space",
    unit: "percent",
    metrics: ["disk.used_percent"],
    yRange: [0, 100],
    label: (_metric, labels) => labels.mount ?? "?",
    noSeriesText: "This agent reports no file system (or its filters exclude them all).",
  },
  {
    id: "disk-io",
    title: "Disk I/O",
    unit: "bytes/s",
    metrics: ["disk.read_bytes_per_sec", "disk.write_bytes_per_sec"],
    label: (metric, labels) => `${labels.device} ${ioName(metric)}`,
    noSeriesText: "This agent reports no disk I/O.",
  },
  {
    id: "disk-ops",
    title: "Disk operations",
    unit: "ops/s",
    metrics: ["disk.read_ops_per_sec", "disk.write_ops_per_sec"],
    label: (metric, labels) => `${labels.device} ${ioName(metric)}`,
    noSeriesText: "This agent reports no disk I/O.",
  },
  {
    id: "network",
    title: "Network traffic",
    unit: "bytes/s",
    metrics: ["network.bytes_recv", "network.bytes_sent"],
    label: (metric, labels) => `${labels.interface} ${netName(metric)}`,
    noSeriesText: "This agent reports no network interface (or its filters exclude them all).",
  },
  {
    id: "packets",
    title: "Network packets",
    unit: "packets/s",
    metrics: ["network.packets_recv", "network.packets_sent"],
    label: (metric, labels) => `${labels.interface} ${netName(metric)}`,
    noSeriesText: "This agent reports no network interface (or its filters exclude them all).",
  },
  {
    id: "load",
    title: "Load average",
    unit: "",
    metrics: ["system.load_1", "system.load_5", "system.load_15"],
    label: (metric) => tail(metric).replace("_", " "),
    noSeriesText: "This agent reports no load average.",
  },
  {
    id: "uptime",
    title: "Uptime",
    unit: "seconds",
    metrics: ["system.uptime"],
    label: () => "uptime",
    noSeriesText: "This agent reports no uptime.",
  },
];

/** The chart that shows `metric` (for links from alerts). */
export function chartOf(metric: string): string | undefined {
  if (metric === "cpu.core_usage") return "cpu";
  return CHARTS.find((def) => def.metrics.includes(metric))?.id;
}

export function agentPage(view: View, agentId: string, params: URLSearchParams): void {
  const root = view.root;
  const parsed = rangeFromParams(params, Date.now());
  let range: TimeRange = parsed.range;
  let perCore = params.get("cores") === "1";
  let paused = params.get("paused") === "1";
  const focus = params.get("focus");
  let focused = false;
  let timer: number | undefined;
  const loads = new Loads(view);
  const started = performance.now();

  const info = h("p", { className: "sysinfo", id: "sysinfo" });
  const title = h("h2", { id: "agent-title" }, agentId);
  const rangeError = h("div", { id: "range-error" });
  if (parsed.error) {
    replace(
      rangeError,
      message(
        "error",
        `${parsed.error} Showing the last hour instead. `,
        h("a", {
          href: agentHref(agentId),
        }, "Clear the range"),
      ),
    );
  }
  const bar = new RangeBar({
    errorBox: rangeError,
    onRange: setRange,
    onPause: (next) => {
      paused = next;
      saveUrl();
      renderControls();
      if (!paused) load();
      else clearTimeout(timer);
    },
  });
  const updated = bar.updated;
  const coresBox = h("input", { type: "checkbox", id: "per-core", checked: perCore });
  coresBox.addEventListener("change", () => {
    perCore = coresBox.checked;
    saveUrl();
    load();
  });

  const cards = new Map<string, ChartCard>();
  for (const def of CHARTS) {
    cards.set(
      def.id,
      new ChartCard({
        id: def.id,
        title: def.title,
        unit: def.unit,
        yRange: def.yRange,
        controls: def.id === "cpu"
          ? [h("label", { className: "toggle" }, coresBox, " per core")]
          : undefined,
        onZoom: (fromMs, toMs) => setRange({ kind: "custom", fromMs, toMs }),
      }),
    );
  }
  const grid = h(
    "div",
    { className: "charts", id: "charts" },
    [...cards.values()].map((c) => c.element),
  );

  replace(
    root,
    h("a", { href: "#/", className: "back" }, "← Fleet"),
    title,
    info,
    rangeError,
    bar.element,
    grid,
  );

  function renderControls() {
    bar.render(range, paused);
  }

  function saveUrl() {
    const query: Record<string, string> = rangeParams(range);
    if (perCore) query.cores = "1";
    if (paused) query.paused = "1";
    const hash = agentHref(agentId, query);
    if (location.hash !== hash) history.pushState(null, "", hash);
  }

  function setRange(next: TimeRange) {
    range = next;
    replace(rangeError);
    saveUrl();
    load();
  }

  async function loadInfo(signal: AbortSignal) {
    try {
      const agent = await api<AgentAnswer>(`/agents/${encodeURIComponent(agentId)}`, {}, signal);
      const system = agent.system_info;
      const nowMs = Date.now();
      replace(
        title,
        h("span", { className: `dot ${agent.status}`, "aria-hidden": "true" }),
        `${agent.agent_id}`,
        h("small", {}, ` ${agent.status} · seen ${formatAgo(Date.parse(agent.last_seen), nowMs)}`),
      );
      info.textContent = system
        ? [
          system.hostname,
          `${system.os} ${system.os_version}`.trim(),
          system.kernel_version && `kernel ${system.kernel_version}`,
          system.arch,
          system.cpu_cores && `${system.cpu_cores} cores`,
          system.memory_gb && `${system.memory_gb} GB memory`,
          system.disk_gb && `${system.disk_gb} GB disk`,
        ].filter(Boolean).join(" · ")
        : "No system information reported.";
      return true;
    } catch (e) {
      if (!signal.aborted) replace(info, message("error", (e as Error).message));
      return false;
    }
  }

  async function loadChart(
    def: ChartDef,
    window: TimeRange,
    stepSecs: number,
    signal: AbortSignal,
  ) {
    const metrics = def.id === "cpu" && perCore ? [...def.metrics, "cpu.core_usage"] : def.metrics;
    const answers = await Promise.all(metrics.map((metric) =>
      api<MetricsAnswer>("/metrics", {
        agent: agentId,
        metric,
        from: Math.floor(window.fromMs),
        to: Math.floor(window.toMs),
        step: `${stepSecs}s`,
      }, signal)
    ));
    const series: ChartSeries[] = [];
    for (const answer of answers) {
      for (const one of answer.series) {
        series.push({
          label: def.label(one.metric, one.labels),
          times: one.points.map((p) => Date.parse(p.timestamp)),
          values: one.points.map((p) => p.avg),
          strong: perCore && one.metric === "cpu.usage",
          order: metrics.indexOf(one.metric),
        });
      }
    }
    const coreNumber = (label: string) => Number(label.replace(/\D/g, "")) || 0;
    series.sort((a, b) =>
      (a.order ?? 0) - (b.order ?? 0) ||
      (a.label.startsWith("core ") && b.label.startsWith("core ")
        ? coreNumber(a.label) - coreNumber(b.label)
        : a.label < b.label
        ? -1
        : 1)
    );
    return series;
  }

  async function load() {
    clearTimeout(timer);
    const signal = loads.start();
    if (range.kind === "preset") range = presetRange(range.preset, Date.now());
    renderControls();
    const stepSecs = chooseStepSecs(range.toMs - range.fromMs);
    const window = range;
    root.dataset.step = String(stepSecs);
    try {
      const [known, ...loaded] = await Promise.all([
        loadInfo(signal),
        ...CHARTS.map((def) => loadChart(def, window, stepSecs, signal)),
      ]);
      // loadInfo answers false, not an AbortError, when aborted after the charts came.
      if (signal.aborted) return;
      if (!known) {
        for (const card of cards.values()) {
          card.update({
            series: [],
            fromMs: window.fromMs,
            toMs: window.toMs,
            stepMs: stepSecs * 1000,
            noSeriesText: "No data: this agent is not known to the server.",
          });
        }
      } else {
        // The x axis starts at the agent's first sample when that is later, so a new agent's
        // few minutes fill the chart instead of a sliver at its right edge.
        let fromMs = window.fromMs;
        {
          let first = Infinity;
          for (const series of loaded) {
            for (const one of series) first = Math.min(first, one.times[0] ?? Infinity);
          }
          // At least a minute, so a few seconds of data are not spread over the whole width.
          if (Number.isFinite(first)) {
            fromMs = Math.max(fromMs, Math.min(first, window.toMs - 60_000));
          }
        }
        CHARTS.forEach((def, i) =>
          cards.get(def.id)!.update({
            series: loaded[i],
            fromMs,
            toMs: window.toMs,
            stepMs: stepSecs * 1000,
            noSeriesText: def.noSeriesText,
          })
        );
      }
      updated.textContent = `Updated ${formatTime(Date.now(), true)} · step ${
        formatValue(stepSecs, "seconds")
      }`;
    } catch (e) {
      if (signal.aborted) return;
      updated.textContent = `Refresh failed: ${(e as Error).message}`;
      if (!root.dataset.drawn) {
        for (const card of cards.values()) {
          card.update({
            series: [],
            fromMs: window.fromMs,
            toMs: window.toMs,
            stepMs: stepSecs * 1000,
            noSeriesText: `Cannot load: ${(e as Error).message}`,
          });
        }
      }
    }
    if (!root.dataset.drawn) root.dataset.drawnMs = String(Math.round(performance.now() - started));
    root.dataset.drawn = "true";
    root.dataset.from = String(range.fromMs);
    root.dataset.to = String(range.toMs);
    if (focus && !focused) {
      focused = true;
      const chart = document.getElementById(`chart-${chartOf(focus) ?? ""}`);
      if (chart) {
        chart.classList.add("focus");
        chart.scrollIntoView({ block: "center" });
      }
    }
    if (range.kind === "preset" && !paused) timer = setTimeout(load, REFRESH_MS);
  }

  view.onLeave(() => {
    clearTimeout(timer);
    for (const card of cards.values()) card.destroy();
  });
  load();
}
