/**
 * REST routes of the alert engine, mounted at `/api/v1/alerts`: `GET /rules`, `GET /history`,
 * `GET /active`. Field names follow the TOML keys and the rest of the API (snake_case);
 * timestamps are RFC 3339. Bad parameters throw `badParameter`, rendered by the app's `onError`.
 */
import type { Hono } from "hono";
import { toRfc3339 } from "../../shared/time.ts";
import { type AlertEvent, isSeverity } from "../../shared/types.ts";
import { badParameter } from "../api/errors.ts";
import { optionalText, PAGE_QUERY, pageParams, pageQuery, parseTime } from "../api/params.ts";
import { routeApp } from "../api/routes.ts";
import type { AlertRuleConfig } from "./config.ts";
import type { ActiveAlert, AlertEngine } from "./engine.ts";
import type { HistoryQuery } from "./store.ts";

export interface AlertRouteDeps {
  engine: Pick<AlertEngine, "rules" | "active" | "history">;
}

/** Events in one history page: 100 unless asked, 1,000 at most. */
export const HISTORY_PAGE = { defaultLimit: 100, maxLimit: 1000 };

const TIME = "RFC 3339 or Unix milliseconds";

export function createAlertRoutes(deps: AlertRouteDeps): Hono {
  const { engine } = deps;
  return routeApp([
    {
      method: "get",
      path: "/rules",
      summary: "Every configured alert rule",
      description: "Each rule with all its fields, under their TOML key names, in the order " +
        "of the configuration.",
      query: PAGE_QUERY,
      responses: {
        200: "`{total, limit, offset, rules: [...]}`; `total` counts every rule",
        400: "a bad page",
      },
      handler: (c) => {
        const page = pageParams(new URL(c.req.url).searchParams);
        return c.json({
          total: engine.rules.length,
          ...page,
          rules: engine.rules.slice(page.offset, page.offset + page.limit).map(ruleJson),
        });
      },
    },
    {
      method: "get",
      path: "/active",
      summary: "What is firing now, most severe first",
      query: PAGE_QUERY,
      responses: {
        400: "a bad page",
        200:
          "`{total, limit, offset, count, alerts: [{rule, rule_type, agent_id, metric, labels, severity, message, " +
          "value, threshold, since, last_notified, predicted_breach, r_squared, current_value, " +
          "current_at}]}`; `value` is the one last notified, `current_value` the series' newest " +
          "sample; `total` counts every firing alert, `count` those in this page",
      },
      handler: (c) => {
        const page = pageParams(new URL(c.req.url).searchParams);
        const active = engine.active();
        const alerts = active.slice(page.offset, page.offset + page.limit).map(activeJson);
        return c.json({ total: active.length, ...page, count: alerts.length, alerts });
      },
    },
    {
      method: "get",
      path: "/history",
      summary: "Recorded alert events, newest first",
      query: [
        { name: "severity", description: "`info`, `warning` or `critical`" },
        { name: "agent", description: "agent id" },
        { name: "rule", description: "rule name" },
        { name: "status", description: "`firing` or `resolved`" },
        { name: "from", description: `inclusive; ${TIME}` },
        { name: "to", description: `inclusive; ${TIME}` },
        ...pageQuery(HISTORY_PAGE),
      ],
      responses: {
        200: "`{total, limit, offset, events: [...]}`; `total` counts every matching event",
        400: "a bad parameter",
      },
      handler: (c) => {
        const query = historyQuery(new URL(c.req.url).searchParams);
        const page = engine.history(query);
        return c.json({
          total: page.total,
          limit: query.limit,
          offset: query.offset,
          events: page.events.map(eventJson),
        });
      },
    },
  ]);
}

function historyQuery(params: URLSearchParams): HistoryQuery {
  const severity = optionalText(params, "severity");
  if (severity !== undefined && !isSeverity(severity)) {
    throw badParameter("severity", `expected info, warning or critical, got "${severity}"`);
  }
  const status = optionalText(params, "status");
  if (status !== undefined && status !== "firing" && status !== "resolved") {
    throw badParameter("status", `expected firing or resolved, got "${status}"`);
  }
  const from = params.get("from");
  const to = params.get("to");
  const fromMs = from === null ? undefined : parseTime("from", from);
  const toMs = to === null ? undefined : parseTime("to", to);
  if (fromMs !== undefined && toMs !== undefined && fromMs > toMs) {
    throw badParameter(
      "from",
      `must not be after "to" (${toRfc3339(fromMs)} > ${toRfc3339(toMs)})`,
    );
  }
  return {
    severity,
    status,
    agentId: optionalText(params, "agent"),
    ruleName: optionalText(params, "rule"),
    fromMs,
    toMs,
    ...pageParams(params, HISTORY_PAGE),
  };
}

/** A rule with every field under its TOML key. */
export function ruleJson(rule: AlertRuleConfig): Record<string, unknown> {
  const base = {
    name: rule.name,
    type: rule.type,
    metric: rule.metric,
    agent_pattern: rule.agentPattern,
    labels: rule.labels,
    severity: rule.severity,
    silence_secs: rule.silenceSecs,
  };
  switch (rule.type) {
    case "threshold":
      return {
        ...base,
        operator: rule.operator,
        value: rule.value,
        duration_secs: rule.durationSecs,
      };
    case "rate_of_change":
      return { ...base, rate_threshold: rule.rateThreshold, window_secs: rule.windowSecs };
    case "trend_prediction":
      return {
        ...base,
        predict_threshold: rule.predictThreshold,
        horizon_secs: rule.horizonSecs,
        min_data_points: rule.minDataPoints,
        window_secs: rule.windowSecs,
      };
    case "agent_absent":
      return { ...base, absent_secs: rule.absentSecs };
    case "cert_expiration":
      return { ...base, warning_days: rule.warningDays, critical_days: rule.criticalDays };
    case "check_failed":
      return {
        ...base,
        consecutive_failures: rule.consecutiveFailures,
        duration_secs: rule.durationSecs,
      };
  }
}

/** JSON has no NaN; a value that could not be computed is null. */
function finite(value: number | undefined): number | null {
  return value !== undefined && Number.isFinite(value) ? value : null;
}

function optionalTime(ms: number | undefined): string | null {
  return ms === undefined ? null : toRfc3339(ms);
}

export function eventJson(event: AlertEvent): Record<string, unknown> {
  return {
    id: event.id,
    status: event.status,
    rule: event.ruleName,
    rule_type: event.ruleType,
    agent_id: event.agentId,
    metric: event.metricName,
    labels: event.labels,
    severity: event.severity,
    message: event.message,
    value: finite(event.value),
    threshold: finite(event.threshold),
    timestamp: toRfc3339(event.timestampMs),
    firing_since: optionalTime(event.firingSinceMs),
    predicted_breach: optionalTime(event.predictedBreachMs),
    r_squared: finite(event.rSquared),
  };
}

function activeJson(alert: ActiveAlert): Record<string, unknown> {
  return {
    rule: alert.ruleName,
    rule_type: alert.ruleType,
    agent_id: alert.agentId,
    metric: alert.metricName,
    labels: alert.labels,
    severity: alert.severity,
    message: alert.message,
    value: finite(alert.value),
    threshold: finite(alert.threshold),
    since: toRfc3339(alert.sinceMs),
    last_notified: toRfc3339(alert.lastNotifiedMs),
    predicted_breach: optionalTime(alert.predictedBreachMs),
    r_squared: finite(alert.rSquared),
    current_value: finite(alert.currentValue),
    current_at: optionalTime(alert.currentAtMs),
  };
}
