/**
 * Alerts: what is firing now (with its current value and how long), the history with filters
 * and paging, the configured rules and the notification deliveries. Every alert links to the
 * chart of its series around the time it fired.
 */
import { METRIC_CATALOG } from "../../shared/catalog.ts";
import { api, ApiError } from "../api.ts";
import { h, message, replace } from "../dom.ts";
import { formatDuration, formatLabels, formatTime, formatValue } from "../format.ts";
import { CERT_AGENT_ID, SERVER_AGENT_ID } from "../checks_model.ts";
import { agentHref, certHref, checkHref, hrefWith, replaceHash } from "../route.ts";
import type {
  ActiveAlert,
  ActiveAlertsAnswer,
  AlertEvent,
  DeliveriesAnswer,
  HistoryAnswer,
  RulesAnswer,
  Severity,
} from "../types.ts";
import { Loads, type View } from "../view.ts";

const HISTORY_PAGE = 50;
const DELIVERY_PAGE = 20;
const REFRESH_MS = 10_000;
const CONTEXT_MS = 30 * 60_000;

/** The unit of an alert's value: its metric's for rules that compare the metric itself. */
const unitOf = (alert: { metric: string; rule_type: string }) =>
  alert.rule_type === "threshold" || alert.rule_type === "trend_prediction" ||
    alert.rule_type === "cert_expiration"
    ? METRIC_CATALOG[alert.metric]?.unit ?? ""
    : "";

export function severityBadge(severity: Severity): HTMLElement {
  return h("span", { className: `sev ${severity}` }, severity);
}

/**
 * Where an alert's series is drawn, over the half hour either side of `atMs`: a check's own
 * page for `check.*`, the certificate's for `certificate.*`, otherwise the agent page focused on
 * the alert's chart.
 */
export function chartHref(
  agentId: string,
  metric: string,
  atMs: number,
  labels: Record<string, string> = {},
): string {
  const nowMs = Date.now();
  const params: Record<string, string> = {
    from: new Date(atMs - CONTEXT_MS).toISOString(),
    to: new Date(Math.min(nowMs, atMs + CONTEXT_MS)).toISOString(),
  };
  if (metric.startsWith("check.") && labels.check) return checkHref(agentId, labels.check, params);
  if (metric.startsWith("certificate.") && labels.domain) {
    return certHref(labels.domain, Number(labels.port ?? 443));
  }
  if (metric) params.focus = metric;
  return agentHref(agentId, params);
}

export function alertChartHref(alert: ActiveAlert): string {
  return chartHref(alert.agent_id, alert.metric, Date.parse(alert.since), alert.labels);
}

/** An alert's source: an agent's page, or the checks page for the server's own identities. */
export function sourceLink(agentId: string): HTMLElement {
  const own = agentId === SERVER_AGENT_ID || agentId === CERT_AGENT_ID;
  return h("a", { href: own ? "#/checks" : agentHref(agentId) }, agentId);
}

function series(alert: { metric: string; labels: Record<string, string> }): string {
  const labels = formatLabels(alert.labels);
  return alert.metric + (labels ? ` {${labels}}` : "");
}

