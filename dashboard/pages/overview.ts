/**
 * The landing page: every agent as a row with status and latest core values, each with a
 * sparkline of the selected range, from one `GET /api/v1/fleet` call. Sorting, filtering,
 * grouping and paging happen here, and only the shown page's rows (and sparklines) are drawn.
 */
import { compileGlob } from "../../shared/glob.ts";
import { api, ApiError } from "../api.ts";
import { h, message, replace } from "../dom.ts";
import { formatAgo, formatDuration, formatTime, formatValue } from "../format.ts";
import { agentHref, hrefWith, replaceHash } from "../route.ts";
import { sparkline } from "../spark.ts";
import type { ActiveAlertsAnswer, FleetAgent, FleetAnswer } from "../types.ts";
import { Loads, type View } from "../view.ts";
import { alertChartHref, severityBadge, sourceLink } from "./alerts.ts";

const RANGES = ["15m", "1h", "6h", "24h", "7d", "30d"];
export const PAGE_SIZE = 50;
const REFRESH_MS = 10_000;

const STATUS_RANK = { absent: 0, inactive: 1, active: 2 } as const;

/** Where an agent's sparklines start: the bucket of its first report when that is in range. */
interface SparkStart {
  index: number;
  /** First seen within the range: its line is stretched over the cell (see `sparkBuckets`). */
  newcomer: boolean;
  title?: string;
}

interface Column {
  key: string;
  title: string;
  value: (agent: FleetAgent) => number | string | null;
  /** The cell's text and sparkline. */
  cell?: (agent: FleetAgent, start: SparkStart) => (HTMLElement | string)[];
}

function sparkCell(
  values: (number | null)[] | undefined,
  text: string,
  start: SparkStart,
  options: { max?: number; color: string },
) {
  return [
    h("span", { className: "now", title: text }, text),
    sparkline(sparkBuckets(values ?? [], start), {
      max: options.max,
      color: options.color,
      title: start.title,
    }),
  ];
}

/**
 * The buckets a sparkline draws. A newcomer's line runs across the cell (README), from its first
 * sample of the metric to its newest: a rate's first sample comes a round after the agent's
 * first report, which may be in the next bucket, and the current bucket, still filling, may hold
 * nothing yet; either empty bucket would leave half a new agent's cell blank. Other agents keep
 * every bucket of the range, so the same x is the same time down the column.
 */
export function sparkBuckets(
  values: readonly (number | null)[],
  start: SparkStart,
): (number | null)[] {
  if (!start.newcomer) return [...values];
  let first = start.index;
  while (first < values.length && values[first] === null) first++;
  let end = values.length;
  if (end - 1 > first && values[end - 1] === null) end--;
  return values.slice(first, end);
}

const COLUMNS: Column[] = [
  { key: "agent", title: "Agent", value: (a) => a.agent_id },
  {
    key: "status",
    title: "Status",
    value: (a) => STATUS_RANK[a.status] * 1e15 + Date.parse(a.last_seen),
  },
  {
    key: "cpu",
    title: "CPU",
    value: (a) => a.cpu,
    cell: (a, start) =>
      sparkCell(a.spark.cpu, formatValue(a.cpu, "percent"), start, { max: 100, color: "#3b82f6" }),
  },
  {
    key: "memory",
    title: "Memory",
    value: (a) => a.memory?.percent ?? null,
    cell: (a, start) =>
      sparkCell(a.spark.memory, formatValue(a.memory?.percent, "percent"), start, {
        max: 100,
        color: "#8b5cf6",
      }),
  },
  {
    key: "disk",
    title: "Fullest disk",
    value: (a) => a.disk?.percent ?? null,
    cell: (a, start) =>
      sparkCell(
        a.spark.disk,
        a.disk ? `${formatValue(a.disk.percent, "percent")} ${a.disk.mount}` : "–",
        start,
        { max: 100, color: "#f59e0b" },
      ),
  },
  {
    key: "network",
    title: "Network",
    value: (a) => a.network ? a.network.recv + a.network.sent : null,
    cell: (a, start) =>
      sparkCell(
        a.spark.network,
        a.network
          ? `↓${formatValue(a.network.recv, "bytes/s")} ↑${formatValue(a.network.sent, "bytes/s")}`
          : "–",
        start,
        { color: "#10b981" },
      ),
  },
  {
    key: "load",
    title: "Load",
    value: (a) => a.load?.load_1 ?? null,
    cell: (a, start) =>
      sparkCell(a.spark.load, formatValue(a.load?.load_1, ""), start, { color: "#06b6d4" }),
  },
  { key: "alerts", title: "Alerts", value: (a) => a.alerts.firing },
];

