/**
 * What a notification says: the template fields of one or more events, and the texts shared by
 * the channels (one line per event, the SMS text, the mail subject and body).
 */
import { toRfc3339 } from "../../shared/time.ts";
import { type AlertEvent, type Severity, severityRank } from "../../shared/types.ts";
import { formatNumber, type TemplateValue } from "./template.ts";

/** Placeholders every webhook and SMS template may use. */
export const EVENT_FIELD_NAMES = [
  "id",
  "rule",
  "rule_name",
  "rule_type",
  "agent_id",
  "metric",
  "labels",
  "severity",
  "status",
  "message",
  "value",
  "threshold",
  "timestamp",
  "timestamp_ms",
  "predicted_breach",
  "r_squared",
  "count",
  "summary",
  "events",
] as const;

export function highestSeverity(events: readonly AlertEvent[]): Severity {
  let highest: Severity = "info";
  for (const event of events) {
    if (severityRank(event.severity) > severityRank(highest)) highest = event.severity;
  }
  return highest;
}

export function formatLabels(labels: Readonly<Record<string, string>>): string {
  return Object.entries(labels).map(([name, value]) => `${name}=${value}`).join(",");
}

/** The event as a plain JSON object (the webhook's default body for one event). */
export function eventToJson(event: AlertEvent): Record<string, TemplateValue> {
  const json: Record<string, TemplateValue> = {
    id: event.id,
    alert_id: event.id,
    rule_name: event.ruleName,
    rule_type: event.ruleType,
    agent_id: event.agentId,
    metric: event.metricName,
    labels: { ...event.labels },
    severity: event.severity,
    status: event.status,
    message: event.message,
    value: event.value,
    threshold: event.threshold,
    timestamp: toRfc3339(event.timestampMs),
  };
  if (event.predictedBreachMs !== undefined) {
    json.predicted_breach = toRfc3339(event.predictedBreachMs);
  }
  if (event.rSquared !== undefined) json.r_squared = event.rSquared;
  return json;
}

/** `[CRITICAL] high-cpu web-1 cpu.usage{core=0} = 95.5 (threshold 90): message` */
export function eventLine(event: AlertEvent): string {
  const tag = event.status === "resolved" ? "RESOLVED" : event.severity.toUpperCase();
  const labels = Object.keys(event.labels).length > 0 ? `{${formatLabels(event.labels)}}` : "";
  return `[${tag}] ${event.ruleName} ${event.agentId} ${event.metricName}${labels} = ` +
    `${formatNumber(event.value)} (threshold ${formatNumber(event.threshold)}): ${event.message}`;
}

/** One line per event. */
export function summaryText(events: readonly AlertEvent[]): string {
  return events.map(eventLine).join("\n");
}

/**
 * Template fields for a notification. With one event each field is that event's; with several
 * (aggregation), `message` lists every event one per line, `severity` is the highest, `count` and
 * `events` describe all, and any other field holds its one shared value, or the list of the
 * differing values (a JSON array outside a JSON string, joined by ", " elsewhere).
 */
export function eventFields(events: readonly AlertEvent[]): Record<string, TemplateValue> {
  const perEvent = (pick: (event: AlertEvent) => TemplateValue): TemplateValue => {
    const values = events.map(pick);
    const distinct = [...new Map(values.map((value) => [JSON.stringify(value), value])).values()];
    return distinct.length === 1 ? distinct[0] : distinct;
  };
  const fields: Record<string, TemplateValue> = {
    id: perEvent((event) => event.id),
    rule: perEvent((event) => event.ruleName),
    rule_name: perEvent((event) => event.ruleName),
    rule_type: perEvent((event) => event.ruleType),
    agent_id: perEvent((event) => event.agentId),
    metric: perEvent((event) => event.metricName),
    labels: perEvent((event) => formatLabels(event.labels)),
    severity: highestSeverity(events),
    status: perEvent((event) => event.status),
    message: events.length === 1 ? events[0].message : summaryText(events),
    value: perEvent((event) => event.value),
    threshold: perEvent((event) => event.threshold),
    timestamp: perEvent((event) => toRfc3339(event.timestampMs)),
    timestamp_ms: perEvent((event) => event.timestampMs),
    predicted_breach: perEvent((event) =>
      event.predictedBreachMs === undefined ? null : toRfc3339(event.predictedBreachMs)
    ),
    r_squared: perEvent((event) => event.rSquared ?? null),
    count: events.length,
    summary: summaryText(events),
    events: events.map(eventToJson),
  };
  return fields;
}

/** The short text an SMS carries, in the original oxmon's format. */
export function smsText(events: readonly AlertEvent[]): string {
  const one = (event: AlertEvent) => {
    const resolved = event.status === "resolved" ? "[RESOLVED]" : "";
    return `[${event.severity}]${resolved} ${event.ruleName} ${event.agentId}: ${event.message}`;
  };
  if (events.length === 1) return `[oxmon]${one(events[0])}`;
  return `[oxmon] ${events.length} alerts: ${events.map(one).join("; ")}`;
}

function oneLine(text: string): string {
  return text.replace(/[\r\n]+/g, " ").trim();
}

export function mailSubject(events: readonly AlertEvent[]): string {
  if (events.length === 1) {
    const event = events[0];
    const tag = event.status === "resolved" ? "RESOLVED" : event.severity.toUpperCase();
    return oneLine(`[oxmon] ${tag} ${event.ruleName} on ${event.agentId}: ${event.message}`);
  }
  const rules = [...new Set(events.map((event) => event.ruleName))].join(", ");
  return oneLine(
    `[oxmon] ${events.length} alerts, highest ${highestSeverity(events).toUpperCase()}: ${rules}`,
  );
}

export function mailBody(events: readonly AlertEvent[]): string {
  const blocks = events.map((event) => {
    const lines = [
      eventLine(event),
      `  rule:      ${event.ruleName} (${event.ruleType})`,
      `  agent:     ${event.agentId}`,
      `  metric:    ${event.metricName}${
        Object.keys(event.labels).length ? ` {${formatLabels(event.labels)}}` : ""
      }`,
      `  severity:  ${event.severity}`,
      `  status:    ${event.status}`,
      `  value:     ${formatNumber(event.value)}`,
      `  threshold: ${formatNumber(event.threshold)}`,
      `  time:      ${toRfc3339(event.timestampMs)}`,
    ];
    if (event.predictedBreachMs !== undefined) {
      lines.push(`  predicted breach: ${toRfc3339(event.predictedBreachMs)}`);
    }
    if (event.rSquared !== undefined) lines.push(`  fit R²:    ${event.rSquared.toFixed(3)}`);
    lines.push(`  event id:  ${event.id}`, `  message:   ${event.message}`);
    return lines.join("\n");
  });
  const head = events.length === 1 ? "" : `${events.length} alerts:\n\n`;
  return `${head}${blocks.join("\n\n")}\n\n-- \nSent by oxmon\n`;
}