export function alertsPage(view: View, params: URLSearchParams): void {
  const root = view.root;
  const filters = {
    severity: params.get("severity") ?? "",
    agent: params.get("agent") ?? "",
    rule: params.get("rule") ?? "",
    status: params.get("status") ?? "",
    from: params.get("from") ?? "",
    to: params.get("to") ?? "",
  };
  let historyPage = Math.max(0, Number(params.get("page") ?? 1) - 1 || 0);
  let deliveryPage = 0;
  let rules: RulesAnswer | undefined;
  let timer: number | undefined;
  const loads = new Loads(view);
  // The history and the deliveries also load on their own (filters, pagers): whichever load of
  // each started last is the one shown.
  const historyLoads = new Loads(view);
  const deliveryLoads = new Loads(view);

  const activeBox = h("section", {
    className: "card",
    id: "active",
    "aria-labelledby": "h-active",
  });
  const historyBox = h("div", { className: "table-wrap" });
  const historyPager = h("nav", { className: "pager", "aria-label": "History pages" });
  const rulesBox = h("section", { className: "card", id: "rules", "aria-labelledby": "h-rules" });
  const deliveriesBox = h("div", { className: "table-wrap" });
  const deliveryPager = h("nav", { className: "pager", "aria-label": "Delivery pages" });

  const field = (
    name: keyof typeof filters,
    label: string,
    input: HTMLInputElement | HTMLSelectElement,
  ) => {
    input.id = `f-${name}`;
    input.value = filters[name];
    input.addEventListener("change", () => {
      filters[name] = input.value;
      historyPage = 0;
      loadHistory();
    });
    return h("label", { for: input.id }, label, " ", input);
  };
  const options = (
    values: string[],
  ) => [h("option", { value: "" }, "any"), ...values.map((v) => h("option", { value: v }, v))];
  const ruleSelect = h("select", {}, options([]));
  const filterForm = h(
    "form",
    { className: "filters", onsubmit: (e: Event) => e.preventDefault() },
    field("severity", "Severity", h("select", {}, options(["critical", "warning", "info"]))),
    field("status", "Status", h("select", {}, options(["firing", "resolved"]))),
    field("rule", "Rule", ruleSelect),
    field("agent", "Agent", h("input", { type: "text", placeholder: "agent id" })),
    field("from", "From", h("input", { type: "datetime-local", step: 1 })),
    field("to", "To", h("input", { type: "datetime-local", step: 1 })),
  );

  replace(
    root,
    h("h2", {}, "Alerts"),
    h(
      "nav",
      { className: "jump", "aria-label": "Sections" },
      h("a", { href: "#/alerts", onclick: jump("active") }, "Firing"),
      h("a", { href: "#/alerts", onclick: jump("history") }, "History"),
      h("a", { href: "#/alerts", onclick: jump("rules") }, "Rules"),
      h("a", { href: "#/alerts", onclick: jump("deliveries") }, "Notifications"),
    ),
    activeBox,
    h(
      "section",
      { className: "card", id: "history", "aria-labelledby": "h-history" },
      h("h3", { id: "h-history" }, "History"),
      filterForm,
      historyBox,
      historyPager,
    ),
    rulesBox,
    h(
      "section",
      { className: "card", id: "deliveries", "aria-labelledby": "h-deliveries" },
      h("h3", { id: "h-deliveries" }, "Notification deliveries"),
      deliveriesBox,
      deliveryPager,
    ),
  );

  function jump(id: string) {
    return (event: Event) => {
      event.preventDefault();
      document.getElementById(id)?.scrollIntoView({ block: "start" });
    };
  }

  const localToIso = (text: string) => {
    if (!text) return undefined;
    const ms = new Date(text).getTime();
    return Number.isFinite(ms) ? new Date(ms).toISOString() : undefined;
  };

  function saveUrl() {
    replaceHash(hrefWith("/alerts", {
      ...filters,
      page: historyPage > 0 ? String(historyPage + 1) : undefined,
    }));
  }

  async function loadActive(signal: AbortSignal) {
    try {
      const answer = await api<ActiveAlertsAnswer>("/alerts/active", {}, signal);
      const nowMs = Date.now();
      replace(
        activeBox,
        h("h3", { id: "h-active" }, `Firing now (${answer.count})`),
        answer.count === 0 ? message("empty", "Nothing is firing.") : h(
          "div",
          { className: "table-wrap" },
          h(
            "table",
            { className: "active-alerts" },
            h(
              "thead",
              {},
              h(
                "tr",
                {},
                ["Severity", "Rule", "Agent", "Series", "Value now", "Threshold", "Firing for", ""]
                  .map((title) => h("th", { scope: "col" }, title)),
              ),
            ),
            h(
              "tbody",
              {},
              answer.alerts.map((alert) =>
                h(
                  "tr",
                  { "data-rule": alert.rule, "data-agent": alert.agent_id },
                  h("td", {}, severityBadge(alert.severity)),
                  h("td", {}, alert.rule),
                  h("td", {}, sourceLink(alert.agent_id)),
                  h("td", { className: "series" }, alert.metric ? series(alert) : "–"),
                  h(
                    "td",
                    { className: "num value-now" },
                    formatValue(alert.current_value ?? alert.value, unitOf(alert)),
                  ),
                  h("td", { className: "num" }, formatValue(alert.threshold, unitOf(alert))),
                  h("td", {}, formatDuration(nowMs - Date.parse(alert.since))),
                  h(
                    "td",
                    {},
                    h("a", { href: alertChartHref(alert), className: "chart-link" }, "chart"),
                  ),
                )
              ),
            ),
          ),
        ),
      );
    } catch (e) {
      if (signal.aborted) return;
      replace(activeBox, h("h3", { id: "h-active" }, "Firing now"), failure(e));
    }
  }

  function failure(e: unknown) {
    if (e instanceof ApiError && e.status === 404) {
      return message("info", "This server has no alert engine mounted.");
    }
    return message("error", (e as Error).message);
  }

  async function loadHistory() {
    saveUrl();
    const signal = historyLoads.start();
    try {
      const answer = await api<HistoryAnswer>("/alerts/history", {
        severity: filters.severity,
        status: filters.status,
        rule: filters.rule,
        agent: filters.agent.trim(),
        from: localToIso(filters.from),
        to: localToIso(filters.to),
        limit: HISTORY_PAGE,
        offset: historyPage * HISTORY_PAGE,
      }, signal);
      replace(
        historyBox,
        answer.total === 0 ? message("empty", "No recorded alert matches these filters.") : h(
          "table",
          { className: "history" },
          h(
            "thead",
            {},
            h(
              "tr",
              {},
              ["Time", "Status", "Severity", "Rule", "Agent", "Message", ""].map((title) =>
                h("th", { scope: "col" }, title)
              ),
            ),
          ),
          h("tbody", {}, answer.events.map(eventRow)),
        ),
      );
      pagerOf(historyPager, answer.total, HISTORY_PAGE, historyPage, (page) => {
        historyPage = page;
        loadHistory();
      });
    } catch (e) {
      if (signal.aborted) return;
      replace(historyBox, failure(e));
      replace(historyPager);
    }
  }

  function eventRow(event: AlertEvent) {
    const atMs = Date.parse(event.firing_since ?? event.timestamp);
    return h(
      "tr",
      { "data-rule": event.rule, "data-agent": event.agent_id, "data-status": event.status },
      h("td", {}, formatTime(Date.parse(event.timestamp))),
      h("td", { className: `status ${event.status}` }, event.status),
      h("td", {}, severityBadge(event.severity)),
      h("td", {}, event.rule),
      h("td", {}, sourceLink(event.agent_id)),
      h("td", { className: "msg" }, event.message),
      h(
        "td",
        {},
        h(
          "a",
          {
            href: chartHref(event.agent_id, event.metric, atMs, event.labels),
            className: "chart-link",
          },
          "chart",
        ),
      ),
    );
  }

  async function loadRules(signal: AbortSignal) {
    try {
      rules = await api<RulesAnswer>("/alerts/rules", {}, signal);
      replace(ruleSelect, options(rules.rules.map((rule) => rule.name)));
      ruleSelect.value = filters.rule;
      const condition = (rule: Record<string, unknown>) => {
        const skip = new Set(["name", "type", "metric", "agent_pattern", "labels", "severity"]);
        return Object.entries(rule).filter(([key]) => !skip.has(key))
          .map(([key, value]) => `${key} = ${value}`).join(", ");
      };
      replace(
        rulesBox,
        h("h3", { id: "h-rules" }, `Rules (${rules.rules.length})`),
        rules.rules.length === 0
          ? message("empty", "No alert rule is configured ([[alert.rules]] in the server config).")
          : h(
            "div",
            { className: "table-wrap" },
            h(
              "table",
              { className: "rules" },
              h(
                "thead",
                {},
                h(
                  "tr",
                  {},
                  ["Name", "Type", "Metric", "Agents", "Labels", "Condition", "Severity"].map(
                    (title) => h("th", { scope: "col" }, title),
                  ),
                ),
              ),
              h(
                "tbody",
                {},
                rules.rules.map((rule) =>
                  h(
                    "tr",
                    { "data-rule": rule.name },
                    h("td", {}, rule.name),
                    h("td", {}, rule.type),
                    h("td", {}, String(rule.metric || "–")),
                    h("td", {}, String(rule.agent_pattern)),
                    h("td", {}, formatLabels((rule.labels ?? {}) as Record<string, string>) || "–"),
                    h("td", { className: "condition" }, condition(rule)),
                    h("td", {}, severityBadge(rule.severity)),
                  )
                ),
              ),
            ),
          ),
      );
    } catch (e) {
      if (signal.aborted) return;
      replace(rulesBox, h("h3", { id: "h-rules" }, "Rules"), failure(e));
    }
  }

  async function loadDeliveries() {
    const signal = deliveryLoads.start();
    try {
      const answer = await api<DeliveriesAnswer>("/notifications/deliveries", {
        limit: DELIVERY_PAGE,
        offset: deliveryPage * DELIVERY_PAGE,
      }, signal);
      replace(
        deliveriesBox,
        answer.total === 0 ? message("empty", "No notification has been sent yet.") : h(
          "table",
          { className: "deliveries" },
          h(
            "thead",
            {},
            h(
              "tr",
              {},
              ["Time", "Channel", "Status", "Severity", "Events", "Attempts", "Error"].map((
                title,
              ) => h("th", { scope: "col" }, title)),
            ),
          ),
          h(
            "tbody",
            {},
            answer.deliveries.map((d) =>
              h(
                "tr",
                { "data-status": d.status },
                h("td", {}, formatTime(Date.parse(d.time))),
                h("td", {}, `${d.channel} (${d.channel_type})`),
                h("td", { className: `delivery ${d.status}` }, d.status),
                h("td", {}, severityBadge(d.severity)),
                h("td", { className: "num" }, String(d.event_ids.length)),
                h("td", { className: "num" }, String(d.attempts)),
                h("td", { className: "msg" }, d.error ?? ""),
              )
            ),
          ),
        ),
      );
      pagerOf(deliveryPager, answer.total, DELIVERY_PAGE, deliveryPage, (page) => {
        deliveryPage = page;
        loadDeliveries();
      });
    } catch (e) {
      if (signal.aborted) return;
      replace(deliveriesBox, failure(e));
      replace(deliveryPager);
    }
  }

  async function refresh() {
    clearTimeout(timer);
    const signal = loads.start();
    await Promise.all([
      loadActive(signal),
      rules ? Promise.resolve() : loadRules(signal),
      loadHistory(),
      loadDeliveries(),
    ]);
    // The loads end quietly when aborted: a refresh of a view the user left must not mark the
    // view now shown ready.
    if (signal.aborted) return;
    root.dataset.ready = "true";
    timer = setTimeout(refresh, REFRESH_MS);
  }

  view.onLeave(() => clearTimeout(timer));
  refresh();
}

export function pagerOf(
  pager: HTMLElement,
  total: number,
  size: number,
  page: number,
  go: (page: number) => void,
  labels: [string, string] = ["‹ Newer", "Older ›"],
): void {
  const pages = Math.ceil(total / size);
  if (pages <= 1) {
    replace(pager, total > 0 ? h("span", {}, `${total} in all`) : null);
    return;
  }
  replace(
    pager,
    h("button", { type: "button", disabled: page === 0, onclick: () => go(page - 1) }, labels[0]),
    h("span", {}, `Page ${page + 1} of ${pages} (${total} in all)`),
    h(
      "button",
      { type: "button", disabled: page >= pages - 1, onclick: () => go(page + 1) },
      labels[1],
    ),
  );
}
