/**
 * Webhook channel: one HTTP request per notification. Without `body_template` the body is the
 * event as JSON (the original oxmon's fields), or, for an aggregated notification,
 * `{"aggregated": true, "count", "severity", "message", "events": [...]}`.
 */
import type { WebhookChannelConfig } from "../config.ts";
import {
  EVENT_FIELD_NAMES,
  eventFields,
  eventToJson,
  highestSeverity,
  summaryText,
} from "../message.ts";
import { compileTemplate, formatForContentType, type TemplateFormat } from "../template.ts";
import type { Sender } from "./types.ts";
import { sendHttp, withDefaultHeader } from "./_http.ts";

const CONTENT_TYPES: Record<TemplateFormat, string> = {
  json: "application/json",
  text: "text/plain; charset=utf-8",
  form: "application/x-www-form-urlencoded",
  query: "text/plain; charset=utf-8",
};

export function createWebhookSender(config: WebhookChannelConfig): Sender {
  const contentType = Object.entries(config.headers).find(([name]) =>
    name.toLowerCase() === "content-type"
  )?.[1];
  const template = config.bodyTemplate === undefined ? undefined : compileTemplate(
    config.bodyTemplate,
    { known: EVENT_FIELD_NAMES, format: formatForContentType(contentType) },
  );
  const headers = withDefaultHeader(
    config.headers,
    "content-type",
    CONTENT_TYPES[template?.format ?? "json"],
  );
  return {
    compose(events) {
      let body: string;
      if (template) body = template.render(eventFields(events));
      else if (events.length === 1) body = JSON.stringify(eventToJson(events[0]));
      else {
        body = JSON.stringify({
          aggregated: true,
          count: events.length,
          severity: highestSeverity(events),
          message: summaryText(events),
          events: events.map(eventToJson),
        });
      }
      return (signal) => sendHttp(config.url, { method: config.method, headers, body }, signal);
    },
    close: () => Promise.resolve(),
  };
}
