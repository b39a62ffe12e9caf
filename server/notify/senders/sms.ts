/**
 * SMS channel through an HTTP gateway. By default it speaks the original oxmon's generic gateway
 * protocol: `POST gateway_url` with `Authorization: Bearer <api_key>` and the JSON body
 * `{"to": "<phone>", "message": "<text>"}`, one request per phone number. `method`, `headers`,
 * `body_template`, `query_template` and `per_recipient = false` (one request for all numbers,
 * `{{to}}` then joins them with ",") adapt it to other gateways.
 */
import type { AlertEvent } from "../../../shared/types.ts";
import { SMS_FIELD_NAMES, type SmsChannelConfig } from "../config.ts";
import { eventFields, smsText } from "../message.ts";
import { compileTemplate, formatForContentType } from "../template.ts";
import type { Sender } from "./types.ts";
import { sendHttp, withDefaultHeader } from "./_http.ts";

export function createSmsSender(config: SmsChannelConfig): Sender {
  let headers: Record<string, string> = { ...config.headers };
  if (config.apiKey !== undefined) {
    headers = withDefaultHeader(headers, "authorization", `Bearer ${config.apiKey}`);
  }
  const contentType = Object.entries(headers).find(([name]) =>
    name.toLowerCase() === "content-type"
  )?.[1];
  const bodyTemplate = config.bodyTemplate === undefined ? undefined : compileTemplate(
    config.bodyTemplate,
    { known: SMS_FIELD_NAMES, format: formatForContentType(contentType) },
  );
  const queryTemplate = config.queryTemplate === undefined
    ? undefined
    : compileTemplate(config.queryTemplate, { known: SMS_FIELD_NAMES, format: "query" });
  if (config.method !== "GET") {
    headers = withDefaultHeader(
      headers,
      "content-type",
      bodyTemplate?.format === "text"
        ? "text/plain; charset=utf-8"
        : bodyTemplate?.format === "form"
        ? "application/x-www-form-urlencoded"
        : "application/json",
    );
  }

  const request = (to: string | readonly string[], events: readonly AlertEvent[]) => {
    const text = smsText(events);
    const fields = {
      ...eventFields(events),
      to: typeof to === "string" ? to : to.join(","),
      text,
      api_key: config.apiKey ?? "",
    };
    const url = new URL(config.gatewayUrl);
    if (queryTemplate) {
      const extra = queryTemplate.render(fields).replace(/^[?&]+/, "");
      url.search = url.search ? `${url.search}&${extra}` : `?${extra}`;
    } else if (config.method === "GET") {
      url.searchParams.append("to", fields.to);
      url.searchParams.append("message", text);
    }
    let body: string | undefined;
    if (config.method !== "GET") {
      body = bodyTemplate ? bodyTemplate.render(fields) : JSON.stringify({ to, message: text });
    }
    return { url: url.toString(), init: { method: config.method, headers, body } };
  };

  return {
    compose(events) {
      const targets: (string | readonly string[])[] = config.perRecipient
        ? [...config.recipients]
        : [config.recipients];
      const requests = targets.map((to) => ({ to, ...request(to, events) }));
      const done = new Set<number>();
      return async (signal) => {
        const failures: string[] = [];
        for (const [index, { to, url, init }] of requests.entries()) {
          if (done.has(index)) continue;
          try {
            await sendHttp(url, init, signal);
            done.add(index);
          } catch (error) {
            if (signal.aborted) throw error;
            failures.push(`${typeof to === "string" ? to : to.join(",")}: ${errorText(error)}`);
          }
        }
        if (failures.length > 0) throw new Error(failures.join("; "));
      };
    },
    close: () => Promise.resolve(),
  };
}

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