/**
 * An agent first seen within the range has no data before then: its sparklines start at that
 * bucket (so its minutes fill the line rather than make a dot at the right edge) and say so.
 */
export function sparkStart(
  agent: FleetAgent,
  fleet: Pick<FleetAnswer, "from" | "step_secs">,
  nowMs: number,
): SparkStart {
  const fromMs = Date.parse(fleet.from);
  const firstMs = Date.parse(agent.first_seen);
  if (!(firstMs > fromMs)) return { index: 0, newcomer: false };
  return {
    index: Math.floor((firstMs - fromMs) / (fleet.step_secs * 1000)),
    newcomer: true,
    title: `Since ${formatTime(firstMs, true)}: the agent has reported for ${
      formatDuration(Math.max(1000, nowMs - firstMs))
    }, less than the range`,
  };
}

/** `web-1` → `web`: the part before the first `-`, `.` or `_`. */
export function groupOf(agentId: string): string {
  const match = /^[^-._]+/.exec(agentId);
  return match ? match[0] : agentId;
}

function matcher(filter: string): (agentId: string) => boolean {
  const text = filter.trim();
  if (text === "") return () => true;
  if (/[*?[]/.test(text)) return compileGlob(text);
  const lower = text.toLowerCase();
  return (agentId) => agentId.toLowerCase().includes(lower);
}

export function overviewPage(view: View, params: URLSearchParams): void {
  const root = view.root;
  const state = {
    range: RANGES.includes(params.get("range") ?? "") ? params.get("range")! : "1h",
    filter: params.get("q") ?? "",
    sort: COLUMNS.some((c) => c.key === params.get("sort")) ? params.get("sort")! : "agent",
    descending: params.get("dir") === "desc",
    group: params.get("group") === "1",
    page: Math.max(0, Number(params.get("page") ?? 1) - 1 || 0),
  };
  let fleet: FleetAnswer | undefined;
  let alerts: ActiveAlertsAnswer | undefined;
  let error = "";
  let timer: number | undefined;
  const loads = new Loads(view);

  const alertsBox = h("section", { className: "firing", "aria-label": "Firing alerts" });
  const status = h("div", { className: "status-line", role: "status" });
  const filterInput = h("input", {
    type: "search",
    id: "filter",
    placeholder: "Filter by name or glob (web-*)",
    "aria-label": "Filter agents by name or glob",
    value: state.filter,
  });
  filterInput.addEventListener("input", () => {
    state.filter = filterInput.value;
    state.page = 0;
    render();
  });
  const rangeSelect = h(
    "select",
    { id: "range", "aria-label": "Sparkline range" },
    RANGES.map((range) => h("option", { value: range, selected: range === state.range }, range)),
  );
  rangeSelect.addEventListener("change", () => {
    state.range = rangeSelect.value;
    load();
  });
  const groupBox = h("input", { type: "checkbox", id: "group", checked: state.group });
  groupBox.addEventListener("change", () => {
    state.group = groupBox.checked;
    state.page = 0;
    render();
  });
  // The column headers sort on a wide screen; on a phone the rows are cards without headers.
  const sortSelect = h(
    "select",
    { id: "sort", "aria-label": "Sort agents by" },
    COLUMNS.map((c) => h("option", { value: c.key, selected: c.key === state.sort }, c.title)),
  );
  sortSelect.addEventListener("change", () => {
    state.sort = sortSelect.value;
    state.descending = state.sort !== "agent";
    render();
  });
  const table = h("div", { className: "table-wrap" });
  const pager = h("nav", { className: "pager", "aria-label": "Pages" });
  replace(
    root,
    h("h2", {}, "Fleet"),
    alertsBox,
    h(
      "div",
      { className: "toolbar" },
      filterInput,
      h("label", {}, "Range ", rangeSelect),
      h("label", {}, groupBox, " Group by name prefix"),
      h("label", { className: "narrow-only" }, "Sort ", sortSelect),
      status,
    ),
    table,
    pager,
  );

  function saveUrl() {
    replaceHash(hrefWith("/", {
      range: state.range === "1h" ? undefined : state.range,
      q: state.filter || undefined,
      sort: state.sort === "agent" ? undefined : state.sort,
      dir: state.descending ? "desc" : undefined,
      group: state.group ? "1" : undefined,
      page: state.page > 0 ? String(state.page + 1) : undefined,
    }));
  }

  function renderAlerts() {
    if (!alerts || alerts.count === 0) {
      replace(alertsBox);
      alertsBox.hidden = true;
      return;
    }
    alertsBox.hidden = false;
    replace(
      alertsBox,
      h("h3", {}, `Firing alerts (${alerts.count})`),
      h(
        "ul",
        {},
        alerts.alerts.slice(0, 10).map((alert) =>
          h(
            "li",
            { "data-rule": alert.rule, "data-agent": alert.agent_id },
            severityBadge(alert.severity),
            sourceLink(alert.agent_id),
            h("span", { className: "msg" }, alert.message),
            h("a", { href: alertChartHref(alert), className: "chart-link" }, "chart"),
            h("span", { className: "since" }, formatAgo(Date.parse(alert.since), Date.now())),
          )
        ),
      ),
      alerts.count > 10 ? h("a", { href: "#/alerts" }, `All ${alerts.count} alerts`) : null,
    );
  }

  function render() {
    saveUrl();
    sortSelect.value = state.sort;
    renderAlerts();
    if (!fleet) {
      replace(table, error ? message("error", error) : message("info", "Loading agents…"));
      replace(pager);
      return;
    }
    const match = matcher(state.filter);
    const column = COLUMNS.find((c) => c.key === state.sort)!;
    const direction = state.descending ? -1 : 1;
    const rows = fleet.agents.filter((agent) => match(agent.agent_id));
    rows.sort((a, b) => {
      if (state.group) {
        const ga = groupOf(a.agent_id);
        const gb = groupOf(b.agent_id);
        if (ga !== gb) return ga < gb ? -1 : 1;
      }
      const va = column.value(a);
      const vb = column.value(b);
      if (va === vb) return a.agent_id < b.agent_id ? -1 : 1;
      if (va === null) return 1; // no value last, either direction
      if (vb === null) return -1;
      return (va < vb ? -1 : 1) * direction;
    });
    const active = fleet.agents.filter((a) => a.status === "active").length;
    status.textContent = `${fleet.count} agents, ${active} active` +
      (rows.length !== fleet.count ? ` · ${rows.length} shown` : "") +
      (error ? ` · refresh failed: ${error}` : "");
    if (fleet.count === 0) {
      replace(
        table,
        message(
          "empty",
          "No agent has reported yet. Start one with `deno task agent --server http://HOST:9090`.",
        ),
      );
      replace(pager);
      return;
    }
    if (rows.length === 0) {
      replace(table, message("empty", `No agent matches "${state.filter}".`));
      replace(pager);
      return;
    }
    const pages = Math.ceil(rows.length / PAGE_SIZE);
    state.page = Math.min(state.page, pages - 1);
    const shown = rows.slice(state.page * PAGE_SIZE, (state.page + 1) * PAGE_SIZE);
    const groupCounts = new Map<string, number>();
    if (state.group) {
      for (const agent of rows) {
        const group = groupOf(agent.agent_id);
        groupCounts.set(group, (groupCounts.get(group) ?? 0) + 1);
      }
    }
    let lastGroup = "";
    const body = h("tbody");
    for (const agent of shown) {
      if (state.group && groupOf(agent.agent_id) !== lastGroup) {
        lastGroup = groupOf(agent.agent_id);
        body.appendChild(
          h(
            "tr",
            { className: "group" },
            h(
              "th",
              { colspan: COLUMNS.length, scope: "rowgroup" },
              `${lastGroup} (${groupCounts.get(lastGroup)})`,
            ),
          ),
        );
      }
      body.appendChild(row(agent));
    }
    replace(
      table,
      h(
        "table",
        { className: "fleet cards", "aria-label": "Agents" },
        h(
          "thead",
          {},
          h(
            "tr",
            {},
            COLUMNS.map((c) =>
              h(
                "th",
                {
                  scope: "col",
                  "aria-sort": c.key === state.sort
                    ? (state.descending ? "descending" : "ascending")
                    : null,
                },
                h(
                  "button",
                  {
                    type: "button",
                    className: "sort",
                    "data-sort": c.key,
                    onclick: () => {
                      if (state.sort === c.key) state.descending = !state.descending;
                      else {
                        state.sort = c.key;
                        state.descending = c.key !== "agent";
                      }
                      render();
                    },
                  },
                  c.title,
                  c.key === state.sort ? (state.descending ? " ▼" : " ▲") : "",
                ),
              )
            ),
          ),
        ),
        body,
      ),
    );
    replace(
      pager,
      pages > 1
        ? [
          h("button", {
            type: "button",
            disabled: state.page === 0,
            onclick: () => {
              state.page--;
              render();
            },
          }, "‹ Previous"),
          h("span", {}, `Page ${state.page + 1} of ${pages}`),
          h("button", {
            type: "button",
            disabled: state.page >= pages - 1,
            onclick: () => {
              state.page++;
              render();
            },
          }, "Next ›"),
        ]
        : [],
    );
  }

  function row(agent: FleetAgent): HTMLElement {
    const nowMs = Date.now();
    const statusText = agent.status === "absent" && agent.absent_since
      ? `absent since ${formatAgo(Date.parse(agent.absent_since), nowMs).replace(" ago", "")}`
      : agent.status;
    const start = sparkStart(agent, fleet!, nowMs);
    return h(
      "tr",
      { "data-agent": agent.agent_id, className: `status-${agent.status}` },
      h(
        "td",
        { className: "agent" },
        h("span", { className: `dot ${agent.status}`, "aria-hidden": "true" }),
        h("a", { href: agentHref(agent.agent_id, { range: state.range }) }, agent.agent_id),
        agent.hostname && agent.hostname !== agent.agent_id ? h("small", {}, agent.hostname) : null,
      ),
      h(
        "td",
        { className: "status" },
        h("span", {}, statusText),
        h("small", {}, `seen ${formatAgo(Date.parse(agent.last_seen), nowMs)}`),
        start.newcomer
          ? h(
            "small",
            { className: "new", title: start.title },
            `new: data for ${formatDuration(Math.max(1000, nowMs - Date.parse(agent.first_seen)))}`,
          )
          : null,
      ),
      COLUMNS.slice(2, 7).map((c) =>
        h("td", { className: `num ${c.key}`, "data-label": c.title }, c.cell!(agent, start))
      ),
      h(
        "td",
        { className: "alerts", "data-label": "Alerts" },
        agent.alerts.firing > 0
          ? [severityBadge(agent.alerts.severity ?? "info"), ` ${agent.alerts.firing}`]
          : null,
      ),
    );
  }

  async function load() {
    clearTimeout(timer);
    const signal = loads.start();
    const started = performance.now();
    try {
      const [fleetAnswer, alertAnswer] = await Promise.all([
        api<FleetAnswer>("/fleet", { range: state.range }, signal),
        api<ActiveAlertsAnswer>("/alerts/active", {}, signal).catch((e) => {
          if (e instanceof ApiError && e.status === 404) return undefined; // no alert engine
          throw e;
        }),
      ]);
      if (signal.aborted) return;
      fleet = fleetAnswer;
      alerts = alertAnswer;
      error = "";
    } catch (e) {
      if (signal.aborted) return;
      error = (e as Error).message;
    }
    render();
    root.dataset.loadedMs = String(Math.round(performance.now() - started));
    root.dataset.ready = "true";
    timer = setTimeout(load, REFRESH_MS);
  }

  view.onLeave(() => clearTimeout(timer));
  load();
}
